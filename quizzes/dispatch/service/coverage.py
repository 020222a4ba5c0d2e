"""What dispatch reports to the carrier's coverage: a finished term exam is evidence that the
student was assessed this term (one fact per student and term; ``elearn.service.coverage``).

Called as each attempt is graded, so it stays light: the carrier and the models only.
"""

from __future__ import annotations

from elearn.models import FactKind, Role
from elearn.service import coverage, org
from quizzes.models import QuizAttempt, QuizKind


def record_exam_coverage(attempt: QuizAttempt) -> None:
    """A finished term exam is evidence that the student was assessed this term."""
    if attempt.quiz.kind != QuizKind.EXAM:
        return
    term = org.current_term()
    klass = next((a.unit for a in attempt.user.roles if a.role == Role.STUDENT), None)
    if term is None or klass is None:
        return
    coverage.record_fact(FactKind.STUDENT_ASSESSED, attempt.user_id, klass, term)
