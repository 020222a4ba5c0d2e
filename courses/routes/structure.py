"""Authors reorder, remove and restore lessons and units of a course's working copy."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from courses import service
from courses.forms import StructureForm
from courses.models import Course, CourseUnit, Lesson
from courses.routes.blueprint import bp, load_lesson
from courses.service import structure
from elearn import permissions, uow
from elearn.service.errors import ServiceError


def _load_course_unit(course_unit_id: int) -> CourseUnit:
    course_unit = permissions.get_or_404(CourseUnit, course_unit_id, current_user, "view")
    if not permissions.can(current_user, "edit", course_unit):
        abort(403)
    return course_unit


def _moved(run: Any, course: Course) -> Any:
    form = StructureForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        with uow.savepoint():
            moved = run(form.direction.data or "")
    except ServiceError as error:
        flash(error.message, "error")
    else:
        if not moved:
            flash(_("It is already at that end."), "info")
    return redirect(url_for("courses.course_edit", course_id=course.id))


@bp.route("/lessons/<int:lesson_id>/move", methods=["POST"])
@login_required
def lesson_move(lesson_id: int):
    """Move a lesson up or down in its unit (the working copy)."""
    lesson = load_lesson(lesson_id, "edit")
    return _moved(
        lambda direction: service.move_lesson(
            actor=current_user, lesson=lesson, direction=direction
        ),
        lesson.course,
    )


@bp.route("/course-units/<int:course_unit_id>/move", methods=["POST"])
@login_required
def unit_move(course_unit_id: int):
    """Move a unit up or down in its course (the working copy)."""
    course_unit = _load_course_unit(course_unit_id)
    return _moved(
        lambda direction: service.move_course_unit(
            actor=current_user, course_unit=course_unit, direction=direction
        ),
        course_unit.course,
    )


def _confirm_removal(*, course: Course, what: str, title: str, lessons: list[Lesson],
                     remove: Any) -> Any:  # fmt: skip
    """GET: the confirmation page saying what goes and who is affected; POST: remove."""
    form = StructureForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        try:
            with uow.savepoint():
                pending = remove()
        except ServiceError as error:
            flash(error.message, "error")
        else:
            if pending:
                flash(
                    _(
                        "Removed from the draft. Learners keep it until the course is published again."
                    ),
                    "success",
                )
            else:
                flash(_("Removed."), "success")
        return redirect(url_for("courses.course_edit", course_id=course.id))
    return render_template(
        "courses/confirm_remove.html",
        course=course,
        what=what,
        title=title,
        impact=structure.removal_impact(lessons),
        form=form,
    )


@bp.route("/lessons/<int:lesson_id>/remove", methods=["GET", "POST"])
@login_required
def lesson_remove(lesson_id: int):
    """Remove a lesson, after a confirmation page."""
    lesson = load_lesson(lesson_id, "edit")
    if lesson.removed_at is not None:
        abort(404)
    revision = lesson.working_revision
    return _confirm_removal(
        course=lesson.course,
        what="lesson",
        title=revision.title if revision else "",
        lessons=[lesson],
        remove=lambda: service.remove_lesson(actor=current_user, lesson=lesson),
    )


@bp.route("/lessons/<int:lesson_id>/restore", methods=["POST"])
@login_required
def lesson_restore(lesson_id: int):
    """Undo the removal of a published lesson before the course is published again."""
    lesson = load_lesson(lesson_id, "edit")
    if not StructureForm().validate_on_submit():
        abort(400)
    try:
        with uow.savepoint():
            service.restore_lesson(actor=current_user, lesson=lesson)
    except ServiceError as error:
        flash(error.message, "error")
    else:
        flash(_("The lesson is back in the draft."), "success")
    return redirect(url_for("courses.course_edit", course_id=lesson.course_id))


@bp.route("/course-units/<int:course_unit_id>/remove", methods=["GET", "POST"])
@login_required
def unit_remove(course_unit_id: int):
    """Remove a unit and its lessons, after a confirmation page."""
    course_unit = _load_course_unit(course_unit_id)
    if course_unit.removed_at is not None:
        abort(404)
    return _confirm_removal(
        course=course_unit.course,
        what="unit",
        title=course_unit.title,
        lessons=structure.working_lessons(course_unit),
        remove=lambda: service.remove_course_unit(actor=current_user, course_unit=course_unit),
    )
