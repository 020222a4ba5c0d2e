"""The four coverages of a unit."""

from __future__ import annotations

from flask import abort, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from elearn import permissions
from elearn.api import bp
from elearn.api.helpers import bad_request
from elearn.extensions import db
from elearn.models import Term, Unit
from elearn.service import coverage, org


@bp.route("/coverage")
@login_required
def coverage_of_unit():
    """The four coverages (schools, teachers, students, parents) of a unit in a term.
    ---
    get:
      tags: [coverage]
      parameters:
        - {name: unit, in: query, required: true, schema: {type: integer}}
        - {name: term, in: query, required: false, schema: {type: integer}, description: defaults to the current term}
      responses:
        200:
          description: numerator, denominator, rate and target of each coverage
          content:
            application/json:
              schema:
                type: object
                properties:
                  unit_id: {type: integer}
                  term_id: {type: integer}
                  metrics:
                    type: object
                    properties:
                      schools: {$ref: '#/components/schemas/Metric'}
                      teachers: {$ref: '#/components/schemas/Metric'}
                      students: {$ref: '#/components/schemas/Metric'}
                      parents: {$ref: '#/components/schemas/Metric'}
        404: {description: no such unit or term within the caller's scope}
    """
    unit_id = request.args.get("unit", type=int)
    if unit_id is None:
        bad_request(_("Give the unit as ?unit=<id>."))
    unit = permissions.get_or_404(Unit, unit_id, current_user, "view_coverage")
    term_id = request.args.get("term", type=int)
    term = db.session.get(Term, term_id) if term_id else org.current_term()
    if term is None:
        abort(404)
    metrics = coverage.coverage(unit, term)
    return jsonify(
        unit_id=unit.id, term_id=term.id, metrics={name: m.as_dict() for name, m in metrics.items()}
    )
