"""The room's rules: chat and questions, hands, upvotes, replay, going live and ending, moderation."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from elearn.extensions import db
from elearn.models import User
from elearn.service.errors import Forbidden, NotFound, ServiceError
from live.models import (
    Lecture,
    LectureMessage,
    LectureQuiz,
    LectureStatus,
    MessageKind,
    Poll,
    QuestionUpvote,
    Sanction,
    SanctionKind,
)
from live.service.attendance import (
    close_all_intervals,
    record_lesson_completions,
    record_training_facts,
)
from live.service.audience import (
    _sanction,
    is_banned,
    is_host,
    is_muted,
    lecture_rule,
    sanctions_on,
)
from live.service.base import (
    MAX_FILTER_WORDS,
    MAX_SLOW_MODE,
    MAX_TEXT,
    REPLAY_LIMIT,
    _now,
)

# --- the room -----------------------------------------------------------------------------------


def room_lecture(lecture_id: int) -> Lecture | None:
    """The lecture a room event acts on, with its co-hosts, in one query."""
    return db.session.get(Lecture, lecture_id, options=[joinedload(Lecture.cohosts)])


def check_can_join(actor: User, lecture: Lecture) -> None:
    """Refuse a viewer who is not in the audience (as a 404) or is banned.

    An ended lecture's room can still be joined, read-only: its messages, and the ``recording``
    event when the replay is ready; every event that would post something is refused.
    """
    if not lecture_rule(actor, "view", lecture):
        raise NotFound(_("This lecture does not exist, or is not for you."))
    if is_banned(actor, lecture) and not is_host(actor, lecture):
        raise Forbidden(_("You have been removed from this lecture."))


def _require_host(actor: User, lecture: Lecture) -> None:
    if not is_host(actor, lecture):
        raise Forbidden(_("Only the lecturer and co-hosts can do this."))


def _clean_text(raw: Any) -> str:
    if not isinstance(raw, str):
        raise ServiceError(_("Send the message as text."))
    text = raw.strip()
    if not text:
        raise ServiceError(_("The message is empty."))
    if len(text) > MAX_TEXT:
        raise ServiceError(_("The message is too long (at most %(n)d characters).", n=MAX_TEXT))
    return text


def _mask(text: str, words: list[str]) -> str:
    lowered = text.lower()
    chars = list(text)
    for word in words:
        if not word:
            continue
        start = lowered.find(word)
        while start != -1:
            chars[start : start + len(word)] = ["*"] * len(word)
            start = lowered.find(word, start + len(word))
    return "".join(chars)


def post_message(
    *, actor: User, lecture: Lecture, kind: MessageKind, text: Any, now: datetime | None = None
) -> LectureMessage:
    """A chat line or a question from someone in the room, under the room's rules."""
    now = now or _now()
    host = is_host(actor, lecture)
    text = _clean_text(text)
    if lecture.status == LectureStatus.ENDED:
        raise ServiceError(_("This lecture has ended."), status=409)
    if not host:
        sanctions = sanctions_on(actor, lecture)
        if SanctionKind.BAN in sanctions:
            raise Forbidden(_("You have been removed from this lecture."))
        if SanctionKind.MUTE in sanctions:
            raise Forbidden(_("You have been muted in this lecture."))
        if kind == MessageKind.CHAT and not lecture.chat_enabled:
            raise Forbidden(_("Chat is turned off."))
        if lecture.slow_mode_seconds:
            last = db.session.scalar(
                select(func.max(LectureMessage.created_at)).where(
                    LectureMessage.lecture_id == lecture.id,
                    LectureMessage.author_id == actor.id,
                    LectureMessage.kind.in_([MessageKind.CHAT, MessageKind.QUESTION]),
                )
            )
            if last is not None and (now - last).total_seconds() < lecture.slow_mode_seconds:
                raise ServiceError(
                    _(
                        "Slow mode: one message every %(n)d seconds.",
                        n=lecture.slow_mode_seconds,
                    ),
                    status=429,
                )
        text = _mask(text, list(lecture.word_filter or []))
    message = LectureMessage(
        lecture_id=lecture.id,
        kind=kind.value,
        author_id=actor.id,
        author=actor,
        text=text,
        is_deleted=False,
        upvotes=0,
        created_at=now,
    )
    db.session.add(message)
    db.session.flush()
    return message


