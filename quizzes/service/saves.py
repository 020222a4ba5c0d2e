"""Autosave: one answer at a time, decided and written by one statement.

The browser sends each answer with a per-question sequence number; the server keeps it only
when it is newer than the stored one, in the caller's own attempt in progress, until the
deadline and the save slack (the rules: ``quizzes.rules``). The autosave lane
(``quizzes.lanes``) stores many of them in one statement under the same rules, and sends every
save it does not store here, to be saved or refused with its reason.
"""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from flask_babel import gettext as _
from sqlalchemy import Table, Update, bindparam, select, update

from elearn.extensions import db
from elearn.models import User
from elearn.models._types import aware
from elearn.service.accounts import BearerToken, hash_token
from elearn.service.errors import NotFound, ServiceError, Unauthenticated
from elearn.service.sql import one_statement_connection
from quizzes import rules
from quizzes.models import AttemptSlot, AttemptState, QuestionVersion, QuizAttempt
from quizzes.qtypes import get_type
from quizzes.service.attempt_views import clock_fields


def issue_save_key(attempt: QuizAttempt) -> str:
    """A new save key for the owner's attempt page (the last page given one holds the only
    valid key). With it the page's autosaves go through the autosave lane; it writes answers
    to this attempt alone, while the attempt is open, and every refused save still goes to the
    route, which checks the session as always."""
    key = secrets.token_urlsafe(24)
    attempt.save_key_hash = hash_token(key)
    db.session.flush()
    return key


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
    now = now or datetime.now(UTC)
    if not rules.seq_valid(seq):
        raise rules.bad_seq()
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
                    "deadline_after": now - rules.save_slack(),
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
        .where(*rules.open_attempt_sql(bindparam("the_attempt"), QuizAttempt.user_id == owner))
        .with_for_update(read=True)
        .cte("open_attempt")
    )
    slots = cast(Table, AttemptSlot.__table__)
    return (
        update(slots)
        .where(
            *rules.slot_takes_sql(
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


def known_versions(question_id: int) -> dict[int, tuple[str, Any]] | None:
    """A question's versions if this process has read them (see ``_versions_of``), else None."""
    return _VERSIONS.get(question_id)


def answer_fits(versions: dict[int, tuple[str, Any]], answer: Any) -> tuple[int, ...]:
    """The versions (of those given) that ``answer`` fits."""
    return tuple(v for v, (kind, data) in versions.items() if get_type(kind).accepts(data, answer))


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
        return rules.not_yours()
    if row.state != AttemptState.IN_PROGRESS:
        return rules.submitted()
    if rules.past_saving(row.deadline_at, now, rules.save_slack()):
        return rules.time_up()
    if row.slot_id is None:
        return NotFound(_("This question is not part of the attempt."))
    if row.version_id not in versions:
        return None
    if row.version_id not in fitting:
        return ServiceError(_("This answer does not fit the question."), field="answer")
    return rules.stale_seq()
