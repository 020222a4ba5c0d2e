"""The network classroom's pages: library, course, lesson player, my courses, authoring, review."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
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
    choices,
)
from courses.models import Course, CourseStatus, CourseUnit, Lesson, LessonKind
from courses.service import playback, structure
from elearn import permissions, uow
from elearn.models import User
from elearn.request_args import page_number
from elearn.service.errors import ServiceError

bp = Blueprint(
    "courses",
    __name__,
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


def _load_course(course_id: int, action: str) -> Course:
    """Out of sight is a 404; in sight but not allowed is a 403."""
    course = permissions.get_or_404(Course, course_id, current_user, "view")
    if not permissions.can(current_user, action, course):
        abort(403)
    return course


def _load_lesson(lesson_id: int, action: str) -> Lesson:
    lesson = permissions.get_or_404(Lesson, lesson_id, current_user, "view")
    if not permissions.can(current_user, action, lesson):
        abort(403)
    return lesson


# --- learners -----------------------------------------------------------------------------------


@bp.route("/courses")
@login_required
def library():
    filters = queries.LibraryFilters.from_args(request.args)
    page = page_number()
    result = queries.library(current_user, filters, page=page)
    return render_template(
        "courses/library.html",
        result=result,
        filters=filters,
        page=page,
        has_next=page * 24 < result.total,
        can_author=service.can_author(current_user),
        can_review=service.can_review_any(current_user),
    )


@bp.route("/courses/mine")
@login_required
def mine():
    return render_template("courses/mine.html", rows=queries.my_courses(current_user))


@bp.route("/courses/<int:course_id>")
@login_required
def course_detail(course_id: int):
    course = permissions.get_or_404(Course, course_id, current_user, "view")
    can_edit = permissions.can(current_user, "edit", course)
    authoring = can_edit and (not course.is_live or request.args.get("draft") == "1")
    units = queries.outline(course, user=current_user, authoring=authoring)
    return render_template(
        "courses/course.html",
        course=course,
        units=units,
        next_lesson=None if authoring else queries.next_lesson(units),
        can_archive=permissions.can(current_user, "archive", course)
        and course.status != CourseStatus.ARCHIVED,
        archive_form=ReviewForm(),
        authoring=authoring,
        can_edit=can_edit,
        progress=queries.progress_of(current_user, course) if course.is_live else None,
    )


@bp.route("/lessons/<int:lesson_id>")
@login_required
def lesson_player(lesson_id: int):
    lesson = permissions.get_or_404(Lesson, lesson_id, current_user, "view")
    preview = request.args.get("preview") == "1" or not lesson.is_live
    if preview and not permissions.can(current_user, "edit", lesson):
        preview = False
    revision = lesson.working_revision if preview else lesson.published_revision
    if revision is None:
        abort(404)
    learning = not preview and permissions.can(current_user, "learn", lesson)
    progress = queries.lesson_progress(current_user, lesson) if learning else None
    completed = bool(progress and progress.completed_at)
    return render_template(
        "courses/lesson.html",
        lesson=lesson,
        course=lesson.course,
        revision=revision,
        preview=preview,
        learning=learning and revision.is_playable,
        progress=progress,
        resume_at=progress.last_position if progress and not completed else 0,
        # shown once the lesson ends (or at once when it is done, or nothing is counted)
        next_lesson=None if preview else queries.lesson_after(lesson),
        next_shown=completed or not (learning and revision.is_playable),
        player=playback.player(revision, current_user) if revision.is_playable else None,
        document=playback.document(revision, current_user) if revision.is_playable else None,
        is_media=revision.kind in {LessonKind.VIDEO, LessonKind.AUDIO},
    )


# --- authors ------------------------------------------------------------------------------------


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
    course = _load_course(course_id, "edit")
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
    course = _load_course(course_id, "edit")
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
    course = _load_course(course_id, "edit")
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
    lesson = _load_lesson(lesson_id, "edit")
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
    lesson = _load_lesson(lesson_id, "edit")
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
    lesson = _load_lesson(lesson_id, "edit")
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
    lesson = _load_lesson(lesson_id, "edit")
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


@bp.route("/courses/<int:course_id>/submit", methods=["POST"])
@login_required
def course_submit(course_id: int):
    course = _load_course(course_id, "submit")
    if not ReviewForm().validate_on_submit():
        abort(400)
    try:
        with uow.savepoint():
            service.submit_for_review(actor=current_user, course=course)
    except ServiceError as error:
        flash(error.message, "error")
    else:
        flash(_("Submitted for review."), "success")
    return redirect(url_for("courses.course_edit", course_id=course.id))


# --- reviewers ----------------------------------------------------------------------------------


@bp.route("/courses/review")
@login_required
def review_queue():
    if not service.can_review_any(current_user):
        abort(403)
    return render_template(
        "courses/review.html", courses=queries.review_queue(current_user), form=ReviewForm()
    )


@bp.route("/courses/<int:course_id>/review", methods=["POST"])
@login_required
def course_review(course_id: int):
    form = ReviewForm()
    decision = form.decision.data if form.validate_on_submit() else None
    if decision not in {"publish", "return"}:
        abort(400)
    course = _load_course(course_id, decision)
    try:
        with uow.savepoint():
            if decision == "publish":
                service.publish(actor=current_user, course=course, comment=form.comment.data)
            else:
                service.return_for_changes(
                    actor=current_user, course=course, comment=form.comment.data
                )
    except ServiceError as error:
        flash(error.message, "error")
    else:
        flash(_("Published.") if decision == "publish" else _("Returned to the author."), "success")
    return redirect(url_for("courses.review_queue"))


@bp.route("/courses/<int:course_id>/archive", methods=["POST"])
@login_required
def course_archive(course_id: int):
    course = _load_course(course_id, "archive")
    if not ReviewForm().validate_on_submit():
        abort(400)
    service.archive(actor=current_user, course=course)
    flash(_("Archived: the course left the library; progress and completions are kept."), "success")
    return redirect(url_for("courses.library"))


__all__ = ["bp", "choices", "home_panel", "nav_items"]
