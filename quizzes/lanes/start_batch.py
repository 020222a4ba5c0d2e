"""Attempt starts in batches: the start lane's half of ``start_attempt`` (PostgreSQL only).

``start_bearer_attempts`` writes a batch of starts drawn from a plan (``quizzes.lanes.plans``)
in one statement, under the rules ``start_attempt`` follows, each restated in SQL from
``quizzes.rules``: a valid token, the quiz published and open, the caller in its audience, no
attempt in progress, an attempt left; the deadline from the quiz row as it is now. The
statement also checks the plan is still the quiz's (its fingerprint).

What the lane cannot start here (a resume, a refusal, media to sign, a stale plan) goes to the
route, which says why in the caller's language.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    CTE,
    Connection,
    DateTime,
    Float,
    Integer,
    Select,
    Table,
    Text,
    bindparam,
    column,
    false,
    func,
    literal,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY, distinct_on
from sqlalchemy.dialects.postgresql import insert as pg_insert

from elearn.service.accounts import BearerToken
from elearn.service.sql import batch_rows
from quizzes import rules
from quizzes.lanes.plans import (
    PlannedQuestion,
    PlannedVersion,
    StartPlan,
    fingerprint,
    plan_statements,
)
from quizzes.models import AttemptSlot, AttemptState, Quiz, QuizAttempt
from quizzes.service.attempt_views import attempt_payload, option_rng, question_view
from quizzes.service.attempts import max_score


@dataclass(frozen=True)
class BearerStart:
    """One start sent with a bearer token (its hash), its questions already drawn."""

    token_hash: str
    seed: int
    drawn: list[tuple[PlannedQuestion, float]]


@dataclass(frozen=True)
class StartedAttempt:
    attempt_id: int
    started_at: datetime
    deadline: datetime | None


def start_bearer_attempts(
    connection: Connection, plan: StartPlan, starts: Sequence[BearerStart], *, now: datetime
) -> list[StartedAttempt | None]:
    """Start many attempts of ``plan``'s quiz (from many requests) in one statement, each under
    ``start_attempt``'s rules: for each, the attempt started, or None. ``connection`` in
    autocommit: the statement is its own transaction, and one commit carries the batch.

    None is every start the route must answer: a refusal, a resume (an attempt in progress),
    a second start by one person in the batch, a stale plan. Two starts by one person at the
    same moment meet the unique (quiz, user, number), as on the route.
    """
    rows = connection.execute(
        _start_statement(),
        {
            "items": [
                {
                    "i": i,
                    "token_hash": start.token_hash,
                    "seed": start.seed,
                    "max_score": max_score(start.drawn),
                    "question_ids": [question.id for question, _ in start.drawn],
                    "version_ids": [question.current_version_id for question, _ in start.drawn],
                    "marks": [mark for _, mark in start.drawn],
                }
                for i, start in enumerate(starts)
            ],
            "quiz_id": plan.id,
            "fingerprint": plan.fingerprint,
            "now": now,
        },
    )
    started = {
        row.i: StartedAttempt(
            row.id, now, row.deadline_at.astimezone(UTC) if row.deadline_at else None
        )
        for row in rows
    }
    return [started.get(i) for i in range(len(starts))]


@functools.cache
def _start_statement() -> Select[Any]:
    """``start_bearer_attempts``' statement, built once: the starts as rows of a JSON array,
    the quiz's rules checked once, each caller's row by row, then the attempts and their slots
    inserted (data-modifying CTEs: one statement)."""
    now = bindparam("now", type_=DateTime(timezone=True))
    items = batch_rows(
        column("i", Integer),
        column("token_hash", Text),
        column("seed", Integer),
        column("max_score", Float),
        column("question_ids", ARRAY(Integer)),
        column("version_ids", ARRAY(Integer)),
        column("marks", ARRAY(Float)),
    )
    # the token looked up once per start (a CTE used more than once is computed once)
    taker = (
        select(
            *items.c,
            BearerToken.user_id_of(items.c.token_hash, now).correlate(items).label("user_id"),
        )
        .cte("taker")
        .prefix_with("MATERIALIZED")
    )
    eligible = _eligible(taker, _open_quiz(now))
    inserted = _inserted_attempts(eligible, now)
    return (
        select(eligible.c.i, inserted.c.id, inserted.c.deadline_at)
        .select_from(inserted)
        .join(eligible, eligible.c.user_id == inserted.c.user_id)
        .add_cte(_inserted_slots(eligible, inserted))
    )


def _open_quiz(now: Any) -> CTE:
    """The quiz as ``start_attempt`` checks it (``quizzes.rules``: published, not anonymous,
    open now), and the plan still its own; the deadline as there."""
    return (
        select(Quiz.id, Quiz.attempts_allowed, rules.deadline_sql(now).label("deadline_at"))
        .where(
            Quiz.id == bindparam("quiz_id"),
            rules.published_sql(),
            Quiz.is_anonymous.is_(False),
            *rules.window_open_sql(now),
            fingerprint(bindparam("quiz_id")) == bindparam("fingerprint"),
        )
        .cte("open_quiz")
    )


def _eligible(taker: CTE, open_quiz: CTE) -> CTE:
    """The starts ``start_attempt`` would make: a valid token, no attempt in progress, an
    attempt left, the caller in the audience; one a person (the others go to the route)."""
    previous = (
        select(
            func.count(QuizAttempt.id).label("used"),
            func.coalesce(func.max(QuizAttempt.number), 0).label("top"),
            func.coalesce(
                func.bool_or(QuizAttempt.state == AttemptState.IN_PROGRESS), false()
            ).label("busy"),
        )
        .where(QuizAttempt.quiz_id == open_quiz.c.id, QuizAttempt.user_id == taker.c.user_id)
        .correlate(open_quiz, taker)
        .lateral("previous")
    )
    in_audience = rules.in_audience_sql(taker.c.user_id, bindparam("quiz_id")).correlate(taker)
    return (
        select(
            taker.c.i,
            taker.c.user_id,
            taker.c.seed,
            taker.c.max_score,
            taker.c.question_ids,
            taker.c.version_ids,
            taker.c.marks,
            (previous.c.top + 1).label("number"),
            open_quiz.c.id.label("quiz_id"),
            open_quiz.c.deadline_at,
        )
        .select_from(taker)
        .join(open_quiz, true())
        .join(previous, true())
        .where(
            taker.c.user_id.is_not(None),
            previous.c.busy.is_(False),
            rules.attempts_left_sql(open_quiz.c.attempts_allowed, previous.c.used),
            in_audience,
        )
        # one start a person in a batch: the others go to the route, which resumes it
        .ext(distinct_on(taker.c.user_id))
        .order_by(taker.c.user_id, taker.c.i)
        .cte("eligible")
    )


def _inserted_attempts(eligible: CTE, now: Any) -> CTE:
    """The attempts, as ``start_attempt`` inserts them (a second start by one person at the
    same moment meets the unique (quiz, user, number), as on the route)."""
    attempts = cast(Table, QuizAttempt.__table__)
    return (
        pg_insert(attempts)
        .from_select(
            [
                "quiz_id",
                "user_id",
                "number",
                "state",
                "seed",
                "started_at",
                "deadline_at",
                "max_score",
                "needs_manual_grading",
            ],
            select(
                eligible.c.quiz_id,
                eligible.c.user_id,
                eligible.c.number,
                literal(AttemptState.IN_PROGRESS.value),
                eligible.c.seed,
                now,
                eligible.c.deadline_at,
                eligible.c.max_score,
                false(),
            ),
        )
        .on_conflict_do_nothing(index_elements=["quiz_id", "user_id", "number"])
        .returning(attempts.c.id, attempts.c.user_id, attempts.c.deadline_at)
        .cte("inserted")
    )


def _inserted_slots(eligible: CTE, inserted: CTE) -> CTE:
    """Each inserted attempt's slots, its drawn questions in order."""
    questions = (
        func.unnest(eligible.c.question_ids, eligible.c.version_ids, eligible.c.marks)
        .table_valued("question_id", "version_id", "mark", with_ordinality="position")
        .render_derived(name="question")
        .lateral()
    )
    slots = cast(Table, AttemptSlot.__table__)
    return (
        pg_insert(slots)
        .from_select(
            ["attempt_id", "position", "question_id", "version_id", "mark", "seq"],
            select(
                inserted.c.id,
                questions.c.position,
                questions.c.question_id,
                questions.c.version_id,
                questions.c.mark,
                literal(0),
            )
            .select_from(inserted)
            .join(eligible, eligible.c.user_id == inserted.c.user_id)
            .join(questions, true()),
        )
        .cte("slots_added")
    )


