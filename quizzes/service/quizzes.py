"""Quizzes: fixed questions or stratified random draws, settings, audience."""

from __future__ import annotations

import enum
import random
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any, Protocol, TypeVar

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import joinedload

from courses.models import LessonRevision
from elearn.extensions import db
from elearn.models import Role, Unit, User
from elearn.service import audit
from elearn.service.errors import ServiceError
from quizzes.access import may_author_at, may_edit_quiz, may_use_bank
from quizzes.models import (
    AttemptState,
    Campaign,
    Question,
    QuestionCategory,
    Quiz,
    QuizAttempt,
    QuizAudience,
    QuizItem,
    QuizMode,
    ReviewPolicy,
    SurveyParticipation,
)

AUDIENCE_ROLES = {Role.STUDENT, Role.TEACHER, Role.GUARDIAN}


def _int(value: Any, name: str, *, minimum: int = 0, maximum: int = 10**6) -> int:
    return int(_number(value, name, minimum=minimum, maximum=maximum, convert=int))


def _number(
    value: Any, name: str, *, minimum: float, maximum: float, convert: Callable[[Any], Any] = float
) -> float:
    try:
        number = convert(value)
    except (TypeError, ValueError):
        raise ServiceError(_("%(name)s must be a number.", name=name), field=name) from None
    if not minimum <= number <= maximum:
        raise ServiceError(_("%(name)s is out of range.", name=name), field=name)
    return number


def _title(value: Any) -> str:
    title = str(value or "").strip()
    if not title or len(title) > 200:
        raise ServiceError(_("Give the quiz a title (at most 200 characters)."), field="title")
    return title


def _moment(value: Any, *, name: str) -> datetime | None:
    if value is not None and not isinstance(value, datetime):
        raise ServiceError(_("%(name)s must be a date and time (ISO 8601).", name=name), field=name)
    return value


def _pass_mark(value: Any) -> float:
    try:
        return _number(value, "pass_mark", minimum=0, maximum=100)
    except ServiceError:
        raise ServiceError(
            _("The pass mark is a percentage from 0 to 100."), field="pass_mark"
        ) from None


def _time_limit(value: Any) -> int | None:
    if value in (None, ""):
        return None
    return _int(value, "time_limit", minimum=30, maximum=86400)


def _choice(value: Any, *, allowed: type[enum.StrEnum], message: Any, name: str) -> str:
    if value not in set(allowed):
        raise ServiceError(str(message), field=name)
    return str(value)


#: the settings a quiz's author may change after creating it, each with its check
_SETTINGS: dict[str, Callable[[Any], Any]] = {
    "title": _title,
    "description": lambda v: str(v or "")[:5000],
    "opens_at": partial(_moment, name="opens_at"),
    "closes_at": partial(_moment, name="closes_at"),
    "time_limit_seconds": _time_limit,
    "attempts_allowed": partial(_int, name="attempts_allowed", maximum=100),
    "pass_mark": _pass_mark,
    "review_policy": partial(
        _choice, allowed=ReviewPolicy, message=_l("Unknown review policy."), name="review_policy"
    ),
    "mode": partial(_choice, allowed=QuizMode, message=_l("Unknown quiz mode."), name="mode"),
    "one_per_page": bool,
    "publish": bool,
}
#: settings that decided the results already given: fixed once anyone has taken the quiz
_FIXED_ONCE_TAKEN = {"pass_mark", "mode"}


def _checked_settings(values: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(values) - set(_SETTINGS))
    if unknown:
        raise ServiceError(_("Unknown setting '%(name)s'.", name=unknown[0]), field=unknown[0])
    return {name: _SETTINGS[name](value) for name, value in values.items()}


