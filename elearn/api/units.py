"""The org tree, within the caller's scope."""

from __future__ import annotations

from flask_login import current_user, login_required
from marshmallow import fields

from elearn import permissions, queries
from elearn.api.base import bp, refuses
from elearn.api.schemas import Out
from elearn.models import Unit


class UnitOut(Out):
    id = fields.Integer()
    name = fields.String()
    type = fields.String(
        metadata={"enum": ["prefecture", "county", "school", "grade", "class"]},
    )
    parent_id = fields.Integer(allow_none=True)
    code = fields.String(allow_none=True)
    school_kind = fields.String(allow_none=True)
    is_rural = fields.Boolean(allow_none=True)
    grade_level = fields.Integer(allow_none=True)


@bp.route("/units/<int:unit_id>", tags=["org"])
@login_required
@bp.response(200, UnitOut)
@refuses(401, 404)
def unit(unit_id: int) -> Unit:
    """One unit of the org tree."""
    return permissions.get_or_404(Unit, unit_id, current_user)


@bp.route("/units/<int:unit_id>/children", tags=["org"])
@login_required
@bp.response(200, UnitOut(many=True))
@refuses(401, 404)
def unit_children(unit_id: int) -> list[Unit]:
    """The units directly below a unit."""
    parent = permissions.get_or_404(Unit, unit_id, current_user)
    return list(queries.children_of(parent))
