"""Use cases of live lectures: scheduling and audience, the room's rules, polls, attendance.

Every function takes its actor explicitly, flushes and never commits; the boundary (API view,
Socket.IO handler, task) commits. Refusals are ``ServiceError``s with a translated message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, literal, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.sql import Select

from elearn.extensions import db
from elearn.models import FactKind, Role, Unit, User
from elearn.models.accounts import ADMIN_ROLES
from elearn.permissions import admin_paths, scope_paths
from elearn.service import coverage, org
from elearn.service.errors import Forbidden, NotFound, ServiceError
from live.models import (
    Attendance,
    AttendanceInterval,
    Lecture,
    LectureAudience,
    LectureCohost,
    LectureMessage,
    LectureStatus,
    MessageKind,
    Poll,
    PollVote,
    QuestionUpvote,
    Sanction,
    SanctionKind,
)

#: who may schedule and host a lecture
HOST_ROLES = frozenset({Role.EXPERT, Role.TEACHER, *ADMIN_ROLES})
#: roles an audience row may name
AUDIENCE_ROLES = frozenset({Role.STUDENT, Role.TEACHER, Role.GUARDIAN})
MAX_TEXT = 500
MAX_TITLE = 200
MAX_POLL_CHOICES = 10
MAX_FILTER_WORDS = 200
MAX_SLOW_MODE = 3600
MAX_HEADCOUNT = 500
REPLAY_LIMIT = 500


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


# --- who is who in a lecture --------------------------------------------------------------------


def is_host(user: User, lecture: Lecture) -> bool:
    """The lecturer or a co-host."""
    return user.id == lecture.lecturer_id or any(c.user_id == user.id for c in lecture.cohosts)


def in_audience(user: User, lecture: Lecture) -> bool:
    """True when one of the user's roles lies under an audience unit (with the role, if named)."""
    for assignment in user.roles:
        for row in lecture.audience:
            if assignment.unit.path.startswith(row.unit.path) and (
                row.role is None or row.role == assignment.role
            ):
                return True
    return False


def _admin_reach(user: User, lecture: Lecture) -> str:
    """'all' for an admin over the lecture's owner unit, 'part' over part of its audience."""
    paths = admin_paths(user)
    if not paths:
        return ""
    if any(lecture.owner_unit.path.startswith(path) for path in paths):
        return "all"
    for row in lecture.audience:
        if any(row.unit.path.startswith(path) or path.startswith(row.unit.path) for path in paths):
            return "part"
    return ""


def lecture_rule(actor: User, action: str, lecture: Lecture) -> bool:
    """The permission rule registered for ``Lecture`` (elearn.permissions)."""
    if action == "view":
        return (
            is_host(actor, lecture)
            or in_audience(actor, lecture)
            or bool(_admin_reach(actor, lecture))
        )
    if action == "host":
        return is_host(actor, lecture)
    if action == "view_attendance":
        return is_host(actor, lecture) or bool(_admin_reach(actor, lecture))
    return False


def sanctions_on(user: User, lecture: Lecture) -> set[str]:
    """The sanctions (mute, ban) the user is under in this lecture, in one query."""
    return set(
        db.session.scalars(select(Sanction.kind).filter_by(lecture_id=lecture.id, user_id=user.id))
    )


def is_banned(user: User, lecture: Lecture) -> bool:
    return SanctionKind.BAN in sanctions_on(user, lecture)


def is_muted(user: User, lecture: Lecture) -> bool:
    return SanctionKind.MUTE in sanctions_on(user, lecture)


def _sanction(lecture: Lecture, user_id: int, kind: SanctionKind) -> Sanction | None:
    return db.session.scalar(
        select(Sanction).filter_by(lecture_id=lecture.id, user_id=user_id, kind=kind.value)
    )


# --- scheduling ---------------------------------------------------------------------------------


def _home_unit(user: User) -> Unit | None:
    units = [a.unit for a in user.roles if a.role in HOST_ROLES]
    return min(units, key=lambda unit: len(unit.path)) if units else None


def may_schedule(user: User) -> bool:
    return user.has_role(*HOST_ROLES)


