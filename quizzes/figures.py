"""Scores and rates as people read them: rounded once for display, counted one way everywhere.

Scores are shown to one decimal, rounded half up (四舍五入) with a trailing zero dropped: 43.3,
10, 3.3. Marks are whole or half points and a teacher grades to a tenth at the finest, as on
paper; the further digits of a share of a mark (one of three options: 3.33333) only repeat a
division. The export writes the same rounded number (a number, so a spreadsheet still sums it).

Rates and percentages are shown to one decimal as well: at a prefecture's size a tenth of a percent
is 700 students, and a rate shown as 100% (or 0%) is exactly that, never a rounded 99.96%
(99.9%) or 0.04% (<0.1%).

A rate counts only what it can: participation has no value without an audience, a pass rate none
without a graded participant ("—"). An attempt waiting for a teacher's grade is pending (待批改):
counted as taken, never as passed or failed, and shown beside the rate. The campaign page and the
results page count with the same ``tally`` and read the same ``Rates``, so they agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask_babel import format_decimal
from sqlalchemy import and_, case, func, not_

TENTH = Decimal("0.1")


def _tenths(value: float) -> Decimal:
    return Decimal(repr(float(value))).quantize(TENTH, rounding=ROUND_HALF_UP)


def score(value: float | None) -> float | None:
    """A score (or a percentage) rounded for display and export: one decimal, half up."""
    if value is None:
        return None
    return float(_tenths(value))


def score_text(value: float | None) -> str:
    """A score as the pages show it: "43.3", "10"; "—" for none."""
    if value is None:
        return "—"
    return format_decimal(_tenths(value), format="0.#")


def rate_text(value: float | None) -> str:
    """A share (0..1) as a percentage: "66.7%", "100%"; "—" when there is nothing to count.

    Never 100% or 0% unless exactly so: 99.96% is shown as 99.9%, 0.04% as "<0.1%".
    """
    if value is None:
        return "—"
    shown = _tenths(value * 100)
    if value < 1 and shown >= 100:
        shown = Decimal("99.9")
    elif value > 0 and shown <= 0:
        return "<" + format_decimal(TENTH, format="0.#") + "%"
    return format_decimal(shown, format="0.#") + "%"


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass
class Rates:
    """Who took it of those expected, and how the takers' best attempts came out."""

    expected: int = 0
    took: int = 0
    #: best attempts waiting for a teacher's grade: neither passed nor failed yet
    pending: int = 0
    passed: int = 0
    excellent: int = 0

    @property
    def graded(self) -> int:
        return self.took - self.pending

    @property
    def participation_rate(self) -> float | None:
        return _share(self.took, self.expected)

    @property
    def pass_rate(self) -> float | None:
        return _share(self.passed, self.graded)

    @property
    def excellent_rate(self) -> float | None:
        return _share(self.excellent, self.graded)

    def add(self, expected: int, took: int, pending: int, passed: int, excellent: int) -> None:
        self.expected += expected
        self.took += took
        self.pending += pending or 0
        self.passed += passed or 0
        self.excellent += excellent or 0


def tally(best: Any, excellent_mark: float | None = None) -> list[Any]:
    """SQL counts over ``best`` (one row a taker: ``user_id``, ``percent``, ``passed``,
    ``needs_manual_grading``; outer-joined rows without a taker count nowhere): taken,
    pending, passed, excellent, in ``Rates.add``'s order after ``expected``."""
    took = best.c.user_id.is_not(None)
    pending = and_(took, best.c.needs_manual_grading.is_(True))
    graded = and_(took, not_(best.c.needs_manual_grading.is_(True)))
    excellent = (
        and_(graded, best.c.percent >= excellent_mark) if excellent_mark is not None else None
    )
    return [
        func.count(best.c.user_id),
        func.sum(case((pending, 1), else_=0)),
        func.sum(case((and_(graded, best.c.passed.is_(True)), 1), else_=0)),
        func.sum(case((excellent, 1), else_=0)) if excellent is not None else func.sum(0),
    ]
