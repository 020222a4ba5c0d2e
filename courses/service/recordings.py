"""Recordings of live lectures in the library: a one-lesson course in 'lecture recordings'.

The live package calls ``publish_recording`` when a lecture's stream has become a ready media
asset. The course is published at once (a lecture was vetted when it was scheduled), owned by
the unit whose subtree the lecture was for, for the same track (students, teachers, guardians).
Watching it is ordinary lesson progress, so the same completion rules and coverage facts apply
(a teacher completing a training recording records "teacher trained").
"""

from __future__ import annotations

from datetime import UTC, datetime

from courses.models import (
    Audience,
    Category,
    Course,
    CourseStatus,
    CourseUnit,
    Lesson,
    LessonKind,
    LessonRevision,
    LessonRole,
)
from elearn.extensions import db
from elearn.models import Unit, User
from elearn.service import audit
from elearn.service.errors import ServiceError
from media.models import Asset, AssetStatus


def publish_recording(
    *,
    lecturer: User,
    unit: Unit,
    title: str,
    audience: str,
    asset: Asset,
    description: str = "",
    grade_band: str | None = None,
    now: datetime | None = None,
) -> Lesson:
    """Publish a ready recording as a lesson of a new course in category 'lecture recordings'."""
    if asset.status != AssetStatus.READY or asset.kind != "video":
        raise ServiceError("the recording is not a ready video", status=409)
    now = now or datetime.now(UTC)
    course = Course(
        title=title[:200],
        description=description,
        unit=unit,
        author=lecturer,
        audience=Audience(audience).value,
        grade_band=grade_band if audience == Audience.STUDENT else None,
        category=Category.LECTURE_RECORDING.value,
        format=LessonKind.VIDEO.value,
        duration_seconds=asset.duration_seconds,
        status=CourseStatus.PUBLISHED,
        version=1,
        published_at=now,
        published_by_id=lecturer.id,
    )
    db.session.add(course)
    db.session.flush()
    lesson = _only_lesson(course, asset=asset, lecturer=lecturer, now=now)
    audit.record(
        "course.published",
        actor=lecturer,
        unit_id=unit.id,
        target_type="course",
        target_id=course.id,
        version=1,
        comment="lecture recording",
    )
    db.session.flush()
    return lesson


def _only_lesson(course: Course, *, asset: Asset, lecturer: User, now: datetime) -> Lesson:
    """The course's one unit and one lesson, whose published revision plays the recording."""
    course_unit = CourseUnit(course_id=course.id, title=course.title, position=1)
    db.session.add(course_unit)
    db.session.flush()
    lesson = Lesson(course=course, course_unit=course_unit, position=1)
    db.session.add(lesson)
    db.session.flush()
    revision = LessonRevision(
        lesson_id=lesson.id,
        number=1,
        title=course.title,
        kind=LessonKind.VIDEO.value,
        asset_id=asset.id,
        body_html="",
        role=LessonRole.DEDICATED.value,
        created_by_id=lecturer.id,
        published_at=now,
    )
    db.session.add(revision)
    db.session.flush()
    lesson.published_revision = revision
    return lesson