def raise_hand(*, actor: User, lecture: Lecture) -> LectureMessage:
    """A raised hand: stored like any message, shown to hosts only."""
    if lecture.status == LectureStatus.ENDED:
        raise ServiceError(_("This lecture has ended."), status=409)
    if is_muted(actor, lecture):
        raise Forbidden(_("You have been muted in this lecture."))
    message = LectureMessage(
        lecture_id=lecture.id,
        kind=MessageKind.HAND.value,
        author_id=actor.id,
        author=actor,
        text="",
        is_deleted=False,
        upvotes=0,
    )
    db.session.add(message)
    db.session.flush()
    return message


def upvote(*, actor: User, lecture: Lecture, message_id: Any) -> LectureMessage:
    """One upvote per person per question, while the lecture runs."""
    if lecture.status == LectureStatus.ENDED:
        raise ServiceError(_("This lecture has ended."), status=409)
    message = _message_of(lecture, message_id)
    if message.kind != MessageKind.QUESTION or message.is_deleted:
        raise ServiceError(_("Only questions can be upvoted."))
    exists = db.session.scalar(
        select(QuestionUpvote.id).filter_by(message_id=message.id, user_id=actor.id)
    )
    if exists is not None:
        raise ServiceError(_("You have already upvoted this question."), status=409)
    db.session.add(QuestionUpvote(message_id=message.id, user_id=actor.id))
    message.upvotes = (message.upvotes or 0) + 1
    db.session.flush()
    return message


def _message_of(lecture: Lecture, message_id: Any) -> LectureMessage:
    try:
        message = db.session.get(LectureMessage, int(message_id))
    except (TypeError, ValueError):
        message = None
    if message is None or message.lecture_id != lecture.id:
        raise NotFound(_("No such message."))
    return message


def message_json(message: LectureMessage) -> dict[str, Any]:
    author = message.author
    return {
        "id": message.id,
        "kind": message.kind,
        "text": "" if message.is_deleted else message.text,
        "author": {"id": author.id, "name": author.display_name} if author else None,
        "upvotes": message.upvotes,
        "poll_id": message.poll_id,
        "quiz_id": message.quiz_id,
        "deleted": message.is_deleted,
        "created_at": message.created_at.isoformat(),
    }


def replay(*, actor: User, lecture: Lecture, after_id: Any) -> list[LectureMessage]:
    """Messages after ``after_id`` that ``actor`` may see (hands only for hosts), oldest first."""
    try:
        after = max(0, int(after_id or 0))
    except (TypeError, ValueError):
        after = 0
    query = select(LectureMessage).where(
        LectureMessage.lecture_id == lecture.id, LectureMessage.id > after
    )
    if not is_host(actor, lecture):
        query = query.where(LectureMessage.kind != MessageKind.HAND)
    if after == 0:
        # a first join gets the most recent page, not the whole history
        newest = list(
            db.session.scalars(query.order_by(LectureMessage.id.desc()).limit(REPLAY_LIMIT))
        )
        return newest[::-1]
    return list(db.session.scalars(query.order_by(LectureMessage.id).limit(REPLAY_LIMIT)))


