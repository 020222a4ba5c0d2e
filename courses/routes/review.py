"""Review: an author submits a course, reviewers publish or return it, and archiving."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from courses import queries, service
from courses.forms import ReviewForm
from courses.routes.blueprint import bp, load_course
from elearn import uow
from elearn.service.errors import ServiceError


@bp.route("/courses/<int:course_id>/submit", methods=["POST"])
@login_required
def course_submit(course_id: int):
    course = load_course(course_id, "submit")
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
    course = load_course(course_id, decision)
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
    course = load_course(course_id, "archive")
    if not ReviewForm().validate_on_submit():
        abort(400)
    service.archive(actor=current_user, course=course)
    flash(_("Archived: the course left the library; progress and completions are kept."), "success")
    return redirect(url_for("courses.library"))
