"""A lesson with a quiz completes only once the quiz is passed (courses' completion checks)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from courses import service as courses
from courses.models import Lesson, LessonProgress
from elearn.extensions import db
from quizzes import service
from tests.conftest import unit_by_code, user

TEXT = "<p>" + "毒品危害身心健康。" * 30 + "</p>"


def test_lesson_completes_when_its_quiz_is_passed(quiz_factory):
    quiz = quiz_factory(types={"true_false"}, attempts_allowed=3)
    author = user("pref_admin")
    course = courses.create_course(
        actor=author, unit=unit_by_code("DEMO"), title="带测验的课程", description="测试",
        audience="student", grade_band="upper_primary", category="audio_video", drug_type="general",
    )  # fmt: skip
    courses.add_lesson(
        actor=author,
        course=course,
        title="第一课",
        kind="rich_text",
        body_html=TEXT,
        quiz_id=quiz.id,
    )
    courses.submit_for_review(actor=author, course=course)
    courses.publish(actor=author, course=course)
    lesson = db.session.scalar(select(Lesson).where(Lesson.course_id == course.id))
    student = user("student1")
    start = datetime.now(UTC)
    duration = int(lesson.published_revision.duration_seconds)
    for second in range(0, duration + 10, 5):
        courses.heartbeat(
            actor=student,
            lesson=lesson,
            position=min(second, duration),
            playing=True,
            now=start + timedelta(seconds=second),
        )
    progress = db.session.scalar(
        select(LessonProgress).filter_by(user_id=student.id, lesson_id=lesson.id)
    )
    assert progress.watched_seconds >= 0.9 * duration
    assert progress.completed_at is None  # read, but the quiz is not passed yet

    failed = service.start_attempt(actor=student, quiz=quiz)
    service.save_answer(
        actor=student,
        attempt_id=failed.id,
        question_id=failed.slots[0].question_id,
        answer=True,
        seq=1,
    )
    service.submit_attempt(actor=student, attempt_id=failed.id)
    db.session.refresh(progress)
    assert progress.completed_at is None

    passed = service.start_attempt(actor=student, quiz=quiz)
    service.save_answer(
        actor=student,
        attempt_id=passed.id,
        question_id=passed.slots[0].question_id,
        answer=False,
        seq=1,
    )
    service.submit_attempt(actor=student, attempt_id=passed.id)
    db.session.refresh(progress)
    assert progress.completed_at is not None