def _parse_audience(actor: User, owner: Unit, raw: Any) -> list[tuple[Unit, str | None]]:
    if not isinstance(raw, list) or not raw:
        raise ServiceError(_("Choose who the lecture is for."))
    paths = scope_paths(actor)
    rows: list[tuple[Unit, str | None]] = []
    for entry in raw:
        if not isinstance(entry, dict) or not ({"unit_id", "role"} & set(entry)):
            raise ServiceError(_("Each audience entry needs a unit_id or a role."))
        role = entry.get("role")
        if role is not None and role not in AUDIENCE_ROLES:
            raise ServiceError(_("The audience role must be students, teachers or guardians."))
        unit: Unit | None = owner
        if entry.get("unit_id") is not None:
            try:
                unit = db.session.get(Unit, int(entry["unit_id"]))
            except (TypeError, ValueError):
                unit = None
            if unit is None or not any(unit.path.startswith(path) for path in paths):
                raise ServiceError(_("An audience unit does not exist or is outside your scope."))
        assert unit is not None
        if (unit.id, role) not in {(u.id, r) for u, r in rows}:
            rows.append((unit, role))
    return rows


def create_lecture(
    *,
    actor: User,
    title: str,
    starts_at: datetime,
    audience: Any,
    is_training: bool = False,
    cohosts: list[User] | None = None,
) -> Lecture:
    """Schedule a lecture by ``actor`` for an audience of units and/or roles within their scope."""
    owner = _home_unit(actor)
    if owner is None:
        raise Forbidden(_("Only experts, teachers and admins can schedule lectures."))
    title = (title or "").strip() if isinstance(title, str) else ""
    if not title:
        raise ServiceError(_("Give the lecture a title."))
    if len(title) > MAX_TITLE:
        raise ServiceError(_("The title is too long (at most %(n)d characters).", n=MAX_TITLE))
    if not isinstance(starts_at, datetime) or starts_at.tzinfo is None:
        raise ServiceError(
            _("Give the start time with its time zone, e.g. 2025-03-01T09:00+08:00.")
        )
    rows = _parse_audience(actor, owner, audience)
    lecture = Lecture(
        title=title,
        lecturer_id=actor.id,
        owner_unit_id=owner.id,
        starts_at=starts_at,
        status=LectureStatus.SCHEDULED,
        is_training=bool(is_training),
        chat_enabled=True,
        slow_mode_seconds=0,
        word_filter=[],
        created_by_id=actor.id,
    )
    db.session.add(lecture)
    for unit, role in rows:
        lecture.audience.append(LectureAudience(unit_id=unit.id, unit=unit, role=role))
    for cohost in cohosts or []:
        if cohost.id != actor.id:
            lecture.cohosts.append(LectureCohost(user_id=cohost.id, user=cohost))
    db.session.flush()
    return lecture


def _audience_clause(user: User) -> Any:
    """SQL: an audience row matching one of the user's roles."""
    clauses = []
    for assignment in user.roles:
        under = literal(assignment.unit.path).startswith(Unit.path, autoescape=False)
        clauses.append(
            under & or_(LectureAudience.role.is_(None), LectureAudience.role == assignment.role)
        )
    return or_(*clauses) if clauses else literal(False)


def visible_lectures(user: User) -> Select[Any]:
    """The lectures ``user`` may watch or host (or, as an admin, oversee)."""
    audience_ids = (
        select(LectureAudience.lecture_id)
        .join(Unit, Unit.id == LectureAudience.unit_id)
        .where(_audience_clause(user))
    )
    cohost_ids = select(LectureCohost.lecture_id).where(LectureCohost.user_id == user.id)
    conditions = [
        Lecture.lecturer_id == user.id,
        Lecture.id.in_(audience_ids),
        Lecture.id.in_(cohost_ids),
    ]
    for path in admin_paths(user):
        owned = select(Unit.id).where(Unit.path.startswith(path, autoescape=False))
        conditions.append(Lecture.owner_unit_id.in_(owned))
        reached = (
            select(LectureAudience.lecture_id)
            .join(Unit, Unit.id == LectureAudience.unit_id)
            .where(
                or_(
                    Unit.path.startswith(path, autoescape=False),
                    literal(path).startswith(Unit.path, autoescape=False),
                )
            )
        )
        conditions.append(Lecture.id.in_(reached))
    return (
        select(Lecture)
        .where(or_(*conditions))
        .options(
            joinedload(Lecture.lecturer),
            joinedload(Lecture.owner_unit),
            selectinload(Lecture.audience),
        )
        .order_by(Lecture.starts_at, Lecture.id)
    )


