"""Results: a quiz's results (a part of its audience), their workbook, a student's assessment
record, grading the hand-graded answers of an attempt."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from elearn import permissions, uow
from elearn.extensions import db
from elearn.forms import ConfirmForm
from elearn.models import Unit, User
from elearn.models._types import INT_MAX
from elearn.request_args import page_number
from elearn.service.errors import ServiceError
from quizzes import analysis, queries, service, workbook
from quizzes.access import ResultsScope, may_view_record, results_scope, views_as_guardian
from quizzes.forms import MODES, REVIEW_POLICIES
from quizzes.models import Quiz, QuizAttempt
from quizzes.routes.blueprint import bp


def _results_scope(quiz: Quiz) -> ResultsScope:
    """Whose results of ``quiz`` the page shows: the caller's part of its audience, narrowed to
    ``?unit=`` (a campaign page's class or school); nothing to show is a 404."""
    scope = results_scope(current_user, quiz)
    unit_id = request.args.get("unit", type=int)
    if unit_id is not None:
        if not 0 < unit_id <= INT_MAX:
            abort(404)
        scope = scope.narrowed_to(permissions.get_or_404(Unit, unit_id, current_user))
    if not scope:
        abort(404)
    return scope


@bp.route("/quizzes/<int:quiz_id>/results")
@login_required
def results(quiz_id: int):
    quiz = permissions.get_or_404(Quiz, quiz_id, current_user, "results")
    scope = _results_scope(quiz)
    data = analysis.results(
        quiz,
        scope=scope,
        page=page_number(),
        per_page=current_app.config["PAGE_SIZE"],
    )
    peak = max(data.distribution) or 1
    manage = {
        "editable": permissions.can(current_user, "edit", quiz),
        "taken": service.times_taken(quiz),
        "in_progress": service.in_progress_count(quiz),
        "closed": service.has_closed(quiz),
        "policies": {c.value: c.label for c in REVIEW_POLICIES},
        "modes": {c.value: c.label for c in MODES},
        "confirm": ConfirmForm(),
    }
    part = None if scope.whole else queries.unit_names(scope.paths)
    return render_template(
        "quizzes/results.html",
        quiz=quiz,
        data=data,
        peak=peak,
        manage=manage,
        part=part,
        unit=request.args.get("unit", type=int),
    )


@bp.route("/quizzes/<int:quiz_id>/results.xlsx")
@login_required
def results_export(quiz_id: int):
    quiz = permissions.get_or_404(Quiz, quiz_id, current_user, "results")
    scope = _results_scope(quiz)
    content = workbook.export_results(actor=current_user, quiz=quiz, scope=scope)
    response = Response(
        content, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response.headers["Content-Disposition"] = f'attachment; filename="quiz-{quiz.id}-results.xlsx"'
    return response


@bp.route("/quizzes/record/<int:user_id>")
@login_required
def record(user_id: int):
    """A student's assessment record (综合素质测评, drug-prevention part), term by term."""
    student = db.session.get(User, user_id)
    if student is None or not may_view_record(current_user, student):
        abort(404)
    # a guardian sees each result only as its quiz's review policy allows
    policy_at = datetime.now(UTC) if views_as_guardian(current_user, student) else None
    return render_template(
        "quizzes/record.html",
        student=student,
        rows=queries.assessment_record(student, policy_at=policy_at),
    )


@bp.route("/quizzes/attempts/<int:attempt_id>/grade", methods=["GET", "POST"])
@login_required
def grade(attempt_id: int):
    """A teacher grades the hand-graded answers of one attempt, in points (0 to the mark)."""
    attempt = permissions.get_or_404(QuizAttempt, attempt_id, current_user, "grade")
    rows = service.manual_rows(attempt)
    errors: dict[str, str] = {}
    if request.method == "POST":
        typed = {row["slot"].question_id: request.form.get(row["field"], "") for row in rows}
        try:
            with uow.savepoint():
                service.grade_points(
                    actor=current_user,
                    attempt=attempt,
                    points={q: value for q, value in typed.items() if value.strip()},
                )
        except ServiceError as error:
            errors[error.field or ""] = error.message
        else:
            flash(_("Grades saved."), "success")
            return redirect(url_for("quizzes.results", quiz_id=attempt.quiz_id))
        rows = service.manual_rows(attempt)  # as they were: nothing of the post was kept
        for row in rows:
            row["typed"] = typed[row["slot"].question_id]
    return render_template("quizzes/grade.html", attempt=attempt, rows=rows, errors=errors), (
        422 if errors else 200
    )
