"""The network classroom's blueprint, what it adds to the carrier's menu and home page, and the
look-ups every page starts with."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort
from flask_babel import gettext as _
from flask_login import current_user

from courses import queries
from courses.forms import LABELS
from courses.models import Course, Lesson
from elearn import permissions
from elearn.models import User

bp = Blueprint(
    "courses",
    "courses",  # the package's templates/ and static/ folders
    template_folder="templates",
    static_folder="static",
    static_url_path="/courses-static",
)


def course_label(name: str, value: str | None) -> str:
    """The translated label of a choice (a Jinja global, so imported macros see it too)."""
    if value is None:
        return ""
    return str(LABELS.get(name, {}).get(value, value))


def home_panel(user: User) -> list[tuple[str, dict[str, Any]]]:
    """The "my courses" panel of the home page."""
    rows = queries.my_courses(user, limit=5)
    return [("courses/_home_panel.html", {"rows": rows})]


def nav_items(user: User) -> list[tuple[str, str]]:
    # one menu entry (the phone menu is one row); authoring and review are linked from the library
    return [("courses.library", _("Network classroom"))]


def load_course(course_id: int, action: str) -> Course:
    """Out of sight is a 404; in sight but not allowed is a 403."""
    course = permissions.get_or_404(Course, course_id, current_user, "view")
    if not permissions.can(current_user, action, course):
        abort(403)
    return course


def load_lesson(lesson_id: int, action: str) -> Lesson:
    lesson = permissions.get_or_404(Lesson, lesson_id, current_user, "view")
    if not permissions.can(current_user, action, lesson):
        abort(403)
    return lesson
