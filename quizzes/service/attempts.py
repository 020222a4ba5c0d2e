"""Attempts decided by the server: its clock, its deadline, its grading.

The browser only ever sends answers with a per-question sequence number. The deadline is
min(start + time limit, close). As in Moodle, answers are saved until the deadline and a few
seconds of network slack at most (``save_slack``, for a save sent in time and still on its way);
the longer grace after it (``grace``) is only for submitting what was saved, and a late
submission closes and grades the attempt from what was saved in time.
Finishing is one conditional UPDATE (in_progress → finished), so of any number of parallel
"finish" requests exactly one grades.
"""

from __future__ import annotations

import functools
import math
import random
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, cast

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import (
    JSON,
    Connection,
    Integer,
    Table,
    Text,
    Update,
    and_,
    any_,
    bindparam,
    column,
    func,
    insert,
    or_,
    select,
    true,
    update,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import make_transient_to_detached

from elearn.extensions import db
from elearn.models import User, UserSession
from elearn.models._types import INT_MAX, aware
from elearn.service import audit
from elearn.service.accounts import BearerToken, hash_token
from elearn.service.errors import NotFound, ServiceError, Unauthenticated
from elearn.service.sql import batch_rows, insert_on_conflict, one_statement_connection
from quizzes import analysis, figures, richtext
from quizzes.access import in_audience
from quizzes.models import (
    AttemptSlot,
    AttemptState,
    QuestionVersion,
    Quiz,
    QuizAttempt,
    QuizMode,
    ReviewPolicy,
)
from quizzes.qtypes import get_type
from quizzes.service.attachments import question_media
from quizzes.service.quizzes import attempt_questions, draw_sources, has_closed


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def grace() -> timedelta:
    """How late after the deadline a submission is still taken (it saves nothing new)."""
    return timedelta(seconds=int(current_app.config.get("QUIZ_SUBMIT_GRACE_SECONDS", 30)))


def save_slack_of(config: Mapping[str, Any]) -> timedelta:
    """How late after the deadline an answer is still saved, under ``config`` (the app's): the
    network's slack for a save sent in time, never more than the grace."""
    slack = int(config.get("QUIZ_SAVE_SLACK_SECONDS", 5))
    return timedelta(seconds=min(slack, int(config.get("QUIZ_SUBMIT_GRACE_SECONDS", 30))))


def save_slack() -> timedelta:
    """``save_slack_of`` the current app."""
    return save_slack_of(current_app.config)


class TimeUp(ServiceError):
    """A save that came after the deadline and its slack: refused, the attempt still open for
    its submission (the grace)."""

    status = 409


def start_attempt(*, actor: User, quiz: Quiz, now: datetime | None = None) -> QuizAttempt:
    """Start (or resume) the actor's attempt; the clock starts now, on the server."""
    now = _now(now)
    if not quiz.is_published or not in_audience(actor, quiz):
        raise NotFound(_("This quiz does not exist, or is not open to you."))
    if quiz.is_anonymous:
        # an attempt row names its person: anonymous surveys run in quizzes.service.surveys
        raise ServiceError(_("An anonymous survey is answered without an attempt."), status=409)
    # one query for the resume, the attempts used and the next number
    mine = db.session.scalars(
        select(QuizAttempt).where(QuizAttempt.quiz_id == quiz.id, QuizAttempt.user_id == actor.id)
    ).all()
    current = next((a for a in mine if a.state == AttemptState.IN_PROGRESS), None)
    if current is not None:
        deadline = aware(current.deadline_at)
        if deadline is None or now <= deadline + grace():
            return current  # resume where they were
        finish_attempt(attempt=current, now=now, reason="expired")
    opens_at, closes_at = aware(quiz.opens_at), aware(quiz.closes_at)
    if opens_at and now < opens_at:
        raise ServiceError(_("This quiz has not opened yet."), status=409)
    if closes_at and now >= closes_at:
        raise ServiceError(_("This quiz has closed."), status=409)
    if quiz.attempts_allowed and len(mine) >= quiz.attempts_allowed:
        raise ServiceError(_("You have no attempts left at this quiz."), status=409)
    number = 1 + max((a.number for a in mine), default=0)
    deadlines = [d for d in (closes_at,) if d]
    if quiz.time_limit_seconds:
        deadlines.append(now + timedelta(seconds=quiz.time_limit_seconds))
    seed = secrets.randbelow(2**31)
    drawn = attempt_questions(quiz, seed, draw_sources(quiz))
    if not drawn:
        raise ServiceError(_("This quiz has no questions yet."), status=409)
    values = {
        "quiz_id": quiz.id,
        "user_id": actor.id,
        "number": number,
        "state": AttemptState.IN_PROGRESS,
        "seed": seed,
        "started_at": now,
        "deadline_at": min(deadlines) if deadlines else None,
        "max_score": max_score(drawn),
        "needs_manual_grading": False,
    }
    # a second tab starting at the same moment meets the unique (quiz, user, number)
    attempt_id = db.session.execute(
        insert_on_conflict(QuizAttempt)
        .values(values)
        .on_conflict_do_nothing(index_elements=["quiz_id", "user_id", "number"])
        .returning(QuizAttempt.id)
    ).scalar()
    if attempt_id is None:
        existing = db.session.scalar(
            select(QuizAttempt).where(
                QuizAttempt.quiz_id == quiz.id,
                QuizAttempt.user_id == actor.id,
                QuizAttempt.state == AttemptState.IN_PROGRESS,
            )
        )
        if existing is None:
            raise ServiceError(_("You have no attempts left at this quiz."), status=409)
        return existing
    slots = [
        {
            "attempt_id": attempt_id,
            "position": position,
            "question_id": question.id,
            "version_id": question.current_version_id,
            "mark": mark,
            "seq": 0,
        }
        for position, (question, mark) in enumerate(drawn, start=1)
    ]
    slot_ids = db.session.scalars(
        insert(AttemptSlot).returning(AttemptSlot.id, sort_by_parameter_order=True), slots
    ).all()
    return _as_loaded(values, attempt_id, slots, slot_ids, quiz, actor, drawn)


def _as_loaded(
    values: dict[str, Any],
    attempt_id: int,
    slots: list[dict[str, Any]],
    slot_ids: Sequence[int],
    quiz: Quiz,
    actor: User,
    drawn: list[tuple[Any, float]],
) -> QuizAttempt:
    """The rows just inserted as objects of the session, as if loaded: two INSERT statements
    write an attempt of any length, where the unit of work spent more than the whole request
    on bookkeeping (5,000 students start an exam at once)."""
    attempt = QuizAttempt(
        id=attempt_id,
        **values,
        finished_at=None,
        closed_reason=None,
        score=None,
        passed=None,
        quiz=quiz,
        user=actor,
    )
    attempt.slots = [
        AttemptSlot(
            id=slot_id,
            **row,
            answer=None,
            saved_at=None,
            fraction=None,
            graded_by_id=None,
            version=question.current_version,  # loaded with the question: no query per slot
        )
        for slot_id, row, (question, _mark) in zip(slot_ids, slots, drawn, strict=True)
    ]
    for slot in attempt.slots:
        make_transient_to_detached(slot)
    make_transient_to_detached(attempt)
    db.session.add(attempt)
    return attempt


def max_score(drawn: Sequence[tuple[Any, float]]) -> float:
    """What an attempt of the drawn questions is marked out of (the scored types' marks)."""
    return sum(
        mark
        for question, mark in drawn
        if question.current_version is not None and get_type(question.current_version.type).scored
    )


class ViewSettings(Protocol):
    """What an attempt's view shows of its quiz: a ``Quiz``, or the start lane's plan."""

    @property
    def id(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def one_per_page(self) -> bool: ...
    @property
    def shuffle_options(self) -> bool: ...
    @property
    def mode(self) -> str: ...


def option_rng(seed: int, quiz: ViewSettings, question_id: int, kind: str) -> random.Random | None:
    """What shuffles the options of one question of the attempt with ``seed`` (the same every
    time it is shown); None when the quiz keeps them in order or the type has none to shuffle
    (seeding costs more than the rest of a question's view)."""
    if not quiz.shuffle_options or quiz.mode != QuizMode.SELF_PACED or not get_type(kind).shuffles:
        return None
    return random.Random(f"{seed}:{question_id}")


def attempt_view(attempt: QuizAttempt, *, now: datetime | None = None) -> dict[str, Any]:
    """What the attempt page and the API send: questions without answers, the saved answers."""
    quiz = attempt.quiz
    questions = []
    for slot in attempt.slots:
        version = slot.version
        view = question_view(
            slot.question_id,
            slot.position,
            slot.mark,
            version,
            richtext.clean(version.stem),
            option_rng(attempt.seed, quiz, slot.question_id, version.type),
        )
        if version.media_asset_id:  # a picture or recording: a short-lived signed URL only
            view["media"] = question_media(version.media_asset_id, attempt.user)
        questions.append(view)
    return attempt_payload(
        quiz,
        attempt_id=attempt.id,
        state=attempt.state,
        started_at=aware(attempt.started_at),
        deadline=aware(attempt.deadline_at),
        now=_now(now),
        questions=questions,
        answers={
            str(slot.question_id): {"answer": slot.answer, "seq": slot.seq}
            for slot in attempt.slots
            if slot.seq
        },
    )


def question_view(
    question_id: int,
    position: int,
    mark: float,
    version: Any,
    stem: str,
    rng: random.Random | None,
) -> dict[str, Any]:
    """One question as an attempt shows it: ``version`` (type, data) without its grading data,
    ``stem`` already made safe, the options shuffled by ``rng``."""
    view = {
        "id": question_id,
        "position": position,
        "type": version.type,
        "stem": stem,
        "mark": mark,
    }
    view.update(get_type(version.type).public_view(version.data, rng))
    return view


def attempt_payload(
    quiz: ViewSettings,
    *,
    attempt_id: int | str,
    state: str,
    started_at: datetime | None,
    deadline: datetime | None,
    now: datetime,
    questions: list[dict[str, Any]],
    answers: dict[str, Any],
) -> dict[str, Any]:
    """An attempt's payload (``attempt_view``'s, and the start lane's for an attempt it started)."""
    return {
        "attempt_id": attempt_id,
        "quiz_id": quiz.id,
        "title": quiz.title,
        "state": state,
        "started_at": started_at.isoformat() if started_at else None,
        **clock_fields(deadline, now),
        "one_per_page": quiz.one_per_page,
        "questions": questions,
        "answers": answers,
    }


def issue_save_key(attempt: QuizAttempt) -> str:
    """A new save key for the owner's attempt page (the last page given one holds the only
    valid key). With it the page's autosaves go through the autosave lane; it writes answers
    to this attempt alone, while the attempt is open, and every refused save still goes to the
    route, which checks the session as always."""
    key = secrets.token_urlsafe(24)
    attempt.save_key_hash = hash_token(key)
    db.session.flush()
    return key


def clock_fields(deadline: datetime | None, now: datetime) -> dict[str, Any]:
    """The countdown's facts, all from the server's clock: the page counts ``seconds_left``
    down on the device's monotonic clock, and sets it again from every answer it gets."""
    return {
        "deadline": deadline.isoformat() if deadline else None,
        "server_now": now.isoformat(),
        "seconds_left": max(0, int((deadline - now).total_seconds())) if deadline else None,
    }


def attempt_clock(attempt: QuizAttempt, *, now: datetime | None = None) -> dict[str, Any]:
    """The attempt's state and time left (the page asks now and then: a quiz closed early
    ends the attempts in progress sooner)."""
    return {"state": attempt.state, **clock_fields(aware(attempt.deadline_at), _now(now))}


@dataclass(frozen=True)
class SavedAnswer:
    question_id: int
    seq: int
    saved_at: datetime
    #: the attempt's deadline as the save found it (it moves when the quiz closes early)
    deadline: datetime | None

    def view(self) -> dict[str, Any]:
        """The reply to a save, the route's and the autosave lane's."""
        return {
            "question_id": self.question_id,
            "seq": self.seq,
            "saved_at": self.saved_at.isoformat(),
            **clock_fields(self.deadline, self.saved_at),
        }


def save_answer(
    *,
    actor: User | BearerToken,
    attempt_id: int,
    question_id: int,
    answer: Any,
    seq: Any,
    now: datetime | None = None,
) -> SavedAnswer:
    """Save one answer if its sequence number is newer than the stored one (autosave).

    The answer is checked against the question's versions first (they never change: read once
    per process), so the write needs no undo. Then one statement decides and writes, in
    autocommit when it is the request's first: the caller (a user, or a bearer token checked in
    the same statement), the attempt's owner, its state and deadline (the attempt share-locked,
    so a concurrent finish waits for this save), the slot, its version among those the answer
    fits, and the sequence number; a replayed or older save (double click, back button, second
    tab) changes nothing, even when two arrive at the same instant. Only a refused save costs
    another query, to say why.
    """
    now = _now(now)
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1 or seq > INT_MAX:
        raise ServiceError(_("seq must be a positive whole number."), field="seq")
    if isinstance(actor, BearerToken):
        caller: dict[str, Any] = {"token_hash": actor.hash, "now": now}
    else:
        caller = {"user_id": actor.id}
    for fresh in (False, True):  # again once if the slot's version is newer than what was read
        versions = _versions_of(question_id, fresh=fresh)
        fitting = list(answer_fits(versions, answer))
        saved = (
            one_statement_connection()
            .execute(
                _save_statement(by_token="token_hash" in caller),
                {
                    **caller,
                    "the_attempt": attempt_id,
                    "the_question": question_id,
                    "fitting": fitting,
                    "new_answer": answer,
                    "new_seq": seq,
                    "now_saved": now,
                    "deadline_after": now - save_slack(),
                },
            )
            .first()
        )
        if saved is not None:
            break
        refusal = _refusal(actor, attempt_id, question_id, now, versions, fitting)
        if refusal is not None:
            raise refusal
    else:
        raise NotFound(_("This question is not part of the attempt."))
    loaded = db.session.identity_map.get(db.session.identity_key(AttemptSlot, saved.id))
    if loaded is not None:
        db.session.expire(loaded)  # loaded in this session (a page, a test): read it again
    return SavedAnswer(
        question_id=question_id, seq=seq, saved_at=now, deadline=aware(saved.deadline_at)
    )


#: question id → {version id: (type, data)}: versions never change, a question gains new ones
_VERSIONS: dict[int, dict[int, tuple[str, Any]]] = {}
_VERSIONS_KEPT = 4096


def _versions_of(question_id: int, *, fresh: bool) -> dict[int, tuple[str, Any]]:
    """A question's versions as read once per process (again when ``fresh``); only read."""
    found = None if fresh else _VERSIONS.get(question_id)
    if found is None:
        rows = db.session.execute(
            select(QuestionVersion.id, QuestionVersion.type, QuestionVersion.data).where(
                QuestionVersion.question_id == question_id
            )
        )
        found = {row.id: (row.type, row.data) for row in rows}
        if len(_VERSIONS) >= _VERSIONS_KEPT:
            _VERSIONS.clear()
        _VERSIONS[question_id] = found
    return found


def _open_attempt(attempt_id: Any, owned: Any) -> list[Any]:
    """The rule a save must meet, besides its slot's: the caller owns the attempt (``owned``),
    it is in progress, and its deadline plus the save slack has not passed (``deadline_after``:
    now − slack)."""
    return [
        QuizAttempt.id == attempt_id,
        owned,
        QuizAttempt.state == AttemptState.IN_PROGRESS,
        or_(
            QuizAttempt.deadline_at.is_(None),
            QuizAttempt.deadline_at >= bindparam("deadline_after"),
        ),
    ]


def _slot_takes(slots: Table, attempt: Any, question: Any, seq: Any, fitting: Any) -> list[Any]:
    """The slot's rule: the attempt's question, an older seq, a version the answer fits."""
    return [
        slots.c.attempt_id == attempt,
        slots.c.question_id == question,
        slots.c.seq < seq,
        fitting(slots.c.version_id),
    ]


@functools.cache
def _save_statement(*, by_token: bool) -> Update:
    """The autosave's one statement, built once: a reused statement skips SQLAlchemy's
    construction and cache-key work, which cost more than the round trip to the database."""
    if by_token:
        owner: Any = BearerToken.user_id_of(bindparam("token_hash"), bindparam("now"))
    else:
        owner = bindparam("user_id")
    open_attempt = (
        select(QuizAttempt.id)
        .where(*_open_attempt(bindparam("the_attempt"), QuizAttempt.user_id == owner))
        .with_for_update(read=True)
        .cte("open_attempt")
    )
    slots = cast(Table, AttemptSlot.__table__)
    return (
        update(slots)
        .where(
            *_slot_takes(
                slots,
                open_attempt.c.id,
                bindparam("the_question"),
                bindparam("new_seq"),
                lambda version: version.in_(bindparam("fitting", expanding=True)),
            )
        )
        .values(
            answer=bindparam("new_answer"),
            seq=bindparam("new_seq"),
            saved_at=bindparam("now_saved"),
        )
        # the deadline as a subquery: SQLite returns only the updated table's columns
        .returning(
            slots.c.id,
            select(QuizAttempt.deadline_at)
            .where(QuizAttempt.id == slots.c.attempt_id)
            .scalar_subquery()
            .label("deadline_at"),
        )
    )


@dataclass(frozen=True)
class BearerSave:
    """One autosave sent with a bearer token or the attempt page's save key (the hash of one
    of them), its answer already parsed (a batch's item)."""

    token_hash: str | None
    key_hash: str | None
    attempt_id: int
    question_id: int
    seq: int
    #: the answer as the JSON text to store
    answer_json: str
    #: the question's versions the answer fits
    fitting: tuple[int, ...]


def known_versions(question_id: int) -> dict[int, tuple[str, Any]] | None:
    """A question's versions if this process has read them (see ``_versions_of``), else None."""
    return _VERSIONS.get(question_id)


def answer_fits(versions: dict[int, tuple[str, Any]], answer: Any) -> tuple[int, ...]:
    """The versions (of those given) that ``answer`` fits."""
    return tuple(v for v, (kind, data) in versions.items() if get_type(kind).accepts(data, answer))


def save_bearer_answers(
    connection: Connection, saves: Sequence[BearerSave], *, now: datetime, slack: timedelta
) -> list[SavedAnswer | None]:
    """Save many autosaves (from many requests) in one statement, each under ``save_answer``'s
    rules: for each, what was saved, or None. PostgreSQL only; ``connection`` in autocommit, so the
    statement is its own transaction and one commit carries every save of the batch.

    Of several saves to one slot, only the newest is tried: the rest come back None, and like
    every refused save here are sent again through ``save_answer``, which says why (or saves,
    when the newest was refused). The attempts are share-locked in the same way.
    """
    newest: dict[tuple[int, int], int] = {}
    for index, save in enumerate(saves):
        key = (save.attempt_id, save.question_id)
        if key not in newest or save.seq > saves[newest[key]].seq:
            newest[key] = index
    tried = sorted(newest.values(), key=lambda i: (saves[i].attempt_id, saves[i].question_id))
    rows = connection.execute(
        _batch_statement(),
        {
            "items": [
                {
                    "i": i,
                    "attempt_id": saves[i].attempt_id,
                    "question_id": saves[i].question_id,
                    "seq": saves[i].seq,
                    "answer": saves[i].answer_json,
                    "fitting": list(saves[i].fitting),
                    "token_hash": saves[i].token_hash,
                    "key_hash": saves[i].key_hash,
                }
                for i in tried
            ],
            "now": now,
            "now_saved": now,
            "deadline_after": now - slack,
        },
    )
    deadlines = {row.i: aware(row.deadline_at) for row in rows}
    return [
        SavedAnswer(save.question_id, save.seq, now, deadlines[index])
        if index in deadlines
        else None
        for index, save in enumerate(saves)
    ]


@functools.cache
def _batch_statement() -> Update:
    """``save_bearer_answers``' statement: the saves as rows of a JSON array (one parameter
    whatever their number), then the same rules as ``_save_statement`` row by row."""
    items = batch_rows(
        column("i", Integer),
        column("attempt_id", Integer),
        column("question_id", Integer),
        column("seq", Integer),
        column("answer", Text),
        column("fitting", ARRAY(Integer)),
        column("token_hash", Text),
        column("key_hash", Text),
    )
    owner = BearerToken.user_id_of(items.c.token_hash, bindparam("now")).correlate(items)
    # a save key counts while its owner is signed in somewhere and the account is active: a
    # password reset or a disabled account (every session ended) ends the page's key too
    signed_in = (
        select(UserSession.id)
        .join(User, User.id == UserSession.user_id)
        .where(
            UserSession.user_id == QuizAttempt.user_id,
            UserSession.revoked_at.is_(None),
            User.is_active_account.is_(True),
        )
        .exists()
    )
    slots = cast(Table, AttemptSlot.__table__)
    # each item's attempt (share-locked, as by _save_statement) and slot, looked up by their
    # keys in a lateral subquery: joined, the planner guessed the items' number (always 100)
    # and scanned every attempt in progress, or every slot
    slot = (
        select(slots.c.id, QuizAttempt.deadline_at)
        .select_from(QuizAttempt)
        .join(
            slots,
            (slots.c.attempt_id == QuizAttempt.id) & (slots.c.question_id == items.c.question_id),
        )
        .where(
            *_open_attempt(
                items.c.attempt_id,
                or_(
                    QuizAttempt.user_id == owner,
                    and_(QuizAttempt.save_key_hash == items.c.key_hash, signed_in),
                ),
            )
        )
        .with_for_update(read=True, of=QuizAttempt)
        .correlate(items)
        .lateral("slot")
    )
    chosen = (
        select(
            slot.c.id,
            slot.c.deadline_at,
            items.c.i,
            items.c.attempt_id,
            items.c.question_id,
            items.c.seq,
            items.c.answer,
            items.c.fitting,
        )
        .select_from(items)
        .join(slot, true())
        .cte("chosen")
    )
    return (
        update(slots)
        .where(
            slots.c.id == chosen.c.id,
            # the same again, as an index condition: a join alone let the planner scan them all
            slots.c.id == any_(func.array(select(chosen.c.id).scalar_subquery())),
            # checked in the UPDATE, so checked again on a slot another save changed meanwhile
            *_slot_takes(
                slots,
                chosen.c.attempt_id,
                chosen.c.question_id,
                chosen.c.seq,
                lambda version: version == any_(chosen.c.fitting),
            ),
        )
        .values(
            answer=sql_cast(chosen.c.answer, JSON),
            seq=chosen.c.seq,
            saved_at=bindparam("now_saved"),
        )
        .returning(chosen.c.i, chosen.c.deadline_at)
    )


def _refusal(
    actor: User | BearerToken,
    attempt_id: int,
    question_id: int,
    now: datetime,
    versions: dict[int, tuple[str, Any]],
    fitting: list[int],
) -> ServiceError | None:
    """Why a save changed nothing (the rare path: one more query); None when the slot's
    version is newer than the versions read (read them again and retry)."""
    if isinstance(actor, BearerToken):
        check = actor.check()
        if check.user is None:
            return Unauthenticated(check.error or "")
        actor = check.user
    row = db.session.execute(
        select(
            QuizAttempt.user_id,
            QuizAttempt.state,
            QuizAttempt.deadline_at,
            AttemptSlot.id.label("slot_id"),
            AttemptSlot.version_id,
        )
        .outerjoin(
            AttemptSlot,
            (AttemptSlot.attempt_id == QuizAttempt.id) & (AttemptSlot.question_id == question_id),
        )
        .where(QuizAttempt.id == attempt_id)
    ).one_or_none()
    if row is None or row.user_id != actor.id:
        return NotFound(_("This page does not exist, or is not within your scope."))
    if row.state != AttemptState.IN_PROGRESS:
        return ServiceError(_("This attempt has been submitted; it can't be changed."), status=409)
    deadline = aware(row.deadline_at)
    if deadline is not None and now > deadline + save_slack():
        return TimeUp(_("Time is up: answers can no longer be saved."))
    if row.slot_id is None:
        return NotFound(_("This question is not part of the attempt."))
    if row.version_id not in versions:
        return None
    if row.version_id not in fitting:
        return ServiceError(_("This answer does not fit the question."), field="answer")
    return ServiceError(
        _(
            "A newer answer to this question is already saved (from another tab or a repeated click)."
        ),
        status=409,
    )


@dataclass
class FinishResult:
    attempt: QuizAttempt
    #: True when the submission came after the deadline and its grace
    late: bool = False


def finish_attempt(*, attempt: QuizAttempt, now: datetime | None = None, reason: str) -> bool:
    """Close and grade an attempt once; False when someone else closed it first."""
    now = _now(now)
    closed = db.session.execute(
        update(QuizAttempt)
        .where(QuizAttempt.id == attempt.id, QuizAttempt.state == AttemptState.IN_PROGRESS)
        .values(state=AttemptState.FINISHED, finished_at=now, closed_reason=reason)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]  # an UPDATE returns a CursorResult; Session.execute is typed as Result
    db.session.refresh(attempt)
    if not closed:
        return False
    _grade(attempt)
    _after_grading(attempt)
    audit.record(
        "quiz.attempt_graded",
        actor=None,
        unit_id=attempt.quiz.unit_id,
        target_type="attempt",
        target_id=attempt.id,
        reason=reason,
        score=attempt.score,
    )
    return True


def _grade(attempt: QuizAttempt) -> None:
    # what a save could store: until the deadline and its slack (the grace saves nothing)
    deadline = aware(attempt.deadline_at)
    limit = deadline + save_slack() if deadline else None
    score, manual = 0.0, False
    for slot in attempt.slots:
        question_type = get_type(slot.version.type)
        if not question_type.scored:
            slot.fraction = None
            continue
        saved_at = aware(slot.saved_at)
        saved_in_time = saved_at is not None and (limit is None or saved_at <= limit)
        answer = slot.answer if saved_in_time else None
        if not question_type.auto_graded:
            manual = manual or answer is not None
            slot.fraction = None if answer is not None else 0.0
            continue
        slot.fraction = question_type.grade(slot.version.data, slot.version.grading, answer) or 0.0
        score += slot.fraction * slot.mark
    attempt.score = round(score, 4)
    attempt.needs_manual_grading = manual
    attempt.passed = None if manual else _passed(attempt)
    db.session.flush()


def _after_grading(attempt: QuizAttempt) -> None:
    """What a graded attempt means elsewhere: the quiz's results, lesson completion (and, for
    exams, coverage)."""
    from quizzes.service import lessons
    from quizzes.service.campaigns import record_exam_coverage

    analysis.results_changed(attempt.quiz_id)
    record_exam_coverage(attempt)
    if attempt.passed:
        lessons.quiz_passed(user=attempt.user, quiz_id=attempt.quiz_id)


def _passed(attempt: QuizAttempt) -> bool:
    if not attempt.max_score:
        return False
    return (attempt.score or 0) * 100 >= attempt.quiz.pass_mark * attempt.max_score - 1e-9


def submit_attempt(*, actor: User, attempt_id: int, now: datetime | None = None) -> FinishResult:
    """The student's "submit": refused (but the attempt closed and graded) after the grace."""
    now = _now(now)
    attempt = db.session.scalar(select(QuizAttempt).where(QuizAttempt.id == attempt_id))
    if attempt is None or attempt.user_id != actor.id:
        raise NotFound(_("This page does not exist, or is not within your scope."))
    deadline = aware(attempt.deadline_at)
    late = deadline is not None and now > deadline + grace()
    if not finish_attempt(attempt=attempt, now=now, reason="late" if late else "submitted"):
        raise ServiceError(_("This attempt has already been submitted."), status=409)
    return FinishResult(attempt=attempt, late=late)


def grade_slot(*, actor: User, slot: AttemptSlot, points: float) -> QuizAttempt:
    """A teacher's points (0 to the question's mark) for a hand-graded answer, kept as the share
    of the mark the slot stores; the attempt's score follows."""
    if not (math.isfinite(points) and 0 <= points <= slot.mark):
        raise ServiceError(
            _("Give 0 to %(m)s points.", m=figures.score_text(slot.mark)),
            field=f"points_{slot.question_id}",
        )
    attempt = slot.attempt
    if attempt.state != AttemptState.FINISHED:
        raise ServiceError(_("The attempt is still in progress."), status=409)
    slot.fraction = points / slot.mark
    slot.graded_by_id = actor.id
    attempt.score = round(sum((s.fraction or 0) * s.mark for s in attempt.slots), 4)
    attempt.needs_manual_grading = any(s.fraction is None for s in attempt.slots)
    attempt.passed = None if attempt.needs_manual_grading else _passed(attempt)
    db.session.flush()
    _after_grading(attempt)
    return attempt


def close_expired_attempts(*, now: datetime | None = None) -> int:
    """Close attempts past their deadline (and grace), and abandoned ones without a deadline."""
    now = _now(now)
    abandoned_before = now - timedelta(hours=int(current_app.config.get("QUIZ_ABANDON_HOURS", 24)))
    last_save = (
        select(func.max(AttemptSlot.saved_at))
        .where(AttemptSlot.attempt_id == QuizAttempt.id)
        .scalar_subquery()
    )
    expired = db.session.scalars(
        select(QuizAttempt).where(
            QuizAttempt.state == AttemptState.IN_PROGRESS,
            (QuizAttempt.deadline_at < now - grace())
            | (
                QuizAttempt.deadline_at.is_(None)
                & (func.coalesce(last_save, QuizAttempt.started_at) < abandoned_before)
            ),
        )
    ).all()
    closed = 0
    for attempt in expired:
        reason = "expired" if attempt.deadline_at is not None else "abandoned"
        closed += finish_attempt(attempt=attempt, now=now, reason=reason)
    return closed


def review_allowed(attempt: QuizAttempt, now: datetime) -> bool:
    quiz = attempt.quiz
    if attempt.state != AttemptState.FINISHED:
        return False
    if quiz.review_policy == ReviewPolicy.IMMEDIATELY:
        return True
    if quiz.review_policy == ReviewPolicy.AFTER_CLOSE:
        return has_closed(quiz, now)
    return False


def review_view(attempt: QuizAttempt, *, now: datetime | None = None) -> dict[str, Any]:
    """The result; answers and feedback only as the quiz's review policy allows."""
    now = _now(now)
    result: dict[str, Any] = {
        "attempt_id": attempt.id,
        "state": attempt.state,
        "score": attempt.score,
        "max_score": attempt.max_score,
        "passed": attempt.passed,
        "needs_manual_grading": attempt.needs_manual_grading,
        "closed_reason": attempt.closed_reason,
        "review": None,
    }
    if not review_allowed(attempt, now):
        return result
    items = []
    for slot in attempt.slots:
        version = slot.version
        question_type = get_type(version.type)
        items.append(
            {
                "id": slot.question_id,
                "position": slot.position,
                "type": version.type,
                "stem": richtext.clean(version.stem),
                **question_type.public_view(
                    version.data,
                    option_rng(attempt.seed, attempt.quiz, slot.question_id, version.type),
                ),
                "your_answer": slot.answer,
                "correct_answer": question_type.correct_answer(version.data, version.grading),
                "fraction": slot.fraction,
                "mark": slot.mark,
                "feedback": richtext.clean(version.general_feedback),
            }
        )
    result["review"] = items
    return result


def _answer_text(item: dict[str, Any], answer: Any) -> str:
    """An answer in words, for the review page (option ids become their texts)."""
    if answer is None or answer == [] or answer == {}:
        return "—"
    texts = {
        o["id"]: richtext.plain(o["text"])
        for key in ("options", "items", "choices", "prompts")
        for o in item.get(key, [])
    }
    kind = item["type"]
    if kind == "true_false":
        return _("True") if answer else _("False")
    if kind in {"single_choice"}:
        return texts.get(answer, "—")
    if kind in {"multiple_choice", "ordering"}:
        separator = "、" if kind == "multiple_choice" else " → "
        return separator.join(texts.get(a, "?") for a in answer)
    if kind == "matching":
        return "；".join(f"{texts.get(k, '?')} → {texts.get(v, '—')}" for k, v in answer.items())
    if isinstance(answer, list):
        return " / ".join(str(a or "—") for a in answer)
    return str(answer)


def review_rows(review: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The review items with both answers put into words."""
    return [
        {
            **item,
            "your_text": _answer_text(item, item["your_answer"]),
            "correct_text": _answer_text(item, item["correct_answer"]),
        }
        for item in review
    ]
