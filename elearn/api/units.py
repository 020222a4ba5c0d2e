"""The org tree, within the caller's scope."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask_login import current_user, login_required

from elearn import permissions, queries
from elearn.api import bp
from elearn.models import Unit


def unit_json(unit: Unit) -> dict[str, Any]:
    return {
        "id": unit.id,
        "name": unit.name,
        "type": unit.type,
        "parent_id": unit.parent_id,
        "code": unit.code,
        "school_kind": unit.school_kind,
        "is_rural": unit.is_rural,
        "grade_level": unit.grade_level,
    }


@bp.route("/units/<int:unit_id>")
@login_required
def unit(unit_id: int):
    """One unit of the org tree.
    ---
    get:
      tags: [org]
      parameters:
        - {name: unit_id, in: path, required: true, schema: {type: integer}}
      responses:
        200:
          description: the unit
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Unit'}
        404: {description: no such unit within the caller's scope}
    """
    return jsonify(unit_json(permissions.get_or_404(Unit, unit_id, current_user)))


@bp.route("/units/<int:unit_id>/children")
@login_required
def unit_children(unit_id: int):
    """The units directly below a unit.
    ---
    get:
      tags: [org]
      parameters:
        - {name: unit_id, in: path, required: true, schema: {type: integer}}
      responses:
        200:
          description: the children
          content:
            application/json:
              schema:
                type: array
                items: {$ref: '#/components/schemas/Unit'}
        404: {description: no such unit within the caller's scope}
    """
    parent = permissions.get_or_404(Unit, unit_id, current_user)
    return jsonify([unit_json(child) for child in queries.children_of(parent)])
