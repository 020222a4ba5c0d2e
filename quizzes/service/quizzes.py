"""Quizzes: fixed questions or stratified random draws, settings, audience."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from elearn.extensions import db
from elearn.models import Role, Unit, User
from elearn.service import audit
from elearn.service.errors import ServiceError
from quizzes.access import may_author_at, may_use_bank
from quizzes.models import (
    Question,
    QuestionCategory,
    Quiz,
    QuizAttempt,
    QuizAudience,
    QuizItem,
    QuizMode,
    ReviewPolicy,
)

AUDIENCE_ROLES = {Role.STUDENT, Role.TEACHER, Role.GUARDIAN}


def _int(value: Any, name: str, *, minimum: int = 0, maximum: int = 10**6) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ServiceError(_("%(name)s must be a number.", name=name), field=name) from None
    if not minimum <= number <= maximum:
        raise ServiceError(_("%(name)s is out of range.", name=name), field=name)
    return number


def create_quiz(
    *,
    actor: User,
    unit: Unit,
    title: str,
    items: list[dict[str, Any]],
    audience: list[tuple[Unit, str]],
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
    time_limit_seconds: int | None = None,
    attempts_allowed: int = 1,
    pass_mark: float = 60.0,
    review_policy: str = ReviewPolicy.IMMEDIATELY,
    mode: str = QuizMode.SELF_PACED,
    shuffle_questions: bool = True,
    shuffle_options: bool = True,
    one_per_page: bool = True,
    description: str = "",
    publish: bool = False,
) -> Quiz:
    """A quiz owned at ``unit``: items are {"question_id"} or {"category_id", "count"}, each with a "mark"."""
    title = (title or "").strip()
    if not title or len(title) > 200:
        raise ServiceError(_("Give the quiz a title (at most 200 characters)."), field="title")
    if not may_author_at(actor, unit):
        raise ServiceError(_("You cannot create a quiz at this unit."), status=403)
    if review_policy not in set(ReviewPolicy):
        raise ServiceError(_("Unknown review policy."), field="review_policy")
    if mode not in set(QuizMode):
        raise ServiceError(_("Unknown quiz mode."), field="mode")
    if opens_at and closes_at and closes_at <= opens_at:
        raise ServiceError(_("The quiz must close after it opens."), field="closes_at")
    if time_limit_seconds is not None:
        time_limit_seconds = _int(time_limit_seconds, "time_limit", minimum=30, maximum=86400)
    if not 0 <= float(pass_mark) <= 100:
        raise ServiceError(_("The pass mark is a percentage from 0 to 100."), field="pass_mark")
    if not items:
        raise ServiceError(_("Add at least one question or random draw."), field="items")
    if not audience:
        raise ServiceError(_("Choose who takes the quiz."), field="audience")
    quiz = Quiz(
        title=title,
        description=description or "",
        unit_id=unit.id,
        unit=unit,
        created_by_id=actor.id,
        mode=mode,
        # a teacher-led class goes through the questions together, in one order
        shuffle_questions=bool(shuffle_questions) and mode == QuizMode.SELF_PACED,
        shuffle_options=bool(shuffle_options) and mode == QuizMode.SELF_PACED,
        one_per_page=bool(one_per_page),
        time_limit_seconds=time_limit_seconds,
        opens_at=opens_at,
        closes_at=closes_at,
        attempts_allowed=_int(attempts_allowed, "attempts_allowed", maximum=100),
        pass_mark=float(pass_mark),
        review_policy=review_policy,
        is_published=bool(publish),
    )
    db.session.add(quiz)
    db.session.flush()
    for position, spec in enumerate(items, start=1):
        quiz.items.append(_item(actor, position, spec))
    for audience_unit, role in audience:
        if role not in AUDIENCE_ROLES:
            raise ServiceError(_("Unknown role '%(role)s'.", role=role), field="audience")
        if not may_author_at(actor, audience_unit) and not audience_unit.path.startswith(unit.path):
            raise ServiceError(_("The audience must lie within your units."), field="audience")
        quiz.audiences.append(QuizAudience(unit_id=audience_unit.id, unit=audience_unit, role=role))
    db.session.flush()
    audit.record(
        "quiz.created", actor=actor, unit_id=unit.id, target_type="quiz", target_id=quiz.id
    )
    return quiz


def _item(actor: User, position: int, spec: dict[str, Any]) -> QuizItem:
    mark = float(spec.get("mark", 1) or 1)
    if mark <= 0:
        raise ServiceError(_("The mark must be a number."), field="items")
    if spec.get("question_id") is not None:
        question = db.session.get(Question, _int(spec["question_id"], "question_id"))
        if question is None or question.is_archived or not may_use_bank(actor, question.bank):
            raise ServiceError(
                _("Question %(id)s is not in a bank you may use.", id=spec["question_id"]),
                field="items",
            )
        return QuizItem(position=position, question_id=question.id, draw_count=1, mark=mark)
    if spec.get("category_id") is not None:
        category = db.session.get(QuestionCategory, _int(spec["category_id"], "category_id"))
        if category is None or not may_use_bank(actor, category.bank):
            raise ServiceError(
                _("Category %(id)s is not in a bank you may use.", id=spec["category_id"]),
                field="items",
            )
        count = _int(spec.get("count", 1), "count", minimum=1, maximum=500)
        available = db.session.scalar(
            select(func.count(Question.id)).where(
                Question.category_id == category.id, Question.is_archived.is_(False)
            )
        )
        if (available or 0) < count:
            raise ServiceError(
                _(
                    "The category has %(n)s questions; fewer than the %(count)s to draw.",
                    n=available or 0,
                    count=count,
                ),
                field="items",
            )
        return QuizItem(position=position, category_id=category.id, draw_count=count, mark=mark)
    raise ServiceError(_("Each item needs a question_id or a category_id."), field="items")


def _stratified_sample(questions: list[Question], count: int, rng: random.Random) -> list[Question]:
    """Draw ``count`` questions so each topic × difficulty stratum gets its proportional share."""
    strata: dict[tuple[str, int], list[Question]] = defaultdict(list)
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
    chosen: list[Question] = []
    for key in keys:
        pool = sorted(strata[key], key=lambda q: q.id)
        chosen += rng.sample(pool, min(allocated[key], len(pool)))
    return chosen


def draw_questions(quiz: Quiz, rng: random.Random) -> list[tuple[Question, float]]:
    """The questions of one attempt, in quiz order: fixed ones and stratified random draws."""
    drawn: list[tuple[Question, float]] = []
    taken: set[int] = set()
    # the items with their questions and current versions in one query (not one per item)
    items = db.session.scalars(
        select(QuizItem)
        .where(QuizItem.quiz_id == quiz.id)
        .order_by(QuizItem.position)
        .options(joinedload(QuizItem.question))
    ).all()
    fixed_ids = {item.question_id for item in items if item.question_id}
    for item in items:
        if item.question_id is not None and item.question is not None:
            drawn.append((item.question, item.mark))
            taken.add(item.question_id)
            continue
        pool = [
            q
            for q in db.session.scalars(
                select(Question).where(
                    Question.category_id == item.category_id, Question.is_archived.is_(False)
                )
            )
            if q.id not in taken and q.id not in fixed_ids and q.current_version_id
        ]
        for question in _stratified_sample(pool, min(item.draw_count, len(pool)), rng):
            drawn.append((question, item.mark))
            taken.add(question.id)
    return drawn


def attempts_left(quiz: Quiz, user: User) -> int | None:
    """How many more attempts ``user`` may start; None when unlimited."""
    if not quiz.attempts_allowed:
        return None
    used = db.session.scalar(
        select(func.count(QuizAttempt.id)).where(
            QuizAttempt.quiz_id == quiz.id, QuizAttempt.user_id == user.id
        )
    )
    return max(0, quiz.attempts_allowed - (used or 0))
