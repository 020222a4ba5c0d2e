"""The start lane's plan of a quiz: what drawing and showing an attempt of it needs, read once.

A term exam opens and thousands of students press "start" in the same minute. The start lane
keeps a plan of each quiz it starts (``read_start_plan``: the settings and questions an
attempt's draw and view need) and draws each attempt from it in the process. The plan carries
a ``fingerprint`` the database computes: a quiz or question edited since the plan was read
starts nothing in the lane (``quizzes.lanes.start_batch``), and the route starts it instead.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Text, and_, bindparam, func, literal, or_, select, tuple_
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import aliased

from quizzes import richtext
from quizzes.models import Question, QuestionVersion, Quiz, QuizItem
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
    """A question as a draw sees it (``quizzes.service.quizzes.Drawable``)."""

    id: int
    topic: str | None
    difficulty: int | None
    current_version_id: int | None
    current_version: PlannedVersion | None


@dataclass(frozen=True)
class PlannedItem:
    """A quiz item as a draw sees it (``quizzes.service.quizzes.DrawItem``)."""

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
    return func.md5(func.concat(_settings(quiz_id), "|", _items(quiz_id), "|", _offered(quiz_id)))


def _settings(quiz_id: Any) -> Any:
    """The quiz's settings that shape an attempt's draw and view, as a row literal."""
    return (
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


def _items(quiz_id: Any) -> Any:
    """The quiz's items in order, each with its fixed question's current version."""
    fixed = aliased(Question)
    return (
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


def _offered(quiz_id: Any) -> Any:
    """The questions the quiz's categories offer (version, topic, difficulty)."""
    return (
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


@functools.cache
def plan_statements() -> tuple[Any, Any, Any]:
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
    """The plan of ``quiz_id``, read in one snapshot (its fingerprint and its rows agree); None
    for a quiz the lane leaves to the route: unpublished, anonymous (no attempt rows), without
    questions, a fixed question without a version, or a question with media (its URLs are
    signed per viewer)."""
    quiz_statement, items_statement, questions_statement = plan_statements()
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
    questions = {row.id: _planned(row) for row in rows}
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


def _planned(row: Any) -> PlannedQuestion:
    """A question row of ``plan_statements`` as a draw sees it (its stem made safe once)."""
    return PlannedQuestion(
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
