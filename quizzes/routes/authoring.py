"""Building and managing a quiz: the builder (questions picked from the banks, random draws),
its settings, publishing, closing and deleting it."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from elearn import permissions, uow
from elearn.forms import ConfirmForm
from elearn.models import Role, Unit
from elearn.queries import paginate
from elearn.request_args import page_number, row_id
from elearn.service.errors import ServiceError
from quizzes import queries, service
from quizzes.forms import MODES, QuizForm, QuizSettingsForm
from quizzes.models import QuestionBank, Quiz
from quizzes.routes.blueprint import (
    author_units,
    bp,
    carried_out,
    from_page,
    is_staff,
    to_page,
    type_labels,
)


@bp.route("/quizzes/new", methods=["GET", "POST"])
@login_required
def quiz_new():
    if not is_staff(current_user):
        abort(403)
    form = QuizForm()
    form.unit_id.choices = [SelectChoice(u.id, u.name) for u in author_units(current_user)]
    found = queries.banks_for(current_user)
    chosen = list(dict.fromkeys(int(q) for q in request.form.getlist("question_id") if q.isdigit()))
    # searching the banks or turning their pages posts the whole form, to keep what is filled
    # in and picked; only the create button (or a post without either) creates
    browsing = "find" in request.form or "page" in request.form
    if not browsing and form.validate_on_submit():
        unit = permissions.get_or_404(Unit, form.unit_id.data, current_user)
        items: list[dict[str, Any]] = [{"question_id": q, "mark": 1} for q in chosen]
        items += [
            {"category_id": int(key.split("_", 1)[1]), "count": int(value), "mark": 1}
            for key, value in request.form.items()
            if key.startswith("draw_") and value.isdigit() and int(value) > 0
        ]
        try:
            with uow.savepoint():
                quiz = service.create_quiz(
                    actor=current_user,
                    unit=unit,
                    title=form.title.data or "",
                    items=items,
                    audience=[(unit, Role.STUDENT)],
                    opens_at=from_page(form.opens_at.data),
                    closes_at=from_page(form.closes_at.data),
                    time_limit_seconds=form.time_limit_minutes.data * 60
                    if form.time_limit_minutes.data
                    else None,
                    attempts_allowed=form.attempts_allowed.data or 0,
                    pass_mark=form.pass_mark.data or 0,
                    review_policy=form.review_policy.data or "immediately",
                    mode=form.mode.data or "self_paced",
                    one_per_page=bool(form.one_per_page.data),
                    publish=bool(form.publish.data),
                )
        except ServiceError as error:
            flash(error.message, "error")
        else:
            flash(_("Quiz created."), "success")
            return redirect(url_for("quizzes.results", quiz_id=quiz.id))
    return render_template("quizzes/quiz_form.html", form=form, **_builder_search(found, chosen)), (
        400 if request.method == "POST" and not browsing else 200
    )


#: questions a page of the builder's search shows
BUILDER_PAGE_SIZE = 20


def _builder_search(banks: list[QuestionBank], chosen: list[int]) -> dict[str, Any]:
    """The builder's question search: one bank at a time, the bank page's filters, a page of
    questions not picked yet; the picked ones apart."""
    values = request.form if request.method == "POST" else request.args
    bank_id = row_id("bank", values)
    bank = next((b for b in banks if b.id == bank_id), banks[0] if banks else None)
    filters = queries.question_filters(values)
    filters.pop("archived")
    results = None
    if bank is not None:
        results = paginate(
            queries.bank_questions(bank, **filters, excluding=chosen),
            page=page_number(values),
            per_page=BUILDER_PAGE_SIZE,
        )
    return {
        "bank_rows": queries.builder_banks(banks),
        "bank": bank,
        "filters": filters,
        "results": results,
        "chosen": queries.chosen_questions(banks, chosen),
        "type_labels": type_labels(),
    }


def _limit_minutes(seconds: int | None) -> int | None:
    return -(-seconds // 60) if seconds else None


def _limit_seconds(quiz: Quiz, minutes: int | None) -> int | None:
    """Minutes as typed; a limit set in seconds (through the API) stays when left as shown."""
    if not minutes:
        return None
    if minutes == _limit_minutes(quiz.time_limit_seconds):
        return quiz.time_limit_seconds
    return minutes * 60


def _settings_data(quiz: Quiz) -> dict[str, Any]:
    return {
        "title": quiz.title,
        "opens_at": to_page(quiz.opens_at),
        "closes_at": to_page(quiz.closes_at),
        "time_limit_minutes": _limit_minutes(quiz.time_limit_seconds),
        "attempts_allowed": quiz.attempts_allowed,
        "pass_mark": quiz.pass_mark,
        "review_policy": quiz.review_policy,
        "mode": quiz.mode,
        "one_per_page": quiz.one_per_page,
    }


@bp.route("/quizzes/<int:quiz_id>/settings", methods=["GET", "POST"])
@login_required
def quiz_settings(quiz_id: int):
    quiz = permissions.get_or_404(Quiz, quiz_id, current_user, "edit")
    taken = service.times_taken(quiz)
    form = QuizSettingsForm(data=_settings_data(quiz) if request.method == "GET" else None)
    if taken:  # fixed once taken: shown as facts, not fields
        del form.pass_mark
        del form.mode
    if form.validate_on_submit():
        changes: dict[str, Any] = {
            "title": form.title.data,
            "opens_at": from_page(form.opens_at.data),
            "closes_at": from_page(form.closes_at.data),
            "time_limit_seconds": _limit_seconds(quiz, form.time_limit_minutes.data),
            "attempts_allowed": form.attempts_allowed.data or 0,
            "review_policy": form.review_policy.data,
            "one_per_page": bool(form.one_per_page.data),
        }
        if not taken:
            changes |= {"pass_mark": form.pass_mark.data or 0, "mode": form.mode.data}
        if carried_out(
            lambda: service.update_quiz(actor=current_user, quiz=quiz, changes=changes),
            lambda changed: _("Settings saved.") if changed else _("Nothing changed."),
        ):
            return redirect(url_for("quizzes.results", quiz_id=quiz.id))
    return render_template(
        "quizzes/quiz_settings.html",
        quiz=quiz,
        form=form,
        taken=taken,
        in_progress=service.in_progress_count(quiz),
        modes={c.value: c.label for c in MODES},
    ), (400 if request.method == "POST" else 200)


@bp.route("/quizzes/<int:quiz_id>/publish", methods=["POST"])
@login_required
def quiz_publish(quiz_id: int):
    """Publish a draft, or withdraw a quiz nobody has taken yet (the form says which)."""
    quiz = permissions.get_or_404(Quiz, quiz_id, current_user, "edit")
    if not ConfirmForm().validate_on_submit():
        abort(400)
    publish = request.form.get("published") == "1"
    carried_out(
        lambda: service.update_quiz(actor=current_user, quiz=quiz, changes={"publish": publish}),
        lambda _changed: _("Published: the audience can take it.") if publish else _("Withdrawn."),
    )
    return redirect(url_for("quizzes.results", quiz_id=quiz.id))


@bp.route("/quizzes/<int:quiz_id>/close", methods=["POST"])
@login_required
def quiz_close(quiz_id: int):
    """Close now: no new attempts, those in progress end (with the usual grace for a last save)."""
    quiz = permissions.get_or_404(Quiz, quiz_id, current_user, "edit")
    if not ConfirmForm().validate_on_submit():
        abort(400)
    carried_out(
        lambda: service.close_quiz(actor=current_user, quiz=quiz),
        lambda _changed: _("The quiz is closed."),
    )
    return redirect(url_for("quizzes.results", quiz_id=quiz.id))


@bp.route("/quizzes/<int:quiz_id>/delete", methods=["GET", "POST"])
@login_required
def quiz_delete(quiz_id: int):
    """A confirmation page; deleting is refused, with the reasons, while anything depends on it."""
    quiz = permissions.get_or_404(Quiz, quiz_id, current_user, "edit")
    form = ConfirmForm()
    blockers = service.deletion_blockers(quiz)
    if form.validate_on_submit():
        title = quiz.title
        if carried_out(
            lambda: service.delete_quiz(actor=current_user, quiz=quiz),
            lambda _none: _("Quiz %(title)s deleted.", title=title),
        ):
            return redirect(url_for("quizzes.mine"))
    return render_template(
        "quizzes/quiz_delete.html",
        quiz=quiz,
        form=form,
        blockers=blockers,
        still_open=quiz.is_published and not service.has_closed(quiz),
    ), (409 if request.method == "POST" else 200)
