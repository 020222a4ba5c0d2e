"""Ledgers (台账): a unit's figures for a term as the spreadsheet admins file as evidence. The
coverage ledger lists every school under the unit (its county, urban or rural) with the four
coverages, numerators and denominators, from the rollups; the header says whose it is, for which
term, and when it was made (on the installation's clock)."""

from __future__ import annotations

import io

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from sqlalchemy import select

from elearn.extensions import db
from elearn.localtime import wall_clock
from elearn.models import Term, Unit
from elearn.models._types import utcnow
from elearn.service import coverage
from elearn.service.dashboard import metric_labels

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LEDGER_METRICS = ("schools", "teachers", "students", "parents", "parents_reached")


def schools_under(unit: Unit) -> list[Unit]:
    """Every school under ``unit`` (itself, if it is one), by path."""
    return list(
        db.session.scalars(
            select(Unit)
            .where(Unit.type == "school", Unit.path.startswith(unit.path, autoescape=True))
            .order_by(Unit.path)
        )
    )


def coverage_ledger(unit: Unit, term: Term) -> bytes:
    """The coverage ledger of ``unit`` in ``term`` as .xlsx: a header, then one row per school
    (county, school, code, urban/rural, then each coverage's count, population and rate) and the
    unit's total last."""
    schools = schools_under(unit)
    per_school = coverage.coverage_many(schools, term) if schools else {}
    total = coverage.coverage(unit, term)
    counties = {
        u.id: u.name
        for u in db.session.scalars(select(Unit).where(Unit.type == "county"))
        if unit.path.startswith(u.path) or u.path.startswith(unit.path)
    }
    labels = metric_labels()
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Coverage ledger"))
    made = wall_clock(utcnow())
    bold = Font(bold=True)

    def heading(text: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=text)
        cell.font = bold
        return cell

    sheet.append([heading(_("Coverage ledger of %(unit)s", unit=unit.name))])
    sheet.append([_("Term"), term.name])
    sheet.append([_("Made at"), made.strftime("%Y-%m-%d %H:%M") if made else ""])
    sheet.append([])
    header = [_("County"), _("School"), _("Code"), _("Urban or rural")]
    for key in LEDGER_METRICS:
        header += [labels[key], _("Population"), _("Rate")]
    sheet.append([heading(text) for text in header])

    def figures(metrics: dict[str, coverage.Metric]) -> list[object]:
        row: list[object] = []
        for key in LEDGER_METRICS:
            metric = metrics[key]
            rate = f"{metric.rate * 100:.1f}%" if metric.denominator else "—"
            row += [metric.numerator, metric.denominator, rate]
        return row

    for school in schools:
        county_id = next((i for i in school.ancestor_ids if i in counties), None)
        sheet.append(
            [
                counties.get(county_id, "") if county_id else "",
                school.name,
                school.code or "",
                _("Rural") if school.is_rural else _("Urban"),
                *figures(per_school[school.id]),
            ]
        )
    sheet.append([heading(_("Total")), unit.name, unit.code or "", "", *figures(total)])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