def upcoming_for(user: User, *, now: datetime | None = None, limit: int = 5) -> list[Lecture]:
    """Lectures not yet over that the user is in the audience of or hosts (for the home page)."""
    now = now or _now()
    query = visible_lectures(user).where(
        Lecture.status != LectureStatus.ENDED, Lecture.starts_at >= now - timedelta(hours=6)
    )
    return [
        lecture
        for lecture in db.session.scalars(query.limit(limit * 4))
        if is_host(user, lecture) or in_audience(user, lecture)
    ][:limit]


def lecture_json(lecture: Lecture, viewer: User | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": lecture.id,
        "title": lecture.title,
        "lecturer": {"id": lecture.lecturer.id, "name": lecture.lecturer.display_name},
        "starts_at": _aware(lecture.starts_at).isoformat(),  # type: ignore[union-attr]
        "status": lecture.status,
        "is_training": lecture.is_training,
        "audience": [
            {"unit_id": row.unit_id, "unit_name": row.unit.name, "role": row.role}
            for row in lecture.audience
        ],
        "cohost_ids": [c.user_id for c in lecture.cohosts],
        "chat_enabled": lecture.chat_enabled,
        "slow_mode_seconds": lecture.slow_mode_seconds,
    }
    if viewer is not None:
        data["is_host"] = is_host(viewer, lecture)
    return data


# --- the room -----------------------------------------------------------------------------------


def check_can_join(actor: User, lecture: Lecture) -> None:
    """Refuse a viewer who is not in the audience (as a 404) or is banned."""
    if not lecture_rule(actor, "view", lecture):
        raise NotFound(_("This lecture does not exist, or is not for you."))
    if is_banned(actor, lecture) and not is_host(actor, lecture):
        raise Forbidden(_("You have been removed from this lecture."))
    if lecture.status == LectureStatus.ENDED and not is_host(actor, lecture):
        raise ServiceError(_("This lecture has ended."), status=409)


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
            last = _aware(last)
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
    """One upvote per person per question."""
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
        "deleted": message.is_deleted,
        "created_at": _aware(message.created_at).isoformat(),  # type: ignore[union-attr]
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
        db.session.flush()
        close_all_intervals(lecture, now=now)
        record_training_facts(lecture)
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


# --- polls --------------------------------------------------------------------------------------


def current_poll(lecture: Lecture) -> Poll | None:
    return db.session.scalar(
        select(Poll).filter_by(lecture_id=lecture.id, is_open=True).order_by(Poll.id.desc())
    )


def start_poll(*, actor: User, lecture: Lecture, question: Any, choices: Any) -> Poll:
    """Open a poll (closing any open one); hosts only."""
    _require_host(actor, lecture)
    if lecture.status == LectureStatus.ENDED:
        raise ServiceError(_("This lecture has ended."), status=409)
    question = _clean_text(question)
    if (
        not isinstance(choices, list)
        or not 2 <= len(choices) <= MAX_POLL_CHOICES
        or not all(isinstance(c, str) and c.strip() for c in choices)
    ):
        raise ServiceError(_("A poll needs 2 to %(n)d non-empty choices.", n=MAX_POLL_CHOICES))
    now = _now()
    for poll in db.session.scalars(select(Poll).filter_by(lecture_id=lecture.id, is_open=True)):
        poll.is_open = False
        poll.closed_at = now
    poll = Poll(
        lecture_id=lecture.id,
        question=question,
        choices=[c.strip()[:200] for c in choices],
        is_open=True,
        created_by_id=actor.id,
    )
    db.session.add(poll)
    db.session.flush()
    db.session.add(
        LectureMessage(
            lecture_id=lecture.id,
            kind=MessageKind.POLL.value,
            author_id=actor.id,
            text=question,
            poll_id=poll.id,
            is_deleted=False,
            upvotes=0,
        )
    )
    db.session.flush()
    return poll


def poll_of(lecture: Lecture, poll_id: Any) -> Poll:
    try:
        poll = db.session.get(Poll, int(poll_id))
    except (TypeError, ValueError):
        poll = None
    if poll is None or poll.lecture_id != lecture.id:
        raise NotFound(_("No such poll."))
    return poll


def end_poll(*, actor: User, lecture: Lecture, poll: Poll) -> Poll:
    _require_host(actor, lecture)
    if poll.is_open:
        poll.is_open = False
        poll.closed_at = _now()
        db.session.flush()
    return poll


