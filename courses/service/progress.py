"""Progress that can be trusted: heartbeats credited by the server's clock, completion, coverage.

The player posts ``(position, playing)`` every few seconds. The server credits the interval between
the previous heartbeat's position and this one only when

* it moves forward by no more than the server time elapsed since the lesson's previous heartbeat
  allows (``elapsed × RATE_TOLERANCE + SLACK_SECONDS``, at most ``MAX_CREDIT_PER_HEARTBEAT``): a
  longer jump is a seek and credits nothing; and
* the learner's allowance still covers it. The allowance is one per learner (``LearnerClock``),
  not one per lesson: it grows only with elapsed server time (``RATE_TOLERANCE`` seconds of credit
  per second, starting at ``SLACK_SECONDS``, capped at ``MAX_CREDIT_PER_HEARTBEAT``), and every
  heartbeat of every lesson, from any device, spends it. Heartbeats posted faster than real time,
  or for several lessons "watched" side by side, therefore credit together at most the wall-clock
  time the server saw (× the tolerance) plus one allowance.

A lesson is complete when the merged watched intervals cover ``COURSES_COMPLETION_SHARE`` of its
duration (``ELEARN_COMPLETION_SHARE``, default 0.9) and every completion check agrees; a course is
complete when all its live lessons are, which records the audience's coverage fact.

Completion checks (the extension point ``LESSON_COMPLETION``) are how other packages add
requirements without courses knowing them: the quizzes package contributes, through its Feature's
hooks, a callable ``(user, lesson, revision) -> bool | None`` that answers True when the lesson's
quiz (``revision.quiz_id``) is passed, False when it is not, and None when the lesson is none of
its business. A lesson with a ``quiz_id`` needs at least
one check to answer True. When a quiz is passed later, that package calls ``refresh_completion``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from courses.models import (
    Audience,
    Course,
    CourseCompletion,
    LearnerClock,
    Lesson,
    LessonProgress,
    LessonRevision,
)
from elearn.extensions import db
from elearn.features import ExtensionPoint, hooks
from elearn.models import FactKind, Role, Unit, User
from elearn.models._types import aware
from elearn.service import coverage, org
from elearn.service.errors import ServiceError
from elearn.service.sql import insert_on_conflict

RATE_TOLERANCE = 1.1
SLACK_SECONDS = 2.0
MAX_CREDIT_PER_HEARTBEAT = 30.0
DEFAULT_COMPLETION_SHARE = 0.9

CompletionCheck = Callable[[User, Lesson, LessonRevision], "bool | None"]
#: extra requirements for completing a lesson (see the module docstring); quizzes plugs in here
LESSON_COMPLETION = ExtensionPoint(
    "courses.lesson_completion", "(user, lesson, revision) -> True, False or None (not mine)"
)

#: which role completes which track, and the coverage fact it counts as
FACT_FOR_AUDIENCE: dict[str, tuple[str, FactKind]] = {
    Audience.STUDENT: (Role.STUDENT, FactKind.STUDENT_COURSE),
    Audience.TEACHER: (Role.TEACHER, FactKind.TEACHER_TRAINED),
    Audience.PARENT: (Role.GUARDIAN, FactKind.PARENT_LEARNING),
}


def _now() -> datetime:
    return datetime.now(UTC)


def completion_share() -> float:
    return float(current_app.config.get("COURSES_COMPLETION_SHARE", DEFAULT_COMPLETION_SHARE))


def merge_intervals(intervals: list[list[float]]) -> list[list[float]]:
    """Sort and merge overlapping or touching [start, end] intervals."""
    merged: list[list[float]] = []
    for start, end in sorted((float(a), float(b)) for a, b in intervals if b > a):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return merged


def covered_seconds(intervals: list[list[float]]) -> float:
    return round(sum(end - start for start, end in intervals), 3)


@dataclass
class HeartbeatResult:
    watched_seconds: float
    completed: bool
    credited_seconds: float
    duration_seconds: float
    course_completed: bool = False


def _progress_for_update(user: User, lesson: Lesson) -> LessonProgress:
    """The learner's progress row, created if missing, locked against concurrent heartbeats."""
    db.session.execute(
        insert_on_conflict(LessonProgress)
        .values(
            user_id=user.id,
            lesson_id=lesson.id,
            course_id=lesson.course_id,
            intervals=[],
            watched_seconds=0.0,
            last_position=0.0,
            is_playing=False,
            started_at=_now(),
        )
        .on_conflict_do_nothing(index_elements=["user_id", "lesson_id"])
    )
    progress = db.session.scalar(
        select(LessonProgress)
        .where(LessonProgress.user_id == user.id, LessonProgress.lesson_id == lesson.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert progress is not None
    return progress


def _clock_for_update(user: User, now: datetime) -> LearnerClock:
    """The learner's credit clock, created if missing, locked: a learner's heartbeats, whatever
    lesson or device they come from, are credited one at a time against one allowance."""
    db.session.execute(
        insert_on_conflict(LearnerClock)
        .values(user_id=user.id, allowance=SLACK_SECONDS, refilled_at=now)
        .on_conflict_do_nothing(index_elements=["user_id"])
    )
    clock = db.session.scalar(
        select(LearnerClock)
        .where(LearnerClock.user_id == user.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert clock is not None
    return clock


def _refill(clock: LearnerClock, now: datetime) -> float:
    """Top the learner's allowance up by the server time elapsed since it was last topped up."""
    refilled_at = aware(clock.refilled_at)
    assert refilled_at is not None
    elapsed = max(0.0, (now - refilled_at).total_seconds())
    clock.allowance = min(clock.allowance + elapsed * RATE_TOLERANCE, MAX_CREDIT_PER_HEARTBEAT)
    clock.refilled_at = max(refilled_at, now)
    return clock.allowance


def heartbeat(
    *,
    actor: User,
    lesson: Lesson,
    position: float,
    playing: bool,
    now: datetime | None = None,
) -> HeartbeatResult:
    """Credit what the learner watched since their previous heartbeat (see the module docstring)."""
    revision = lesson.published_revision
    if revision is None:
        raise ServiceError(_("This lesson is not published."), status=409)
    duration = revision.duration_seconds
    if not revision.is_playable or not duration:
        raise ServiceError(_("This lesson is still being processed; try again later."), status=409)
    try:
        position = float(position)
    except (TypeError, ValueError):
        raise ServiceError(_("position must be a number."), field="position", status=422) from None
    if position != position or position < 0:  # NaN or negative
        raise ServiceError(_("position must be a number."), field="position", status=422)
    position = min(position, float(duration))
    now = now or _now()

    # the learner's clock first, then the lesson's row: always in this order, so two heartbeats
    # of one learner wait for each other rather than deadlock
    clock = _clock_for_update(actor, now)
    allowance = _refill(clock, now)
    progress = _progress_for_update(actor, lesson)
    previous_at = aware(progress.last_heartbeat_at)
    credited = 0.0
    if previous_at is not None:
        elapsed = max(0.0, (now - previous_at).total_seconds())
        span = position - progress.last_position
        plausible = (
            0 < span <= min(elapsed * RATE_TOLERANCE + SLACK_SECONDS, MAX_CREDIT_PER_HEARTBEAT)
        )
        if plausible:
            credited = min(span, allowance)
            clock.allowance = allowance - credited
            start = progress.last_position
            progress.intervals = merge_intervals(
                [*progress.intervals, [round(start, 3), round(start + credited, 3)]]
            )
    progress.last_position = position
    progress.last_heartbeat_at = now
    progress.is_playing = bool(playing)
    progress.watched_seconds = min(covered_seconds(progress.intervals), float(duration))
    course_completed = _complete_if_due(actor, lesson, revision, progress, now)
    db.session.flush()
    return HeartbeatResult(
        watched_seconds=progress.watched_seconds,
        completed=progress.completed_at is not None,
        credited_seconds=round(credited, 3),
        duration_seconds=float(duration),
        course_completed=course_completed,
    )


def _checks_pass(user: User, lesson: Lesson, revision: LessonRevision) -> bool:
    answers = [check(user, lesson, revision) for check in hooks(LESSON_COMPLETION.name)]
    if any(answer is False for answer in answers):
        return False
    # a lesson with a quiz needs some check (the quizzes package's) to vouch for it
    return revision.quiz_id is None or any(answer is True for answer in answers)


def _complete_if_due(
    user: User, lesson: Lesson, revision: LessonRevision, progress: LessonProgress, now: datetime
) -> bool:
    if progress.completed_at is not None:
        return False
    duration = revision.duration_seconds or 0
    if duration <= 0 or progress.watched_seconds < completion_share() * duration - 1e-6:
        return False
    if not _checks_pass(user, lesson, revision):
        return False
    progress.completed_at = now
    db.session.flush()
    return complete_course_if_due(user=user, course=lesson.course, now=now)


def refresh_completion(*, user: User, lesson: Lesson) -> bool:
    """Re-check a lesson's completion (e.g. after its quiz was passed); True when newly complete."""
    revision = lesson.published_revision
    if revision is None:
        return False
    progress = db.session.scalar(
        select(LessonProgress).filter_by(user_id=user.id, lesson_id=lesson.id)
    )
    if progress is None or progress.completed_at is not None:
        return False
    _complete_if_due(user, lesson, revision, progress, _now())
    db.session.flush()
    return progress.completed_at is not None


def complete_attended_lesson(*, user: User, lesson: Lesson, now: datetime | None = None) -> bool:
    """The learner took part in the lesson elsewhere (attended its live lecture long enough):
    complete it as watched, if its completion checks agree (a lesson with a quiz still needs the
    quiz passed), then the course if that was its last lesson. True when newly complete."""
    revision = lesson.published_revision
    if revision is None:
        return False
    now = now or _now()
    progress = _progress_for_update(user, lesson)
    if progress.completed_at is not None:
        return False
    if not _checks_pass(user, lesson, revision):
        db.session.flush()
        return False
    progress.completed_at = now
    db.session.flush()
    complete_course_if_due(user=user, course=lesson.course, now=now)
    return True


def complete_course_if_due(*, user: User, course: Course, now: datetime | None = None) -> bool:
    """Record the course completion once every live lesson is complete; True when newly recorded."""
    live = select(Lesson.id).where(
        Lesson.course_id == course.id, Lesson.published_revision_id.is_not(None)
    )
    total = db.session.scalar(select(func.count()).select_from(live.subquery()))
    done = db.session.scalar(
        select(func.count())
        .select_from(LessonProgress)
        .where(
            LessonProgress.user_id == user.id,
            LessonProgress.lesson_id.in_(live.scalar_subquery()),
            LessonProgress.completed_at.is_not(None),
        )
    )
    if not total or (done or 0) < total:
        return False
    exists = db.session.scalar(
        select(CourseCompletion.id).filter_by(user_id=user.id, course_id=course.id)
    )
    if exists is not None:
        return False
    completion = CourseCompletion(
        user_id=user.id,
        course_id=course.id,
        course_version=course.version,
        completed_at=now or _now(),
    )
    db.session.add(completion)
    completion.fact_kind = _record_coverage(user, course)
    db.session.flush()
    return True


def _record_coverage(user: User, course: Course) -> str | None:
    """Report the completion to the coverage dashboards as the track's fact, at the learner's unit."""
    role, kind = FACT_FOR_AUDIENCE[Audience(course.audience)]
    units: list[Unit] = sorted(user.units_for(role), key=lambda unit: unit.path)
    term = org.current_term()
    if not units or term is None:
        return None
    coverage.record_fact(kind, user.id, units[0], term)
    return kind.value
