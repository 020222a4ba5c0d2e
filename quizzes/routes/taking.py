"""Taking quizzes: the quizzes open to one, starting an attempt (or an anonymous survey), the
attempt page and its result."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from elearn import permissions, uow
from elearn.extensions import db
from elearn.service.errors import ServiceError
from quizzes import queries, service
from quizzes.dispatch.service import surveys
from quizzes.models import Quiz, QuizAttempt
from quizzes.routes.blueprint import bp, is_staff


@bp.route("/quizzes")
@login_required
def mine():
    now = datetime.now(UTC)
    open_quizzes = db.session.scalars(queries.quizzes_open_to(current_user, now)).all()
    rows: list[dict[str, Any]] = [
        {
            "quiz": quiz,
            "attempts_left": service.attempts_left(quiz, current_user),
            "attempts": queries.attempts_of(quiz, current_user),
        }
        if not quiz.is_anonymous
        else {
            "quiz": quiz,
            # anonymous: no attempt rows; only whether the person has taken part
            "attempts_left": 0 if surveys.has_taken(quiz, current_user) else 1,
            "attempts": [],
            "anonymous_taken": surveys.has_taken(quiz, current_user),
        }
        for quiz in open_quizzes
    ]
    staff = is_staff(current_user)
    return render_template(
        "quizzes/mine.html",
        rows=rows,
        managed=queries.quizzes_managed_by(current_user) if staff else [],
        followed=queries.quizzes_followed_by(current_user) if staff else [],
        now=now,
        staff=staff,
    )


@bp.route("/quizzes/<int:quiz_id>/start", methods=["POST"])
@login_required
def start(quiz_id: int):
    quiz = permissions.get_or_404(Quiz, quiz_id, current_user, "take")
    try:
        with uow.savepoint():
            if quiz.is_anonymous:  # a session outside the database, no attempt row
                session = surveys.start_survey(actor=current_user, quiz=quiz)
                return redirect(url_for("dispatch.survey_page", token=session.token))
            attempt = service.start_attempt(actor=current_user, quiz=quiz)
    except ServiceError as error:
        if error.status == 404:
            raise
        flash(error.message, "error")
        return redirect(url_for("quizzes.mine"))
    return redirect(url_for("quizzes.attempt_page", attempt_id=attempt.id))


@bp.route("/quizzes/attempts/<int:attempt_id>")
@login_required
def attempt_page(attempt_id: int):
    attempt = permissions.get_or_404(QuizAttempt, attempt_id, current_user, "view")
    if attempt.state == "in_progress":
        view = service.attempt_view(attempt)
        save_key = service.issue_save_key(attempt)
        return render_template(
            "quizzes/attempt.html", view=view, attempt=attempt, save_key=save_key
        )
    result = service.review_view(attempt)
    rows = service.review_rows(result["review"]) if result["review"] else None
    return render_template("quizzes/result.html", attempt=attempt, result=result, rows=rows)