def vote(*, actor: User, lecture: Lecture, poll: Poll, choice: Any) -> PollVote:
    """One vote per person per poll, while it is open."""
    if not poll.is_open:
        raise ServiceError(_("This poll is closed."), status=409)
    if (
        not isinstance(choice, int)
        or isinstance(choice, bool)
        or not 0 <= choice < len(poll.choices)
    ):
        raise ServiceError(_("Choose one of the poll's answers."))
    exists = db.session.scalar(select(PollVote.id).filter_by(poll_id=poll.id, user_id=actor.id))
    if exists is not None:
        raise ServiceError(_("You have already answered this poll."), status=409)
    row = PollVote(poll_id=poll.id, user_id=actor.id, choice=choice)
    db.session.add(row)
    db.session.flush()
    return row


def poll_summary(poll: Poll) -> dict[str, Any]:
    """The server's tally of a poll."""
    counts = dict(
        db.session.execute(
            select(PollVote.choice, func.count())
            .where(PollVote.poll_id == poll.id)
            .group_by(PollVote.choice)
        ).all()
    )
    tally = [int(counts.get(i, 0)) for i in range(len(poll.choices))]
    return {**poll.as_dict(), "counts": tally, "total": sum(tally)}


# --- attendance ---------------------------------------------------------------------------------


def _teacher_of(user: User, klass: Unit) -> bool:
    return any(a.role == Role.TEACHER and klass.path.startswith(a.unit.path) for a in user.roles)


def open_interval(
    *,
    actor: User,
    lecture: Lecture,
    sid: str,
    class_unit: Unit | None = None,
    headcount: Any = None,
    now: datetime | None = None,
) -> Attendance:
    """Start counting a connection's time in the room (per person, or per class screen)."""
    now = now or _now()
    count: int | None = None
    if class_unit is not None:
        if class_unit.type != "class" or not _teacher_of(actor, class_unit):
            raise Forbidden(_("Only a teacher of this class can open its class screen."))
        if (
            not isinstance(headcount, int)
            or isinstance(headcount, bool)
            or not 1 <= headcount <= MAX_HEADCOUNT
        ):
            raise ServiceError(
                _("Enter how many students are watching (1 to %(n)d).", n=MAX_HEADCOUNT)
            )
        count = headcount
    query = select(Attendance).where(
        Attendance.lecture_id == lecture.id,
        Attendance.user_id == actor.id,
        Attendance.class_unit_id == class_unit.id
        if class_unit is not None
        else Attendance.class_unit_id.is_(None),
    )
    attendance = db.session.scalar(query)
    if attendance is None:
        attendance = Attendance(
            lecture_id=lecture.id,
            user_id=actor.id,
            class_unit_id=class_unit.id if class_unit else None,
            watched_seconds=0,
            first_joined_at=now,
            last_seen_at=now,
        )
        try:
            # two tabs of one person may join at the same moment: the second finds the first's row
            with db.session.begin_nested():
                db.session.add(attendance)
        except IntegrityError:
            attendance = db.session.scalars(query).one()
    # no write to the attendance row itself unless the headcount grows: many tabs (or screens)
    # of one person joining at once would queue on its row lock
    if count is not None and count > (attendance.headcount or 0):
        attendance.headcount = count
    db.session.flush()
    db.session.add(AttendanceInterval(attendance_id=attendance.id, sid=sid, joined_at=now))
    db.session.flush()
    return attendance


def _merged_seconds(intervals: list[tuple[datetime, datetime]]) -> int:
    total = 0.0
    current_start: datetime | None = None
    current_end: datetime | None = None
    for start, end in sorted(intervals):
        if current_end is None or start > current_end:
            if current_end is not None and current_start is not None:
                total += (current_end - current_start).total_seconds()
            current_start, current_end = start, end
        elif end > current_end:
            current_end = end
    if current_end is not None and current_start is not None:
        total += (current_end - current_start).total_seconds()
    return int(total)


def _recount(attendance: Attendance, lecture: Lecture, now: datetime) -> None:
    cap = _aware(lecture.ended_at) or now
    spans = []
    for interval in attendance.intervals:
        start = _aware(interval.joined_at)
        end = _aware(interval.left_at) or now
        assert start is not None
        end = min(end, cap)
        if end > start:
            spans.append((start, end))
    attendance.watched_seconds = _merged_seconds(spans)


