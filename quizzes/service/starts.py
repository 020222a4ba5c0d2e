"""Attempt starts in batches: the start lane's half of ``start_attempt`` (PostgreSQL only).

A term exam opens and thousands of students press "start" in the same minute. The start lane
(``quizzes.start_lane``) keeps a plan of each quiz it starts (``read_start_plan``: the settings
and questions an attempt's draw and view need, read once) and draws each attempt from it in the
process; ``start_bearer_attempts`` then writes a batch of starts in one statement under the rules
``start_attempt`` follows: a valid token, the quiz published and open, the caller in its
audience, no attempt in progress, an attempt left; the deadline from the quiz row as it is now.
The statement also checks the plan is still the quiz's (``fingerprint``): a quiz or question
edited since the plan was read starts nothing, and the route starts it instead.

What the lane cannot start here (a resume, a refusal, media to sign, a stale plan) goes to the
route, which says why in the caller's language.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    Connection,
    DateTime,
    Float,
    Integer,
    Select,
    Table,
    Text,
    and_,
    bindparam,
    case,
    column,
    false,
    func,
    literal,
    or_,
    select,
    true,
    tuple_,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by, distinct_on
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import aliased

from elearn.models import RoleAssignment, Unit
from elearn.service.accounts import BearerToken
from elearn.service.sql import batch_rows
from quizzes import richtext
from quizzes.models import (
    AttemptSlot,
    AttemptState,
    Question,
    QuestionVersion,
    Quiz,
    QuizAttempt,
    QuizAudience,
    QuizItem,
)
from quizzes.service.attempts import (
    attempt_payload,
    max_score,
    option_rng,
    question_view,
)
from quizzes.service.draws import attempt_questions


@dataclass(frozen=True)
class PlannedVersion:
    """A question's current version as an attempt shows it (no grading data)."""

    id: int
    type: str
    data: dict[str, Any]
    #: the stem made safe once (``richtext.clean``), not per attempt
    safe_stem: str


@dataclass(frozen=True)
class PlannedQuestion:
    """A question as a draw sees it (``quizzes.service.draws.Drawable``)."""

    id: int
    topic: str | None
    difficulty: int | None
    current_version_id: int | None
    current_version: PlannedVersion | None


@dataclass(frozen=True)
class PlannedItem:
    """A quiz item as a draw sees it (``quizzes.service.draws.DrawItem``)."""

    question_id: int | None
    question: PlannedQuestion | None
    category_id: int | None
    draw_count: int
    mark: float


@dataclass(frozen=True)
class StartPlan:
    """What starting an attempt of one quiz needs to know of it, read once."""

    id: int
    fingerprint: str
    title: str
    one_per_page: bool
    shuffle_questions: bool
    shuffle_options: bool
    mode: str
    items: tuple[PlannedItem, ...]
    pools: Mapping[int, Sequence[PlannedQuestion]]

    def draw(self, seed: int) -> list[tuple[PlannedQuestion, float]]:
        """The questions of the attempt started with ``seed``, as ``start_attempt`` draws them."""
        return attempt_questions(self, seed, (self.items, self.pools))


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


def _rows_text(columns: tuple[Any, ...], *order_by: Any) -> Any:
    """Rows as one text, each a row literal ("(1,,5,…)": a null stays apart from its
    neighbours), in ``order_by``'s order."""
    return func.string_agg(
        sql_cast(tuple_(*columns), Text), aggregate_order_by(literal(";"), *order_by)
    )


