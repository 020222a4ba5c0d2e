"""The autosave lane's statement: many saves (from many requests) in one statement.

Each save is decided under ``save_answer``'s rules (``quizzes.rules``: the owner or the
attempt page's save key, the attempt in progress, the deadline and its slack, the slot's
sequence number and version), restated in SQL row by row. PostgreSQL only.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

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
    or_,
    select,
    true,
    update,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import ARRAY

from elearn.models import User, UserSession
from elearn.models._types import aware
from elearn.service.accounts import BearerToken
from elearn.service.sql import batch_rows
from quizzes import rules
from quizzes.models import AttemptSlot, QuizAttempt
from quizzes.service.saves import SavedAnswer


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
    slots = cast(Table, AttemptSlot.__table__)
    slot = _open_slot(items, slots)
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
            *rules.slot_takes_sql(
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


def _open_slot(items: Any, slots: Table) -> Any:
    """Each item's attempt (share-locked, as by ``_save_statement``) and slot, looked up by
    their keys in a lateral subquery: joined, the planner guessed the items' number (always
    100) and scanned every attempt in progress, or every slot. The attempt is the caller's: by
    the bearer token's owner, or by the page's save key while its owner is signed in."""
    owner = BearerToken.user_id_of(items.c.token_hash, bindparam("now")).correlate(items)
    return (
        select(slots.c.id, QuizAttempt.deadline_at)
        .select_from(QuizAttempt)
        .join(
            slots,
            (slots.c.attempt_id == QuizAttempt.id) & (slots.c.question_id == items.c.question_id),
        )
        .where(
            *rules.open_attempt_sql(
                items.c.attempt_id,
                or_(
                    QuizAttempt.user_id == owner,
                    and_(QuizAttempt.save_key_hash == items.c.key_hash, _signed_in()),
                ),
            )
        )
        .with_for_update(read=True, of=QuizAttempt)
        .correlate(items)
        .lateral("slot")
    )


def _signed_in() -> Any:
    """A save key counts while its owner is signed in somewhere and the account is active: a
    password reset or a disabled account (every session ended) ends the page's key too."""
    return (
        select(UserSession.id)
        .join(User, User.id == UserSession.user_id)
        .where(
            UserSession.user_id == QuizAttempt.user_id,
            UserSession.revoked_at.is_(None),
            User.is_active_account.is_(True),
        )
        .exists()
    )