def close_interval(*, sid: str, now: datetime | None = None) -> Attendance | None:
    """Stop counting the connection ``sid``; returns its attendance with the time recounted."""
    now = now or _now()
    interval = db.session.scalar(
        select(AttendanceInterval).where(
            AttendanceInterval.sid == sid, AttendanceInterval.left_at.is_(None)
        )
    )
    if interval is None:
        return None
    interval.left_at = now
    attendance = interval.attendance
    lecture = db.session.get(Lecture, attendance.lecture_id)
    assert lecture is not None
    attendance.last_seen_at = now
    _recount(attendance, lecture, now)
    db.session.flush()
    return attendance


def close_all_intervals(lecture: Lecture, *, now: datetime) -> None:
    open_ones = db.session.scalars(
        select(AttendanceInterval)
        .join(Attendance)
        .where(Attendance.lecture_id == lecture.id, AttendanceInterval.left_at.is_(None))
    )
    for interval in open_ones:
        interval.left_at = now
    db.session.flush()
    for attendance in db.session.scalars(select(Attendance).filter_by(lecture_id=lecture.id)):
        _recount(attendance, lecture, now)
    db.session.flush()


def training_share() -> float:
    return float(current_app.config.get("LIVE_TRAINING_SHARE", 0.8))


def record_training_facts(lecture: Lecture) -> int:
    """After a training lecture: teachers who watched enough of it count as trained this term."""
    if not lecture.is_training or lecture.started_at is None or lecture.ended_at is None:
        return 0
    duration = (_aware(lecture.ended_at) - _aware(lecture.started_at)).total_seconds()  # type: ignore[operator]
    term = org.current_term()
    if duration <= 0 or term is None:
        return 0
    needed = duration * training_share()
    recorded = 0
    for attendance in db.session.scalars(
        select(Attendance).filter_by(lecture_id=lecture.id, class_unit_id=None)
    ):
        if attendance.watched_seconds < needed:
            continue
        units = attendance.user.units_for(Role.TEACHER)
        if not units:
            continue
        if coverage.record_fact(FactKind.TEACHER_TRAINED, attendance.user_id, units[0], term):
            recorded += 1
    db.session.flush()
    return recorded


def attendance_report(
    *, actor: User, lecture: Lecture, now: datetime | None = None
) -> dict[str, Any]:
    """Who watched and for how long; admins over part of the audience see their part only."""
    now = now or _now()
    whole = is_host(actor, lecture) or _admin_reach(actor, lecture) == "all"
    paths = admin_paths(actor)
    rows = []
    for attendance in db.session.scalars(
        select(Attendance).filter_by(lecture_id=lecture.id).order_by(Attendance.id)
    ):
        if not whole:
            units = [a.unit for a in attendance.user.roles]
            if attendance.class_unit is not None:
                units = [attendance.class_unit]
            if not any(u.path.startswith(p) for u in units for p in paths):
                continue
        live_now = any(i.left_at is None for i in attendance.intervals)
        if live_now:
            _recount(attendance, lecture, now)
        rows.append(
            {
                "user": {"id": attendance.user.id, "name": attendance.user.display_name},
                "class_screen": attendance.class_unit_id is not None,
                "class": (
                    {"id": attendance.class_unit.id, "name": attendance.class_unit.name}
                    if attendance.class_unit
                    else None
                ),
                "headcount": attendance.headcount,
                "watched_seconds": attendance.watched_seconds,
                "watching_now": live_now,
                "first_joined_at": _aware(attendance.first_joined_at).isoformat(),  # type: ignore[union-attr]
            }
        )
    people = sum(1 for r in rows if not r["class_screen"])
    screens = [r for r in rows if r["class_screen"]]
    return {
        "lecture_id": lecture.id,
        "rows": rows,
        "people": people,
        "class_screens": len(screens),
        "class_headcount": sum(r["headcount"] or 0 for r in screens),
    }


def watching_now(lecture: Lecture) -> dict[str, int]:
    """How many screens and people are in the room right now."""
    rows = db.session.execute(
        select(Attendance.id, Attendance.class_unit_id, Attendance.headcount)
        .join(AttendanceInterval)
        .where(Attendance.lecture_id == lecture.id, AttendanceInterval.left_at.is_(None))
        .distinct()
    ).all()
    screens = [r for r in rows if r[1] is not None]
    return {
        "screens": len(rows),
        "people": len(rows) - len(screens) + sum(r[2] or 0 for r in screens),
    }
