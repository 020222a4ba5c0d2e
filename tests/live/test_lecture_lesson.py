"""A lecture may stand for a course lesson: whoever attends enough of it completes that lesson
through the courses service, so the course completion and its coverage fact follow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from courses.models import CourseCompletion, LessonProgress
from elearn.extensions import db
from elearn.models import FactKind
from elearn.service import coverage, org
from elearn.service.errors import ServiceError
from live import service
from live.models import LectureStatus
from tests.conftest import user
from tests.courses.helpers import make_course
from tests.live.helpers import make_lecture


def _progress(username: str, lesson_id: int) -> LessonProgress | None:
    return db.session.scalar(
        select(LessonProgress).filter_by(user_id=user(username).id, lesson_id=lesson_id)
    )


def _run(lecture, *attendees: tuple[str, int]) -> None:
    """The lecture runs 50 minutes; each attendee joins that many minutes in and stays."""
    expert = user("expert1")
    service.set_status(actor=expert, lecture=lecture, status=LectureStatus.LIVE)
    start = datetime.now(UTC) - timedelta(minutes=50)
    lecture.started_at = start
    for n, (username, minutes_in) in enumerate(attendees):
        service.open_interval(
            actor=user(username),
            lecture=lecture,
            sid=f"s{n}",
            now=start + timedelta(minutes=minutes_in),
        )
    service.set_status(actor=expert, lecture=lecture, status=LectureStatus.ENDED)


def test_attending_enough_completes_the_lesson_and_the_course(ctx):
    course = make_course(audience="student", lessons=1)
    lesson = course.course_units[0].lessons[0]
    lecture = make_lecture(lesson_id=lesson.id)
    assert service.lecture_json(lecture)["lesson_id"] == lesson.id
    term = org.current_term()
    pupil, late = user("student1"), user("s_S0101_5_02")
    assert not coverage.has_fact(FactKind.STUDENT_COURSE, pupil.id, term)

    _run(lecture, ("student1", 0), ("s_S0101_5_02", 40))

    progress = _progress("student1", lesson.id)
    assert progress is not None and progress.completed_at is not None
    completion = db.session.scalar(
        select(CourseCompletion).filter_by(user_id=pupil.id, course_id=course.id)
    )
    assert completion is not None and completion.fact_kind == FactKind.STUDENT_COURSE.value
    assert coverage.has_fact(FactKind.STUDENT_COURSE, pupil.id, term)
    # ten minutes of fifty is below the share (0.8 by default)
    late_progress = _progress("s_S0101_5_02", lesson.id)
    assert late_progress is None or late_progress.completed_at is None
    assert not coverage.has_fact(FactKind.STUDENT_COURSE, late.id, term)
    # done once: counting again completes nothing more
    assert service.record_lesson_completions(lecture) == 0


def test_the_share_is_configurable(app, ctx):
    course = make_course(audience="student", lessons=2)
    first = course.course_units[0].lessons[0]
    lecture = make_lecture(lesson_id=first.id)
    app.config["LIVE_LESSON_SHARE"] = 0.1
    try:
        _run(lecture, ("s_S0101_5_02", 40))
    finally:
        app.config["LIVE_LESSON_SHARE"] = 0.8
    progress = _progress("s_S0101_5_02", first.id)
    assert progress is not None and progress.completed_at is not None
    # one lesson of two: the course is not complete yet
    assert not db.session.scalar(
        select(CourseCompletion).filter_by(user_id=user("s_S0101_5_02").id, course_id=course.id)
    )


def test_only_a_lesson_the_lecturer_can_see_is_linked(ctx):
    unpublished = make_course(audience="student", lessons=1, publish=False)
    lesson = unpublished.course_units[0].lessons[0]
    with pytest.raises(ServiceError) as refused:
        make_lecture("teacher1", audience=[{"role": "student"}], lesson_id=lesson.id)
    assert refused.value.status == 404
    with pytest.raises(ServiceError):
        make_lecture(lesson_id="x")
