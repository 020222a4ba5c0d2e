"""Lesson quizzes: a lesson whose revision names a quiz is complete only once that quiz is passed.

``courses`` asks through its completion-check registry; when a quiz is passed later, courses is
told to re-check the lessons that use it.
"""

from __future__ import annotations

from sqlalchemy import select

from courses.models import Lesson, LessonRevision
from courses.service import refresh_completion
from elearn.extensions import db
from elearn.models import User
from quizzes.models import AttemptState, QuizAttempt


def has_passed(user: User, quiz_id: int) -> bool:
    return (
        db.session.scalar(
            select(QuizAttempt.id).where(
                QuizAttempt.quiz_id == quiz_id,
                QuizAttempt.user_id == user.id,
                QuizAttempt.state == AttemptState.FINISHED,
                QuizAttempt.passed.is_(True),
            )
        )
        is not None
    )


def lesson_quiz_passed(user: User, lesson: Lesson, revision: LessonRevision) -> bool | None:
    """courses' completion check: None when the lesson has no quiz, else whether it is passed."""
    if revision.quiz_id is None:
        return None
    return has_passed(user, revision.quiz_id)


def quiz_passed(*, user: User, quiz_id: int) -> int:
    """Tell courses that ``user`` passed ``quiz_id``; returns how many lessons became complete."""
    lessons = db.session.scalars(
        select(Lesson)
        .join(LessonRevision, LessonRevision.id == Lesson.published_revision_id)
        .where(LessonRevision.quiz_id == quiz_id)
    ).all()
    return sum(1 for lesson in lessons if refresh_completion(user=user, lesson=lesson))
