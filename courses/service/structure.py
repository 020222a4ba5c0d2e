"""Authors reorder and remove lessons and units of a course's working copy.

The structure learners see is versioned like lesson content: moving or removing changes the
working copy only (``position``, ``removed_at``); a published course keeps its live order
(``live_position``) and its removed lessons until the next publication applies them
(``apply_structure``, called by ``publish``). A lesson that was never published goes at once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from courses.models import Course, CourseUnit, Lesson, LessonProgress, LessonRevision
from courses.service.drafts import require_editable, touch
from elearn.extensions import db
from elearn.models import User
from elearn.service import audit
from elearn.service.errors import ServiceError

DIRECTIONS = {"up": -1, "down": 1}


def _now() -> datetime:
    return datetime.now(UTC)


def working_units(course: Course) -> list[CourseUnit]:
    """The units of the working copy, in the authors' order."""
    return [u for u in course.course_units if u.removed_at is None]


def working_lessons(course_unit: CourseUnit) -> list[Lesson]:
    return [lesson for lesson in course_unit.lessons if lesson.removed_at is None]


def _direction(direction: str) -> int:
    step = DIRECTIONS.get(direction)
    if step is None:
        raise ServiceError(_("Move a lesson or unit up or down."), field="direction", status=422)
    return step


def _swap(items: list[Any], item: Any, step: int) -> bool:
    """Swap ``item`` with its neighbour; False at either end."""
    index = items.index(item)
    other = index + step
    if other < 0 or other >= len(items):
        return False
    neighbour = items[other]
    if item.position == neighbour.position:  # repair equal positions left by old data
        for n, entry in enumerate(items, start=1):
            entry.position = n
    item.position, neighbour.position = neighbour.position, item.position
    return True


def move_lesson(*, actor: User, lesson: Lesson, direction: str) -> bool:
    """Move a lesson one place up or down within its unit (working copy); False at an end."""
    course = lesson.course
    require_editable(course)
    if lesson.removed_at is not None:
        raise ServiceError(_("This lesson has been removed."), status=409)
    moved = _swap(working_lessons(lesson.course_unit), lesson, _direction(direction))
    if moved:
        touch(course)
        audit.record("course.lesson_moved", actor=actor, unit_id=course.unit_id,
                     target_type="lesson", target_id=lesson.id, course_id=course.id,
                     direction=direction)  # fmt: skip
        db.session.flush()
        db.session.expire(lesson.course_unit, ["lessons"])
    return moved


def move_course_unit(*, actor: User, course_unit: CourseUnit, direction: str) -> bool:
    """Move a unit one place up or down in the course (working copy); False at an end."""
    course = course_unit.course
    require_editable(course)
    if course_unit.removed_at is not None:
        raise ServiceError(_("This unit has been removed."), status=409)
    moved = _swap(working_units(course), course_unit, _direction(direction))
    if moved:
        touch(course)
        audit.record("course.unit_moved", actor=actor, unit_id=course.unit_id,
                     target_type="course_unit", target_id=course_unit.id, course_id=course.id,
                     direction=direction)  # fmt: skip
        db.session.flush()
        db.session.expire(course, ["course_units"])
    return moved


def removal_impact(lessons: list[Lesson]) -> dict[str, int]:
    """What a removal touches: lessons live for learners, learners who have started them."""
    ids = [lesson.id for lesson in lessons]
    learners = 0
    if ids:
        learners = (
            db.session.scalar(
                select(func.count(func.distinct(LessonProgress.user_id))).where(
                    LessonProgress.lesson_id.in_(ids)
                )
            )
            or 0
        )
    return {
        "lessons": len(lessons),
        "live": sum(1 for lesson in lessons if lesson.is_live),
        "learners": learners,
    }


def _drop(lesson: Lesson, now: datetime) -> None:
    """Remove one lesson from the working copy: gone if never published, else pending."""
    if lesson.is_live:
        lesson.removed_at = now
        lesson.draft_revision = None  # an unpublished edit of a removed lesson goes with it
        return
    lesson.draft_revision = None
    db.session.flush()
    for revision in db.session.scalars(
        select(LessonRevision).where(LessonRevision.lesson_id == lesson.id)
    ):
        db.session.delete(revision)
    db.session.flush()  # the revisions first: the lesson row's delete would cascade to them
    db.session.delete(lesson)


