"""Scores and rates as people read them: rounded once, for every page and the export.

Scores are shown to one decimal, rounded half up (四舍五入) with a trailing zero dropped: 43.3,
10, 3.3. Marks are whole or half points and a teacher grades to a tenth at the finest, as on
paper; the further digits of a share of a mark (one of three options: 3.33333) only repeat a
division. The export writes the same rounded number (a number, so a spreadsheet still sums it).

Rates and percentages are shown to one decimal as well: at a prefecture's size a tenth of a percent
is 700 students, and a rate shown as 100% (or 0%) is exactly that, never a rounded 99.96%
(99.9%) or 0.04% (<0.1%).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from flask_babel import format_decimal

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
