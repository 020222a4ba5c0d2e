"""How an attempt's questions are drawn: a quiz's fixed questions in place, and for each random
draw a stratified sample of its category (each topic × difficulty gets its proportional share),
shuffled when the quiz says so. The same seed and sources give the same questions, so the start
lane (``quizzes.lanes``), which draws from a cached plan of the quiz, and the route
draw alike.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from elearn.extensions import db
from quizzes.models import Question, Quiz, QuizItem, QuizMode


class Drawable(Protocol):
    """A question as a draw sees it: an ORM ``Question``, or the start lane's copy of one."""

    @property
    def id(self) -> int: ...
    @property
    def topic(self) -> str | None: ...
    @property
    def difficulty(self) -> int | None: ...
    @property
    def current_version_id(self) -> int | None: ...


class DrawItem(Protocol):
    """A quiz item as a draw sees it: an ORM ``QuizItem``, or the start lane's copy of one."""

    @property
    def question_id(self) -> int | None: ...
    @property
    def category_id(self) -> int | None: ...
    @property
    def draw_count(self) -> int: ...
    @property
    def mark(self) -> float: ...
    @property
    def question(self) -> Any: ...


class DrawSettings(Protocol):
    """What decides an attempt's question order: a ``Quiz``, or the start lane's plan."""

    @property
    def shuffle_questions(self) -> bool: ...
    @property
    def mode(self) -> str: ...


#: a quiz's items in order, and each category's questions that may be drawn (not archived)
DrawSources = tuple[Sequence[DrawItem], Mapping[int, Sequence[Drawable]]]

Q = TypeVar("Q", bound=Drawable)


def _stratified_sample(questions: list[Q], count: int, rng: random.Random) -> list[Q]:
    """Draw ``count`` questions so each topic × difficulty stratum gets its proportional share."""
    strata: dict[tuple[str, int], list[Q]] = defaultdict(list)
    for question in questions:
        strata[(question.topic or "", question.difficulty or 0)].append(question)
    keys = sorted(strata)
    total = len(questions)
    quotas = {key: count * len(strata[key]) / total for key in keys}
    allocated = {key: int(quotas[key]) for key in keys}
    # largest remainders first, ties broken at random so no stratum is always favoured
    order = sorted(keys, key=lambda k: (quotas[k] - allocated[k], rng.random()), reverse=True)
    for key in order[: count - sum(allocated.values())]:
        allocated[key] += 1
    chosen: list[Q] = []
    for key in keys:
        pool = sorted(strata[key], key=lambda q: q.id)
        chosen += rng.sample(pool, min(allocated[key], len(pool)))
    return chosen


def draw_sources(quiz: Quiz) -> DrawSources:
    """What the draws of ``quiz`` choose from, in two queries: its items with their questions
    and current versions, and every question of the categories it draws from."""
    items = db.session.scalars(
        select(QuizItem)
        .where(QuizItem.quiz_id == quiz.id)
        .order_by(QuizItem.position)
        .options(joinedload(QuizItem.question))
    ).all()
    categories = {item.category_id for item in items if item.question_id is None}
    pools: dict[int, list[Question]] = {category: [] for category in categories if category}
    if pools:
        for question in db.session.scalars(
            select(Question)
            .where(Question.category_id.in_(pools), Question.is_archived.is_(False))
            .order_by(Question.id)
        ):
            category = question.category_id
            assert category is not None  # the query asked for these categories
            pools[category].append(question)
    return items, pools


def draw_from(sources: DrawSources, rng: random.Random) -> list[tuple[Any, float]]:
    """The questions of one attempt, in quiz order: fixed ones and stratified random draws."""
    items, pools = sources
    drawn: list[tuple[Any, float]] = []
    taken: set[int] = set()
    fixed_ids = {item.question_id for item in items if item.question_id}
    for item in items:
        if item.question_id is not None and item.question is not None:
            drawn.append((item.question, item.mark))
            taken.add(item.question_id)
            continue
        pool = [
            q
            for q in pools.get(item.category_id or 0, ())
            if q.id not in taken and q.id not in fixed_ids and q.current_version_id
        ]
        for question in _stratified_sample(pool, min(item.draw_count, len(pool)), rng):
            drawn.append((question, item.mark))
            taken.add(question.id)
    return drawn


def draw_questions(quiz: Quiz, rng: random.Random) -> list[tuple[Question, float]]:
    """The questions of one attempt of ``quiz``, in quiz order (``draw_from``)."""
    return draw_from(draw_sources(quiz), rng)


def attempt_questions(
    quiz: DrawSettings, seed: int, sources: DrawSources
) -> list[tuple[Any, float]]:
    """The questions of the attempt (or anonymous response) started with ``seed``: drawn, then
    shuffled when the quiz says so. The same seed and sources give the same questions."""
    rng = random.Random(seed)
    drawn = draw_from(sources, rng)
    if quiz.shuffle_questions and quiz.mode == QuizMode.SELF_PACED:
        rng.shuffle(drawn)
    return drawn