def fingerprint(quiz_id: Any) -> Any:
    """What an attempt's draw and view depend on, as one digest the database computes: the
    quiz's settings that shape them, its items, each fixed question's current version, and the
    questions its categories offer (version, topic, difficulty). Rules the start statement
    checks on the rows themselves (published, window, time limit, audience) are not in it."""
    fixed = aliased(Question)
    settings = (
        select(
            sql_cast(
                tuple_(
                    Quiz.title,
                    Quiz.one_per_page,
                    Quiz.shuffle_questions,
                    Quiz.shuffle_options,
                    Quiz.mode,
                ),
                Text,
            )
        )
        .where(Quiz.id == quiz_id)
        .correlate(None)
        .scalar_subquery()
    )
    items = (
        select(
            _rows_text(
                (
                    QuizItem.position,
                    QuizItem.question_id,
                    QuizItem.category_id,
                    QuizItem.draw_count,
                    QuizItem.mark,
                    fixed.current_version_id,
                ),
                QuizItem.position,
                QuizItem.id,
            )
        )
        .select_from(QuizItem)
        .outerjoin(fixed, fixed.id == QuizItem.question_id)
        .where(QuizItem.quiz_id == quiz_id)
        .correlate(None)
        .scalar_subquery()
    )
    offered = (
        select(
            _rows_text(
                (
                    Question.id,
                    Question.category_id,
                    Question.current_version_id,
                    Question.topic,
                    Question.difficulty,
                ),
                Question.id,
            )
        )
        .where(
            Question.is_archived.is_(False),
            Question.category_id.in_(
                select(QuizItem.category_id).where(
                    QuizItem.quiz_id == quiz_id, QuizItem.question_id.is_(None)
                )
            ),
        )
        .correlate(None)
        .scalar_subquery()
    )
    return func.md5(func.concat(settings, "|", items, "|", offered))


@functools.cache
def _plan_statements() -> tuple[Any, Any, Any]:
    """``read_start_plan``'s three statements, built once: the quiz, its items, their questions."""
    quiz_id: Any = bindparam("quiz_id")
    quiz = select(
        Quiz.id,
        Quiz.title,
        Quiz.one_per_page,
        Quiz.shuffle_questions,
        Quiz.shuffle_options,
        Quiz.mode,
        Quiz.is_published,
        Quiz.is_anonymous,
        fingerprint(quiz_id).label("fingerprint"),
    ).where(Quiz.id == quiz_id)
    items = (
        select(QuizItem.question_id, QuizItem.category_id, QuizItem.draw_count, QuizItem.mark)
        .where(QuizItem.quiz_id == quiz_id)
        .order_by(QuizItem.position)
    )
    questions = (
        select(
            Question.id,
            Question.category_id,
            Question.topic,
            Question.difficulty,
            Question.current_version_id,
            Question.is_archived,
            QuestionVersion.type,
            QuestionVersion.data,
            QuestionVersion.stem,
            QuestionVersion.media_asset_id,
        )
        .outerjoin(QuestionVersion, QuestionVersion.id == Question.current_version_id)
        .where(
            or_(
                Question.id.in_(bindparam("fixed_ids", expanding=True)),
                and_(
                    Question.category_id.in_(bindparam("categories", expanding=True)),
                    Question.is_archived.is_(False),
                ),
            )
        )
        .order_by(Question.id)
    )
    return quiz, items, questions


