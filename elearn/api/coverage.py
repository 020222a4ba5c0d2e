"""The four coverages of a unit."""

from __future__ import annotations

from typing import Any

from flask import abort
from flask_login import current_user, login_required
from marshmallow import fields

from elearn import permissions
from elearn.api.base import bp, refuses
from elearn.api.schemas import Out, Query, RowId
from elearn.extensions import db
from elearn.models import Term, Unit
from elearn.service import coverage, org


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
    unit = permissions.get_or_404(Unit, args["unit"], current_user, "view_coverage")
    term_id = args.get("term")
    term = db.session.get(Term, term_id) if term_id else org.current_term()
    if term is None:
        abort(404)
    metrics = coverage.coverage(unit, term)
    return {
        "unit_id": unit.id,
        "term_id": term.id,
        "metrics": {name: m.as_dict() for name, m in metrics.items()},
    }
