"""Authors' pages: their courses, the course and lesson forms, new units."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from courses import queries, service
from courses.forms import (
    LABELS,
    CourseForm,
    CourseUnitForm,
    LessonForm,
    ReviewForm,
    StructureForm,
)
from courses.models import Course, CourseStatus
from courses.routes.blueprint import bp, load_course, load_lesson
from courses.service import structure
from elearn import uow
from elearn.service.errors import ServiceError


@bp.route("/courses/authoring")
@login_required
def authoring():
    if not service.can_author(current_user):
        abort(403)
    return render_template("courses/authoring.html", courses=queries.authored(current_user))


def _course_form(form: CourseForm) -> None:
    form.unit.choices = [SelectChoice(u.id, u.name) for u in service.authoring_units(current_user)]


def _course_fields(form: CourseForm) -> dict[str, Any]:
    return {
        "title": form.title.data,
        "description": form.description.data or "",
        "audience": form.audience.data,
        "grade_band": form.grade_band.data or None,
        "category": form.category.data,
        "drug_type": form.drug_type.data or None,
        "subject": form.subject.data or None,
    }


@bp.route("/courses/new", methods=["GET", "POST"])
@login_required
def course_new():
    if not service.can_author(current_user):
        abort(403)
    form = CourseForm()
    _course_form(form)
    if form.validate_on_submit():
        unit = next(u for u in service.authoring_units(current_user) if u.id == form.unit.data)
        try:
            with uow.savepoint():
                course = service.create_course(
                    actor=current_user, unit=unit, **_course_fields(form)
                )
        except ServiceError as error:
            flash(error.message, "error")
        else:
            flash(_("Course created. Now add its lessons."), "success")
            return redirect(url_for("courses.course_edit", course_id=course.id))
    status = 400 if request.method == "POST" else 200
    return render_template("courses/course_form.html", form=form, course=None), status


@bp.route("/courses/<int:course_id>/edit", methods=["GET", "POST"])
@login_required
def course_edit(course_id: int):
    course = load_course(course_id, "edit")
    form = CourseForm(obj=course)
    _course_form(form)
    form.unit.choices = [SelectChoice(course.unit_id, course.unit.name)]
    form.unit.data = course.unit_id
    if form.validate_on_submit():
        try:
            with uow.savepoint():
                service.update_course(actor=current_user, course=course, **_course_fields(form))
        except ServiceError as error:
            flash(error.message, "error")
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("courses.course_edit", course_id=course.id))
    return render_template(
        "courses/course_edit.html",
        form=form,
        course=course,
        units=queries.outline(course, user=None, authoring=True),
        unit_form=CourseUnitForm(),
        submit_form=ReviewForm(),
        move_form=StructureForm(),
        pending_removals=structure.pending_removals(course),
        can_submit=course.status == CourseStatus.DRAFT,
    ), 400 if request.method == "POST" else 200


@bp.route("/courses/<int:course_id>/units", methods=["POST"])
@login_required
def unit_new(course_id: int):
    course = load_course(course_id, "edit")
    form = CourseUnitForm()
    if not form.validate_on_submit():
        flash(_("Give it a title."), "error")
        return redirect(url_for("courses.course_edit", course_id=course.id))
    try:
        with uow.savepoint():
            service.add_course_unit(actor=current_user, course=course, title=form.title.data)
    except ServiceError as error:
        flash(error.message, "error")
    else:
        flash(_("Unit added."), "success")
    return redirect(url_for("courses.course_edit", course_id=course.id))


def _lesson_form(form: LessonForm, course: Course, current_asset: Any = None) -> None:
    # with no unit yet, the service makes a first one named after the course
    units = structure.working_units(course)
    form.course_unit.choices = [SelectChoice(u.id, u.title) for u in units] or [
        SelectChoice(0, course.title)
    ]
    assets = queries.my_assets(current_user)
    if current_asset is not None and current_asset not in assets:
        assets.insert(0, current_asset)
    form.asset_id.choices = [SelectChoice("", _("— none (rich text) —"))] + [
        SelectChoice(
            a.id, f"{a.original_filename} · {course_label_kind(a.kind)} · {asset_status(a.status)}"
        )
        for a in assets
    ]


def course_label_kind(kind: str) -> str:
    return str(LABELS["kind"].get(kind, kind))


def asset_status(status: str) -> str:
    return {
        "ready": _("ready"),
        "processing": _("processing"),
        "uploading": _("uploading"),
        "failed": _("failed"),
    }.get(status, status)


def _lesson_fields(form: LessonForm) -> dict[str, Any]:
    return {
        "title": form.title.data,
        "kind": form.kind.data,
        "asset_id": form.asset_id.data or None,
        "body_html": form.body_html.data or "",
        "role": form.role.data,
        "subject": form.subject.data or None,
    }


@bp.route("/courses/<int:course_id>/lessons/new", methods=["GET", "POST"])
@login_required
def lesson_new(course_id: int):
    course = load_course(course_id, "edit")
    form = LessonForm()
    _lesson_form(form, course)
    if form.validate_on_submit():
        course_unit = next(
            (u for u in structure.working_units(course) if u.id == form.course_unit.data), None
        )
        try:
            with uow.savepoint():
                service.add_lesson(
                    actor=current_user,
                    course=course,
                    course_unit=course_unit,
                    **_lesson_fields(form),
                )
        except ServiceError as error:
            flash(error.message, "error")
        else:
            flash(_("Lesson added."), "success")
            return redirect(url_for("courses.course_edit", course_id=course.id))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "courses/lesson_form.html", form=form, course=course, lesson=None
    ), status


@bp.route("/lessons/<int:lesson_id>/edit", methods=["GET", "POST"])
@login_required
def lesson_edit(lesson_id: int):
    lesson = load_lesson(lesson_id, "edit")
    course = lesson.course
    revision = lesson.working_revision
    form = LessonForm(obj=revision)
    _lesson_form(form, course, revision.asset if revision else None)
    form.course_unit.choices = [SelectChoice(lesson.course_unit_id, lesson.course_unit.title)]
    form.course_unit.data = lesson.course_unit_id
    if request.method == "GET" and revision is not None:
        form.asset_id.data = revision.asset_id or ""
    if form.validate_on_submit():
        try:
            with uow.savepoint():
                service.update_lesson(actor=current_user, lesson=lesson, **_lesson_fields(form))
        except ServiceError as error:
            flash(error.message, "error")
        else:
            flash(
                _("Saved as a draft; learners see the published version until review."), "success"
            )
            return redirect(url_for("courses.course_edit", course_id=course.id))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "courses/lesson_form.html", form=form, course=course, lesson=lesson
    ), status