def warm_up(connection: Connection) -> None:
    """Run each statement once on nothing, so SQLAlchemy has compiled them (a cold compile of
    the start statement costs a worker ~0.1 s, which the first wave of starts would wait for)."""
    quiz_statement, items_statement, questions_statement = plan_statements()
    with connection.begin():
        connection.execute(quiz_statement, {"quiz_id": 0}).all()
        connection.execute(items_statement, {"quiz_id": 0}).all()
        connection.execute(questions_statement, {"fixed_ids": [], "categories": []}).all()
    empty = StartPlan(0, "", "", True, False, False, "", (), {})
    start_bearer_attempts(connection, empty, [], now=datetime.now(UTC))


def started_view(plan: StartPlan, start: BearerStart, started: StartedAttempt) -> dict[str, Any]:
    """The payload of an attempt the lane started: ``attempt_view``'s, from the plan."""
    questions = []
    for position, (question, mark) in enumerate(start.drawn, start=1):
        version = cast(PlannedVersion, question.current_version)
        questions.append(
            question_view(
                question.id,
                position,
                mark,
                version,
                version.safe_stem,
                option_rng(start.seed, plan, question.id, version.type),
            )
        )
    return attempt_payload(
        plan,
        attempt_id=started.attempt_id,
        state=AttemptState.IN_PROGRESS,
        started_at=started.started_at,
        deadline=started.deadline,
        now=started.started_at,
        questions=questions,
        answers={},
    )
