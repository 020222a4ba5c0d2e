"""The home page: one per role, built from panels the carrier and the features provide."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from elearn import features
from elearn.features import ExtensionPoint, hooks
from elearn.models import Role, User
from elearn.models.accounts import ADMIN_ROLES
from elearn.queries import children_of_guardian
from elearn.routes.notifications import home_panel as notifications_panel
from elearn.service import coverage, org

bp = Blueprint("home", __name__)

#: what the "my children" panel links to (parents' child view and its invite-code page)
CHILDREN_PANEL = ExtensionPoint(
    "elearn.children_panel",
    "(guardian, children) -> {'links': {child_id: url}, 'actions': [(label, url)]}",
)

ROLE_ORDER = [
    Role.PREFECTURE_ADMIN,
    Role.COUNTY_ADMIN,
    Role.SCHOOL_ADMIN,
    Role.EXPERT,
    Role.TEACHER,
    Role.GUARDIAN,
    Role.STUDENT,
]


def _carrier_panels(user: User) -> list[tuple[str, dict[str, Any]]]:
    panels: list[tuple[str, dict[str, Any]]] = []
    term = org.current_term()
    admin_units = sorted(
        {a.unit for a in user.roles if a.role in ADMIN_ROLES}, key=lambda unit: len(unit.path)
    )
    if admin_units and term is not None:
        unit = admin_units[0]
        panels.append(
            (
                "elearn/_coverage_panel.html",
                {
                    "unit": unit,
                    "term": term,
                    "metrics": coverage.shown_metrics(unit, coverage.coverage(unit, term)),
                },
            )
        )
    if user.has_role(Role.GUARDIAN):
        children = children_of_guardian(user)
        links: dict[int, str] = {}
        actions: list[tuple[str, str]] = []
        for hook in hooks(CHILDREN_PANEL.name):
            found = hook(user, [child for child, _relation in children])
            links.update(found.get("links", {}))
            actions.extend(found.get("actions", []))
        panels.append(
            (
                "elearn/_children_panel.html",
                {"children": children, "links": links, "actions": actions},
            )
        )
    return panels


@bp.route("/")
@login_required
def index():
    roles = sorted({a.role for a in current_user.roles}, key=lambda r: ROLE_ORDER.index(Role(r)))
    panels = notifications_panel(current_user) + _carrier_panels(current_user)
    for provider in features.registry().home_panels:
        panels.extend(provider(current_user))
    return render_template(
        "elearn/home.html",
        roles=roles,
        assignments=sorted(current_user.roles, key=lambda a: ROLE_ORDER.index(Role(a.role))),
        panels=panels,
    )