def set_status(*, actor: User, lecture: Lecture, status: LectureStatus) -> Lecture:
    """Go live or end the lecture (hosts only); ending closes attendance and polls."""
    _require_host(actor, lecture)
    now = _now()
    if status == LectureStatus.LIVE:
        if lecture.status == LectureStatus.ENDED:
            raise ServiceError(_("This lecture has ended."), status=409)
        if lecture.status != LectureStatus.LIVE:
            lecture.status = LectureStatus.LIVE
            lecture.started_at = now
    elif status == LectureStatus.ENDED:
        if lecture.status == LectureStatus.ENDED:
            return lecture
        lecture.status = LectureStatus.ENDED
        lecture.started_at = lecture.started_at or now
        lecture.ended_at = now
        for poll in db.session.scalars(select(Poll).filter_by(lecture_id=lecture.id, is_open=True)):
            poll.is_open = False
            poll.closed_at = now
        for quiz in db.session.scalars(
            select(LectureQuiz).filter_by(lecture_id=lecture.id, is_open=True)
        ):
            quiz.is_open = False
            quiz.closed_at = now
        db.session.flush()
        close_all_intervals(lecture, now=now)
        record_training_facts(lecture)
        record_lesson_completions(lecture, now=now)
    db.session.add(
        LectureMessage(
            lecture_id=lecture.id,
            kind=MessageKind.SYSTEM.value,
            author_id=actor.id,
            text=str(lecture.status),
            is_deleted=False,
            upvotes=0,
        )
    )
    db.session.flush()
    return lecture


# --- moderation ---------------------------------------------------------------------------------


@dataclass
class Moderation:
    """What a moderation changed, for the boundary to broadcast and enforce."""

    action: str
    message: LectureMessage | None = None
    user_id: int | None = None
    settings: dict[str, Any] = field(default_factory=dict)


def _target_user(lecture: Lecture, raw: Any) -> User:
    try:
        user = db.session.get(User, int(raw))
    except (TypeError, ValueError):
        user = None
    if user is None:
        raise NotFound(_("No such user."))
    if is_host(user, lecture):
        raise ServiceError(_("The lecturer and co-hosts cannot be muted or removed."))
    return user


def _sanction_on(actor: User, lecture: Lecture, user: User, kind: SanctionKind) -> None:
    if _sanction(lecture, user.id, kind) is None:
        db.session.add(
            Sanction(
                lecture_id=lecture.id, user_id=user.id, kind=kind.value, created_by_id=actor.id
            )
        )


def _sanction_off(lecture: Lecture, user: User, kind: SanctionKind) -> None:
    row = _sanction(lecture, user.id, kind)
    if row is not None:
        db.session.delete(row)


def room_settings(lecture: Lecture) -> dict[str, Any]:
    return {
        "chat_enabled": lecture.chat_enabled,
        "slow_mode_seconds": lecture.slow_mode_seconds,
        "status": lecture.status,
        "ended_at": lecture.ended_at.isoformat() if lecture.ended_at else None,
    }


def moderate(*, actor: User, lecture: Lecture, data: Any) -> Moderation:
    """Host actions: delete a message, mute/unmute, ban/unban, slow mode, word filter, chat on/off."""
    _require_host(actor, lecture)
    if not isinstance(data, dict):
        raise ServiceError(_("Unknown moderation action."))
    action = data.get("action")
    if action == "delete":
        message = _message_of(lecture, data.get("message_id"))
        message.is_deleted = True
        db.session.flush()
        return Moderation(action, message=message)
    if action in {"mute", "unmute", "ban", "unban"}:
        user = _target_user(lecture, data.get("user_id"))
        kind = SanctionKind.MUTE if action in {"mute", "unmute"} else SanctionKind.BAN
        if action.startswith("un"):
            _sanction_off(lecture, user, kind)
        else:
            _sanction_on(actor, lecture, user, kind)
        db.session.flush()
        return Moderation(action, user_id=user.id)
    if action == "slow_mode":
        try:
            seconds = int(data.get("seconds", 0))
        except (TypeError, ValueError):
            seconds = -1
        if not 0 <= seconds <= MAX_SLOW_MODE:
            raise ServiceError(_("Slow mode takes 0 to %(n)d seconds.", n=MAX_SLOW_MODE))
        lecture.slow_mode_seconds = seconds
    elif action == "word_filter":
        words = data.get("words")
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            raise ServiceError(_("Send the filtered words as a list."))
        cleaned = sorted({w.strip().lower() for w in words if w.strip()})
        lecture.word_filter = cleaned[:MAX_FILTER_WORDS]
    elif action == "chat":
        lecture.chat_enabled = bool(data.get("enabled"))
    else:
        raise ServiceError(_("Unknown moderation action."))
    db.session.flush()
    return Moderation(action, settings=room_settings(lecture))