def remove_lesson(*, actor: User, lesson: Lesson) -> bool:
    """Remove a lesson; True if learners keep it until the course is published again."""
    course = lesson.course
    require_editable(course)
    if lesson.removed_at is not None:
        raise ServiceError(_("This lesson has been removed."), status=409)
    pending = lesson.is_live
    title = lesson.working_revision.title if lesson.working_revision else ""
    audit.record("course.lesson_removed", actor=actor, unit_id=course.unit_id,
                 target_type="lesson", target_id=lesson.id, course_id=course.id, title=title,
                 pending=pending)  # fmt: skip
    course_unit = lesson.course_unit
    _drop(lesson, _now())
    touch(course)
    db.session.flush()
    db.session.expire(course_unit, ["lessons"])
    return pending


def remove_course_unit(*, actor: User, course_unit: CourseUnit) -> bool:
    """Remove a unit with its lessons; True if learners keep some until the next publication."""
    course = course_unit.course
    require_editable(course)
    if course_unit.removed_at is not None:
        raise ServiceError(_("This unit has been removed."), status=409)
    now = _now()
    lessons = working_lessons(course_unit)
    pending = any(lesson.is_live for lesson in lessons)
    audit.record("course.unit_removed", actor=actor, unit_id=course.unit_id,
                 target_type="course_unit", target_id=course_unit.id, course_id=course.id,
                 title=course_unit.title, lessons=len(lessons), pending=pending)  # fmt: skip
    for lesson in lessons:
        _drop(lesson, now)
    if pending:
        course_unit.removed_at = now
    else:
        db.session.flush()
        db.session.expire(course_unit, ["lessons"])  # its lessons are gone already
        db.session.delete(course_unit)
    touch(course)
    db.session.flush()
    db.session.expire(course, ["course_units"])
    return pending


def structure_changed(course: Course) -> bool:
    """Does the working copy's structure differ from what learners see?"""
    for course_unit in course.course_units:
        if course_unit.removed_at is not None:
            if course_unit.live_position is not None:
                return True
            continue
        for lesson in course_unit.lessons:
            if lesson.removed_at is not None and lesson.published_revision_id is not None:
                return True
            if lesson.is_live and lesson.removed_at is None:
                if lesson.live_position != lesson.position:
                    return True
                if course_unit.live_position != course_unit.position:
                    return True
    return False


def apply_structure(course: Course) -> None:
    """At publication: the working order goes live, removed lessons and units retire."""
    for course_unit in course.course_units:
        for lesson in course_unit.lessons:
            if lesson.removed_at is not None or course_unit.removed_at is not None:
                lesson.published_revision = None
                lesson.draft_revision = None
                lesson.live_position = None
                lesson.removed_at = lesson.removed_at or course_unit.removed_at
            else:
                lesson.live_position = lesson.position
        course_unit.live_position = None if course_unit.removed_at else course_unit.position


def live_order(course: Course) -> list[CourseUnit]:
    """The units as learners see them: the order of the last publication."""
    return sorted(
        course.course_units,
        key=lambda u: (u.live_position is None, u.live_position or 0, u.position),
    )


def live_lessons(course_unit: CourseUnit) -> list[Lesson]:
    return sorted(
        course_unit.lessons,
        key=lambda lesson: (lesson.live_position is None, lesson.live_position or 0,
                            lesson.position),
    )  # fmt: skip


def pending_removals(course: Course) -> list[Lesson]:
    """Removed lessons learners still see (until the next publication); they can be restored."""
    return [
        lesson
        for course_unit in course.course_units
        for lesson in course_unit.lessons
        if lesson.published_revision is not None
        and (lesson.removed_at is not None or course_unit.removed_at is not None)
    ]


def restore_lesson(*, actor: User, lesson: Lesson) -> None:
    """Undo a removal not yet published: the lesson (and its unit) return to the working copy."""
    course = lesson.course
    require_editable(course)
    course_unit = lesson.course_unit
    if lesson not in pending_removals(course):
        raise ServiceError(_("Only a removal not yet published can be undone."), status=409)
    lesson.removed_at = None
    if course_unit.removed_at is not None:
        course_unit.removed_at = None
        for sibling in course_unit.lessons:  # the unit's other published lessons come back too
            if sibling.published_revision is not None:
                sibling.removed_at = None
    audit.record("course.lesson_restored", actor=actor, unit_id=course.unit_id,
                 target_type="lesson", target_id=lesson.id, course_id=course.id)  # fmt: skip
    touch(course)
    db.session.flush()