def read_start_plan(connection: Connection, quiz_id: int) -> StartPlan | None:
    """The plan of ``quiz_id``, read in one snapshot (its fingerprint and its rows agree); None for a quiz the lane leaves to the
    route: unpublished, anonymous (no attempt rows), without questions, a fixed question
    without a version, or a question with media (its URLs are signed per viewer)."""
    quiz_statement, items_statement, questions_statement = _plan_statements()
    connection = connection.execution_options(isolation_level="REPEATABLE READ")
    with connection.begin():
        quiz = connection.execute(quiz_statement, {"quiz_id": quiz_id}).first()
        if quiz is None or not quiz.is_published or quiz.is_anonymous:
            return None
        items = connection.execute(items_statement, {"quiz_id": quiz_id}).all()
        fixed_ids = {item.question_id for item in items if item.question_id is not None}
        categories = {item.category_id for item in items if item.question_id is None}
        rows = connection.execute(
            questions_statement,
            {"fixed_ids": sorted(fixed_ids), "categories": sorted(c for c in categories if c)},
        ).all()
    if not items or any(row.media_asset_id for row in rows):
        return None
    questions = {
        row.id: PlannedQuestion(
            id=row.id,
            topic=row.topic,
            difficulty=row.difficulty,
            current_version_id=row.current_version_id,
            current_version=PlannedVersion(
                row.current_version_id, row.type, row.data, richtext.clean(row.stem)
            )
            if row.current_version_id
            else None,
        )
        for row in rows
    }
    if any(questions[i].current_version is None for i in fixed_ids):
        return None
    pools: dict[int, list[PlannedQuestion]] = {category: [] for category in categories if category}
    for row in rows:
        if row.category_id in pools and not row.is_archived:
            pools[row.category_id].append(questions[row.id])
    return StartPlan(
        id=quiz.id,
        fingerprint=quiz.fingerprint,
        title=quiz.title,
        one_per_page=quiz.one_per_page,
        shuffle_questions=quiz.shuffle_questions,
        shuffle_options=quiz.shuffle_options,
        mode=quiz.mode,
        items=tuple(
            PlannedItem(
                question_id=item.question_id,
                question=questions.get(item.question_id) if item.question_id else None,
                category_id=item.category_id,
                draw_count=item.draw_count,
                mark=item.mark,
            )
            for item in items
        ),
        pools=pools,
    )


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
    # the quiz as start_attempt checks it, and the plan still its own; the deadline as there:
    # the earlier of the close and the time limit from now
    open_quiz = (
        select(
            Quiz.id,
            Quiz.attempts_allowed,
            func.least(
                Quiz.closes_at,
                case(
                    (
                        Quiz.time_limit_seconds > 0,
                        now + func.make_interval(0, 0, 0, 0, 0, 0, Quiz.time_limit_seconds),
                    )
                ),
            ).label("deadline_at"),
        )
        .where(
            Quiz.id == bindparam("quiz_id"),
            Quiz.is_published.is_(True),
            Quiz.is_anonymous.is_(False),
            or_(Quiz.opens_at.is_(None), Quiz.opens_at <= now),
            or_(Quiz.closes_at.is_(None), Quiz.closes_at > now),
            fingerprint(bindparam("quiz_id")) == bindparam("fingerprint"),
        )
        .cte("open_quiz")
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
    # quizzes.access.in_audience: a role the audience names, held at or below its unit; the
    # audience read once, then each caller's own roles (joined the other way round, the
    # planner walked a whole class's roles for each start)
    audience_unit = aliased(Unit)
    audience = (
        select(QuizAudience.role, audience_unit.path)
        .join(audience_unit, audience_unit.id == QuizAudience.unit_id)
        .where(QuizAudience.quiz_id == bindparam("quiz_id"))
        .cte("audience")
        .prefix_with("MATERIALIZED")
    )
    member = aliased(Unit)
    in_audience = (
        select(RoleAssignment.id)
        .join(member, member.id == RoleAssignment.unit_id)
        .join(
            audience,
            and_(
                audience.c.role == RoleAssignment.role,
                func.starts_with(member.path, audience.c.path),
            ),
        )
        .where(RoleAssignment.user_id == taker.c.user_id)
        .correlate(taker)
        .exists()
    )
    eligible = (
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
            or_(
                open_quiz.c.attempts_allowed.is_(None),
                open_quiz.c.attempts_allowed <= 0,
                previous.c.used < open_quiz.c.attempts_allowed,
            ),
            in_audience,
        )
        # one start a person in a batch: the others go to the route, which resumes it
        .ext(distinct_on(taker.c.user_id))
        .order_by(taker.c.user_id, taker.c.i)
        .cte("eligible")
    )
    attempts = cast(Table, QuizAttempt.__table__)
    inserted = (
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
    questions = (
        func.unnest(eligible.c.question_ids, eligible.c.version_ids, eligible.c.marks)
        .table_valued("question_id", "version_id", "mark", with_ordinality="position")
        .render_derived(name="question")
        .lateral()
    )
    slots = cast(Table, AttemptSlot.__table__)
    slots_added = (
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
    return (
        select(eligible.c.i, inserted.c.id, inserted.c.deadline_at)
        .select_from(inserted)
        .join(eligible, eligible.c.user_id == inserted.c.user_id)
        .add_cte(slots_added)
    )


def warm_up(connection: Connection) -> None:
    """Run each statement once on nothing, so SQLAlchemy has compiled them (a cold compile of
    the start statement costs a worker ~0.1 s, which the first wave of starts would wait for)."""
    quiz_statement, items_statement, questions_statement = _plan_statements()
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
