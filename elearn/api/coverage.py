"""The four coverages of a unit, of its child units, and their trend (the dashboards' data; read
from the rollups only)."""

from __future__ import annotations

from typing import Any

from flask import Response, abort
from flask_login import current_user, login_required
from marshmallow import fields, validate

from elearn import permissions
from elearn.api.base import bp, refuses
from elearn.api.schemas import Out, Query, RowId
from elearn.extensions import db
from elearn.models import Term, Unit
from elearn.service import coverage, dashboard, ledgers, org


class CoverageQuery(Query):
    unit = RowId(strict=False, required=True, metadata={"description": "the unit's id"})
    term = RowId(strict=False, metadata={"description": "defaults to the current term"})


class Metric(Out):
    numerator = fields.Integer()
    denominator = fields.Integer()
    rate = fields.Float(allow_none=True)
    target = fields.Float(allow_none=True)


class Metrics(Out):
    schools = fields.Nested(Metric)
    teachers = fields.Nested(Metric)
    students = fields.Nested(Metric)
    parents = fields.Nested(Metric, metadata={"description": "guardians activated"})
    parents_reached = fields.Nested(
        Metric, metadata={"description": "guardians who read an announcement this term"}
    )


class Coverage(Out):
    unit_id = fields.Integer()
    term_id = fields.Integer()
    metrics = fields.Nested(Metrics)


@bp.route("/coverage", tags=["coverage"])
@login_required
@bp.arguments(CoverageQuery, location="query")
@bp.response(200, Coverage)
@refuses(401, 404)
def coverage_of_unit(args: dict[str, int]) -> dict[str, Any]:
    """The four coverages (schools, teachers, students, parents) of a unit in a term."""
    unit, term = _unit_and_term(args)
    return {
        "unit_id": unit.id,
        "term_id": term.id,
        "metrics": _metrics_out(coverage.coverage(unit, term)),
    }


def _unit_and_term(args: dict[str, Any]) -> tuple[Unit, Term]:
    unit = permissions.get_or_404(Unit, args["unit"], current_user, "view_coverage")
    term_id = args.get("term")
    term = db.session.get(Term, term_id) if term_id else org.current_term()
    if term is None:
        abort(404)
    return unit, term


def _metrics_out(metrics: dict[str, coverage.Metric]) -> dict[str, Any]:
    return {name: m.as_dict() for name, m in metrics.items()}


class ChildCoverage(Out):
    unit_id = fields.Integer()
    name = fields.String()
    type = fields.String()
    is_rural = fields.Boolean(allow_none=True, metadata={"description": "schools only"})
    behind = fields.List(
        fields.String(), metadata={"description": "the metrics below their target"}
    )
    metrics = fields.Nested(Metrics)


class ChildrenCoverage(Out):
    unit_id = fields.Integer()
    term_id = fields.Integer()
    children = fields.List(
        fields.Nested(ChildCoverage),
        metadata={"description": "the most behind first (most metrics below target, lowest rate)"},
    )


@bp.route("/coverage/children", tags=["coverage"])
@login_required
@bp.arguments(CoverageQuery, location="query")
@bp.response(200, ChildrenCoverage)
@refuses(401, 404)
def coverage_of_children(args: dict[str, int]) -> dict[str, Any]:
    """The coverages of each child unit of a unit in a term, from the rollups."""
    unit, term = _unit_and_term(args)
    return {
        "unit_id": unit.id,
        "term_id": term.id,
        "children": [
            {
                "unit_id": row.unit.id,
                "name": row.unit.name,
                "type": row.unit.type,
                "is_rural": row.unit.is_rural if row.unit.type == "school" else None,
                "behind": row.behind,
                "metrics": _metrics_out(row.metrics),
            }
            for row in dashboard.children(unit, term)
        ],
    }


class TrendQuery(Query):
    unit = RowId(strict=False, required=True, metadata={"description": "the unit's id"})
    term = RowId(
        strict=False,
        metadata={"description": "with by=week: the term (default current); by=term: the last"},
    )
    by = fields.String(
        load_default="term",
        validate=validate.OneOf(["term", "week"]),
        metadata={"description": "term: one point a term; week: one a week within the term"},
    )


class TermPoint(Out):
    term_id = fields.Integer()
    name = fields.String()
    metrics = fields.Nested(Metrics)


class WeekPoint(Out):
    week = fields.Date(metadata={"description": "the week's Monday, on the installation's clock"})
    metrics = fields.Nested(Metrics)


class Trend(Out):
    unit_id = fields.Integer()
    terms = fields.List(fields.Nested(TermPoint), metadata={"description": "by=term"})
    weeks = fields.List(fields.Nested(WeekPoint), metadata={"description": "by=week"})


@bp.route("/coverage/trend", tags=["coverage"])
@login_required
@bp.arguments(TrendQuery, location="query")
@bp.response(200, Trend)
@refuses(401, 404)
def coverage_trend(args: dict[str, Any]) -> dict[str, Any]:
    """A unit's coverages term by term (oldest first), or week by week within a term."""
    unit, term = _unit_and_term(args)
    if args["by"] == "week":
        weeks = dashboard.trend_by_week(unit, term)
        return {
            "unit_id": unit.id,
            "terms": [],
            "weeks": [{"week": w, "metrics": _metrics_out(m)} for w, m in weeks],
        }
    terms = dashboard.trend_by_term(unit, upto=term if args.get("term") else None)
    return {
        "unit_id": unit.id,
        "terms": [{"term_id": t.id, "name": t.name, "metrics": _metrics_out(m)} for t, m in terms],
        "weeks": [],
    }


class LedgerQuery(Query):
    unit = RowId(strict=False, required=True, metadata={"description": "the unit's id"})
    term = RowId(strict=False, metadata={"description": "defaults to the current term"})
    format = fields.String(
        load_default="xlsx",
        validate=validate.OneOf(["xlsx"]),
        metadata={"description": "xlsx (PDF is not offered yet)"},
    )


@bp.route("/ledgers/coverage", tags=["coverage"])
@login_required
@bp.arguments(LedgerQuery, location="query")
@bp.response(200, content_type=ledgers.XLSX, description="the ledger as a spreadsheet")
@refuses(401, 404)
def coverage_ledger(args: dict[str, Any]) -> Response:
    """The coverage ledger (台账) of a unit in a term: every school under it with its four
    coverages, as .xlsx."""
    unit, term = _unit_and_term(args)
    response = Response(ledgers.coverage_ledger(unit, term), content_type=ledgers.XLSX)
    response.headers["Content-Disposition"] = (
        f"attachment; filename=coverage-ledger-{unit.id}-{term.id}.xlsx"
    )
    return response
