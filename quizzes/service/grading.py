"""Grading by hand: the answers a teacher grades, with the reference answer, in points.

A teacher gives points, 0 to the question's mark, as on paper; the slot keeps the share of the
mark (``AttemptSlot.fraction``), converted once, in ``attempts.grade_slot``. The points of one
attempt are saved together or not at all: a typing slip in one of them leaves every answer as it
was, and the page says which one to correct.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _

from elearn.models import User
from elearn.service.errors import ServiceError
from quizzes import figures, richtext
from quizzes.models import AttemptSlot, QuizAttempt
from quizzes.qtypes import get_type
from quizzes.service.attempts import grade_slot


def _manual(slot: AttemptSlot) -> bool:
    question_type = get_type(slot.version.type)
    return question_type.scored and not question_type.auto_graded


def _text(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list):
        return " / ".join(str(v) for v in value)
    return str(value)


def manual_rows(attempt: QuizAttempt) -> list[dict[str, Any]]:
    """The attempt's hand-graded answers: the question, the answer, the reference answer, the
    mark and the points given so far (None until graded)."""
    rows = []
    for slot in attempt.slots:
        if not _manual(slot):
            continue
        version = slot.version
        reference = get_type(version.type).correct_answer(version.data, version.grading)
        rows.append(
            {
                "slot": slot,
                "field": f"points_{slot.question_id}",
                "position": slot.position,
                "stem": richtext.clean(version.stem),
                "answer": _text(slot.answer),
                "reference": _text(reference),
                "mark": slot.mark,
                "points": figures.score(slot.fraction * slot.mark)
                if slot.fraction is not None
                else None,
            }
        )
    return rows


def _points(value: Any, slot: AttemptSlot) -> float:
    """The points typed or sent for ``slot``: a number from 0 to its mark, or a refusal that
    says so."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if isinstance(value, bool) or not (math.isfinite(number) and 0 <= number <= slot.mark):
        raise ServiceError(
            _(
                "Question %(n)s: give a number of points from 0 to %(m)s.",
                n=slot.position,
                m=figures.score_text(slot.mark),
            ),
            field=f"points_{slot.question_id}",
        )
    return number


def grade_points(*, actor: User, attempt: QuizAttempt, points: Mapping[int, Any]) -> QuizAttempt:
    """Grade hand-graded answers of ``attempt`` in points ({question id: points}); all or none."""
    slots = {slot.question_id: slot for slot in attempt.slots if _manual(slot)}
    checked: list[tuple[AttemptSlot, float]] = []
    for question_id, value in points.items():
        slot = slots.get(question_id)
        if slot is None:
            raise ServiceError(
                _("This answer is not graded by hand."), status=404, field="question_id"
            )
        checked.append((slot, _points(value, slot)))
    for slot, number in checked:
        grade_slot(actor=actor, slot=slot, points=number)
    return attempt
