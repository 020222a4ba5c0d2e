"""The assessment pages' blueprint and what its pages share: the menu, the home panels, times
as a page types them, the units one authors at, a refusal flashed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, flash
from flask_babel import gettext as _

from elearn import localtime, uow
from elearn.extensions import db
from elearn.models import Role, Unit, User
from elearn.queries import children_of_guardian
from elearn.service.errors import ServiceError
from quizzes import figures, queries
from quizzes.access import STAFF_ROLES, may_author_at
from quizzes.qtypes import QUESTION_TYPES

bp = Blueprint(
    "quizzes",
    "quizzes",  # the package's folder holds the templates and static files
    template_folder="templates",
    static_folder="static",
    static_url_path="/quizzes-static",
)
# scores and rates rounded for display, the same way on every page (quizzes.figures)
bp.add_app_template_filter(figures.score_text, "score")
bp.add_app_template_filter(figures.rate_text, "rate")


def is_staff(user: User) -> bool:
    return any(a.role in STAFF_ROLES for a in user.roles)


def nav_items(user: User) -> list[tuple[str, str]]:
    items = [("quizzes.mine", _("Quizzes"))]
    if is_staff(user):
        items.append(("quizzes.banks", _("Question banks")))
    return items


def home_panel(user: User) -> list[tuple[str, dict[str, Any]]]:
    """Open quizzes for the people they are for; guardians get their children's records."""
    panels: list[tuple[str, dict[str, Any]]] = []
    open_quizzes = db.session.scalars(
        queries.quizzes_open_to(user, datetime.now(UTC)).limit(5)
    ).all()
    if open_quizzes:
        panels.append(("quizzes/_home_panel.html", {"quizzes": open_quizzes}))
    if user.has_role(Role.GUARDIAN):
        children = [child for child, _relation in children_of_guardian(user)]
        if children:
            panels.append(("quizzes/_record_panel.html", {"children": children}))
    return panels


def from_page(value: datetime | None) -> datetime | None:
    """A time typed in the page (local) as UTC."""
    return localtime.from_local(value)


def to_page(value: datetime | None) -> datetime | None:
    """A stored time as the page shows it in a datetime-local field (local, no zone)."""
    return localtime.wall_clock(value)


def author_units(user: User) -> list[Unit]:
    units = {a.unit for a in user.roles if a.role in STAFF_ROLES and may_author_at(user, a.unit)}
    return sorted(units, key=lambda u: (len(u.path), u.name))


def type_labels() -> dict[str, str]:
    return {name: t.label for name, t in QUESTION_TYPES.items()}


def carried_out(action: Callable[[], Any], success: Callable[[Any], str]) -> bool:
    """Run a service call in its own savepoint: carried out with ``success(result)`` flashed
    (the request commits it), or undone with the refusal flashed. True when it was carried out."""
    try:
        with uow.savepoint():
            result = action()
    except ServiceError as error:
        flash(error.message, "error")
        return False
    flash(success(result), "success")
    return True
