"""Question interchange: GIFT, Moodle XML and the teachers' .xlsx template.

Parsers turn a file into ``QuestionDraft``s and per-question errors (with line numbers); the
service validates every draft against its type and imports nothing when any error remains
(as Moodle rejects a whole file for one bad question). Exporters turn versions back into files.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from quizzes.qtypes import option_weights

BLANK = "_____"

#: the grades Moodle accepts for an answer (question_bank::fraction_options_full), in percent
MOODLE_GRADES = [
    100, 90, 83.33333, 80, 75, 70, 66.66667, 60, 50, 40, 33.33333, 30, 25, 20, 16.66667,
    14.28571, 12.5, 11.11111, 10, 5, 0,
]  # fmt: skip


def _moodle_cost(weight: float) -> float:
    """A wrong option's (negative) weight as the nearest grade Moodle accepts that costs no less."""
    percent = -weight * 100
    for grade in sorted(MOODLE_GRADES):
        if grade > 0 and grade >= percent - 1e-4:
            return -grade / 100
    return -1.0


def penalty_weights(data: dict[str, Any], grading: dict[str, Any]) -> dict[str, float]:
    """A multiple-answer question's option weights as a file writes them for Moodle, which
    grades by the weights alone: the wrong options' weights written out, so ticking every box
    earns nothing there too (the −1/k we apply when none were given, as the nearest grade
    Moodle accepts that costs no less: exact up to ten wrong options)."""
    given = {str(k): float(v) for k, v in (grading.get("fractions") or {}).items()}
    weights = option_weights(data, grading)
    for option, weight in weights.items():
        if weight < 0 and not math.isclose(weight, given.get(option, 0.0)):
            weights[option] = _moodle_cost(weight)
    return weights


@dataclass
class QuestionDraft:
    type: str
    stem: str
    data: dict[str, Any] = field(default_factory=dict)
    grading: dict[str, Any] = field(default_factory=dict)
    name: str = ""
    #: "parent/child" category path inside the bank
    category: str | None = None
    general_feedback: str = ""
    default_mark: float = 1.0
    topic: str | None = None
    grade_band: str | None = None
    difficulty: int | None = None
    #: where the question starts in the file (1-based line, or spreadsheet row)
    line: int = 0


@dataclass
class ParseError:
    line: int
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "message": self.message}


@dataclass
class ParseResult:
    drafts: list[QuestionDraft] = field(default_factory=list)
    errors: list[ParseError] = field(default_factory=list)
    #: questions a format has that a bank has no use for (GIFT/Moodle descriptions), by line
    skipped: list[ParseError] = field(default_factory=list)