def _check_window(opens_at: datetime | None, closes_at: datetime | None) -> None:
    if opens_at and closes_at and closes_at <= opens_at:
        raise ServiceError(_("The quiz must close after it opens."), field="closes_at")


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
    if not may_author_at(actor, unit):
        raise ServiceError(_("You cannot create a quiz at this unit."), status=403)
    settings = _checked_settings(
        {
            "title": title,
            "description": description,
            "opens_at": opens_at,
            "closes_at": closes_at,
            "time_limit_seconds": time_limit_seconds,
            "attempts_allowed": attempts_allowed,
            "pass_mark": pass_mark,
            "review_policy": review_policy,
            "mode": mode,
            "one_per_page": one_per_page,
            "publish": publish,
        }
    )
    _check_window(settings["opens_at"], settings["closes_at"])
    if not items:
        raise ServiceError(_("Add at least one question or random draw."), field="items")
    if not audience:
        raise ServiceError(_("Choose who takes the quiz."), field="audience")
    # a teacher-led class goes through the questions together, in one order
    self_paced = settings["mode"] == QuizMode.SELF_PACED
    quiz = Quiz(
        unit_id=unit.id,
        unit=unit,
        created_by_id=actor.id,
        shuffle_questions=bool(shuffle_questions) and self_paced,
        shuffle_options=bool(shuffle_options) and self_paced,
        is_published=settings.pop("publish"),
        **settings,
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


def times_taken(quiz: Quiz) -> int:
    """How many attempts (or, for an anonymous survey, participants) the quiz has had."""
    if quiz.is_anonymous:
        counted = select(func.count()).where(SurveyParticipation.quiz_id == quiz.id)
    else:
        counted = select(func.count(QuizAttempt.id)).where(QuizAttempt.quiz_id == quiz.id)
    return db.session.scalar(counted) or 0


def has_closed(quiz: Quiz, now: datetime | None = None) -> bool:
    """Whether the quiz's closing time has passed."""
    return quiz.closes_at is not None and (now or datetime.now(UTC)) >= quiz.closes_at


def _require_author(actor: User, quiz: Quiz) -> None:
    if not may_edit_quiz(actor, quiz):
        raise ServiceError(_("Only the quiz's authors can change it."), status=403)


def update_quiz(
    *, actor: User, quiz: Quiz, changes: dict[str, Any], now: datetime | None = None
) -> list[str]:
    """Change a quiz's settings; returns the names of those that changed.

    Once anyone has taken the quiz, the pass mark and the mode stay as they were (they decided
    the results already given) and it cannot be withdrawn from its audience (close it instead).
    A new closing time also ends the attempts in progress by then: no attempt runs past the
    close, which the review policy "after the quiz closes" relies on.
    """
    _require_author(actor, quiz)
    now = now or datetime.now(UTC)
    settings = _checked_settings(changes)
    current = {
        name: quiz.is_published if name == "publish" else getattr(quiz, name) for name in settings
    }
    changed = sorted(name for name, value in settings.items() if current[name] != value)
    if not changed:
        return []
    taken = times_taken(quiz)
    if taken:
        fixed = [name for name in changed if name in _FIXED_ONCE_TAKEN]
        if fixed:
            raise ServiceError(
                _(
                    "%(n)s people have taken this quiz: its pass mark and mode can no longer change.",
                    n=taken,
                ),
                status=409,
                field=fixed[0],
            )
        if "publish" in changed and not settings["publish"]:
            raise ServiceError(
                _(
                    "%(n)s people have taken this quiz: close it instead of withdrawing it.",
                    n=taken,
                ),
                status=409,
                field="publish",
            )
    _check_window(
        settings.get("opens_at", quiz.opens_at), settings.get("closes_at", quiz.closes_at)
    )
    for name in changed:
        if name == "publish":
            quiz.is_published = settings[name]
        else:
            setattr(quiz, name, settings[name])
    if "mode" in changed:
        quiz.shuffle_questions = quiz.shuffle_options = quiz.mode == QuizMode.SELF_PACED
    if "closes_at" in changed and quiz.closes_at is not None:
        _end_attempts_by(quiz, quiz.closes_at, now)
    db.session.flush()
    audit.record(
        "quiz.settings_changed",
        actor=actor,
        unit_id=quiz.unit_id,
        target_type="quiz",
        target_id=quiz.id,
        changed=changed,
    )
    return changed


def _end_attempts_by(quiz: Quiz, closes_at: datetime, now: datetime) -> None:
    """Attempts in progress end at the close at the latest (never before now)."""
    end = max(closes_at, now)
    db.session.execute(
        update(QuizAttempt)
        .where(
            QuizAttempt.quiz_id == quiz.id,
            QuizAttempt.state == AttemptState.IN_PROGRESS,
            or_(QuizAttempt.deadline_at.is_(None), QuizAttempt.deadline_at > end),
        )
        .values(deadline_at=end)
        .execution_options(synchronize_session="fetch")
    )


def in_progress_count(quiz: Quiz) -> int:
    return (
        db.session.scalar(
            select(func.count(QuizAttempt.id)).where(
                QuizAttempt.quiz_id == quiz.id, QuizAttempt.state == AttemptState.IN_PROGRESS
            )
        )
        or 0
    )


def close_quiz(*, actor: User, quiz: Quiz, now: datetime | None = None) -> list[str]:
    """Close the quiz now: no new attempts; those in progress end now (after the usual grace)."""
    now = now or datetime.now(UTC)
    return update_quiz(actor=actor, quiz=quiz, changes={"closes_at": now}, now=now)


def deletion_blockers(quiz: Quiz, *, taken: int | None = None) -> list[str]:
    """Why the quiz cannot be deleted (empty when it can): evidence or other things depend on it.

    ``taken``: ``times_taken(quiz)`` when the caller has counted it already.
    """
    reasons = []
    taken = times_taken(quiz) if taken is None else taken
    if taken:
        reasons.append(
            _("%(n)s people have taken it: their results are evidence and are kept.", n=taken)
        )
    campaign = db.session.scalar(select(Campaign.title).where(Campaign.quiz_id == quiz.id))
    if campaign is not None:
        reasons.append(_("It is the quiz of the campaign %(title)s.", title=campaign))
    lessons = db.session.scalar(
        select(func.count(func.distinct(LessonRevision.lesson_id))).where(
            LessonRevision.quiz_id == quiz.id
        )
    )
    if lessons:
        reasons.append(_("%(n)s lessons ask for it to be passed.", n=lessons))
    return reasons


def delete_quiz(*, actor: User, quiz: Quiz) -> None:
    """Delete a quiz nobody has taken and nothing uses; anything else is refused with the reasons."""
    _require_author(actor, quiz)
    reasons = deletion_blockers(quiz)
    if reasons:
        raise ServiceError(
            _("This quiz cannot be deleted: %(reasons)s", reasons=" ".join(reasons)), status=409
        )
    audit.record(
        "quiz.deleted",
        actor=actor,
        unit_id=quiz.unit_id,
        target_type="quiz",
        target_id=quiz.id,
        title=quiz.title,
    )
    db.session.delete(quiz)
    db.session.flush()


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
            pools[question.category_id].append(question)  # type: ignore[index]  # the query selects questions of these categories only: never None
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
