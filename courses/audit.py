"""What the carrier's audit log shows of the network classroom: its action codes by name, and
its courses, units and lessons by title, linked where the viewer may open them."""

from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l

from courses.models import Course, CourseUnit, Lesson
from elearn import permissions
from elearn.models import User
from elearn.service import audit

ACTIONS = {
    "course": _l("Courses (all)"),
    "course.created": _l("Course created"),
    "course.updated": _l("Course details edited"),
    "course.submitted": _l("Course submitted for review"),
    "course.published": _l("Course published"),
    "course.returned": _l("Course returned for changes"),
    "course.archived": _l("Course archived"),
    "course.lesson_moved": _l("Lesson moved"),
    "course.unit_moved": _l("Course unit moved"),
    "course.lesson_removed": _l("Lesson removed"),
    "course.unit_removed": _l("Course unit removed"),
    "course.lesson_restored": _l("Lesson restored"),
}


def _courses(viewer: User, ids: list[str]) -> dict[str, tuple[str, str | None]]:
    rows = audit.load_targets(Course, ids)
    return {
        ident: (
            course.title,
            url_for("courses.course_detail", course_id=course.id)
            if permissions.can(viewer, "view", course)
            else None,
        )
        for ident, course in rows
    }


def _course_units(viewer: User, ids: list[str]) -> dict[str, tuple[str, str | None]]:
    rows = audit.load_targets(CourseUnit, ids)
    return {
        ident: (
            f"{row.course.title} · {row.title}",
            url_for("courses.course_edit", course_id=row.course_id)
            if permissions.can(viewer, "edit", row.course)
            else None,
        )
        for ident, row in rows
    }


def _lessons(viewer: User, ids: list[str]) -> dict[str, tuple[str, str | None]]:
    rows = audit.load_targets(Lesson, ids)
    found = {}
    for ident, lesson in rows:
        revision = lesson.working_revision
        title = revision.title if revision is not None else f"#{lesson.id}"
        url = (
            url_for("courses.lesson_player", lesson_id=lesson.id)
            if revision is not None and permissions.can(viewer, "view", lesson)
            else None
        )
        found[ident] = (f"{lesson.course.title} · {title}", url)
    return found


#: this package's target types, for the carrier's audit log (the package's Feature declares them)
TARGETS = {
    "course": (_l("Course"), _courses),
    "course_unit": (_l("Course unit"), _course_units),
    "lesson": (_l("Lesson"), _lessons),
}
