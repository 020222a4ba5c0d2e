"""Quick questions asked outside a quiz attempt (a live lecture's quick quiz): the question-bank
questions a host may use, their public view, grading and key, all through the question-type
registry, so an answer is graded exactly as in an attempt. Keys never go out from here except
through ``answer_key``, which the caller shows only when its rules allow.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from elearn import permissions
from elearn.extensions import db
from elearn.models import User
from elearn.service.errors import ServiceError
from quizzes import richtext
from quizzes.models import Question, QuestionVersion
from quizzes.qtypes import get_type

MAX_QUICK_QUESTIONS = 10


def quick_questions(*, actor: User, question_ids: Any) -> list[QuestionVersion]:
    """The current versions of the chosen questions, in the order given: each from a bank the
    actor may use, not archived, and graded automatically with a right answer."""
    if (
        not isinstance(question_ids, list)
        or not 1 <= len(question_ids) <= MAX_QUICK_QUESTIONS
        or not all(isinstance(i, int) and not isinstance(i, bool) for i in question_ids)
        or len(set(question_ids)) != len(question_ids)
    ):
        raise ServiceError(
            _("Choose 1 to %(n)d different questions from a question bank.", n=MAX_QUICK_QUESTIONS)
        )
    found = {
        q.id: q for q in db.session.scalars(select(Question).where(Question.id.in_(question_ids)))
    }
    versions = []
    for question_id in question_ids:
        question = found.get(question_id)
        if (
            question is None
            or question.is_archived
            or question.current_version is None
            or not permissions.can(actor, "use", question.bank)
        ):
            raise ServiceError(_("No such question in a bank you may use."), status=404)
        question_type = get_type(question.current_version.type)
        if not (question_type.auto_graded and question_type.scored):
            raise ServiceError(
                _("A quick quiz takes only questions graded automatically with a right answer.")
            )
        versions.append(question.current_version)
    return versions


def public_question(version: QuestionVersion) -> dict[str, Any]:
    """What a student sees of a question: the stem (safe HTML) and its options, no answers."""
    return {
        "type": version.type,
        "stem": richtext.clean(version.stem),
        **get_type(version.type).public_view(version.data, None),
    }


def grade_answer(version: QuestionVersion, answer: Any) -> float:
    """The fraction (0..1) an answer earns; refused when it is not an answer to this question."""
    question_type = get_type(version.type)
    if answer is None or not question_type.accepts(version.data, answer):
        raise ServiceError(_("This is not an answer to the question."))
    return float(question_type.grade(version.data, version.grading, answer) or 0.0)


def answer_key(version: QuestionVersion) -> Any:
    """The right answer, in the same shape as an answer."""
    return get_type(version.type).correct_answer(version.data, version.grading)
