"""Question banks: the list, a bank's questions with imports and exports, a question with its
version history, editing (a new version) and taking it out of the bank."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from elearn import permissions, uow
from elearn.extensions import db
from elearn.forms import ConfirmForm
from elearn.models import Unit
from elearn.queries import paginate
from elearn.request_args import page_number, whole_number
from elearn.service.errors import ServiceError
from media.service import upload_limit
from quizzes import queries, richtext, service
from quizzes.forms import BankForm, ImportForm, QuestionEditForm
from quizzes.models import Question, QuestionBank, QuestionCategory, QuestionVersion
from quizzes.qtypes import get_type
from quizzes.routes.blueprint import author_units, bp, carried_out, is_staff, type_labels
from quizzes.service import bank as bank_service
from quizzes.service.attachments import question_media
from quizzes.service.attempt_views import answer_text


@bp.route("/quizzes/banks", methods=["GET", "POST"])
@login_required
def banks():
    if not is_staff(current_user):
        abort(403)
    form = BankForm()
    form.unit_id.choices = [SelectChoice(u.id, u.name) for u in author_units(current_user)]
    if form.validate_on_submit():
        unit = permissions.get_or_404(Unit, form.unit_id.data, current_user)
        bank = service.create_bank(actor=current_user, name=form.name.data or "", unit=unit)
        flash(_("Question bank created."), "success")
        return redirect(url_for("quizzes.bank_detail", bank_id=bank.id))
    found = queries.banks_for(current_user)
    return render_template(
        "quizzes/banks.html",
        banks=found,
        counts=queries.question_counts([b.id for b in found]),
        form=form,
    )


@bp.route("/quizzes/banks/<int:bank_id>", methods=["GET", "POST"])
@login_required
def bank_detail(bank_id: int):
    bank = permissions.get_or_404(QuestionBank, bank_id, current_user, "use")
    can_edit = permissions.can(current_user, "edit", bank)
    form = ImportForm()
    result = None
    if request.method == "POST":
        permissions.require(current_user, "edit", bank)
        if form.validate_on_submit():
            result = service.import_questions(
                actor=current_user,
                bank=bank,
                fmt=form.format.data or "",
                payload=form.file.data.read(),
            )
            if not result.errors:  # a file with errors wrote nothing
                flash(_("%(n)s questions imported.", n=result.imported), "success")
                return redirect(url_for("quizzes.bank_detail", bank_id=bank.id))
    filters = queries.question_filters(request.args)
    pagination = paginate(
        queries.bank_questions(bank, **filters),
        page=page_number(),
        per_page=current_app.config["PAGE_SIZE"],
    )
    categories = {
        c.id: c.name
        for c in db.session.scalars(
            select(QuestionCategory)
            .where(QuestionCategory.bank_id == bank.id)
            .order_by(QuestionCategory.name)
        )
    }
    status = 422 if result is not None and result.errors else 200
    return render_template(
        "quizzes/bank.html",
        bank=bank,
        pagination=pagination,
        filters=filters,
        tally=queries.question_tally(bank),
        filtered=any(filters[name] for name in ("text", "qtype", "category_id", "difficulty")),
        categories=categories,
        type_labels=type_labels(),
        form=form,
        result=result,
        can_edit=can_edit,
    ), status


@bp.route("/quizzes/banks/<int:bank_id>/export")
@login_required
def bank_export(bank_id: int):
    bank = permissions.get_or_404(QuestionBank, bank_id, current_user, "use")
    permissions.require(current_user, "edit", bank)
    content, mimetype, extension = service.export_questions(
        actor=current_user, bank=bank, fmt=request.args.get("format", "xlsx")
    )
    response = Response(content, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="bank-{bank.id}.{extension}"'
    return response


def _question_in_bank(question_id: int) -> tuple[Question, QuestionBank]:
    """A question and its bank, which the caller may use; out of reach is a 404."""
    question = db.session.get(Question, question_id)
    if question is None:
        abort(404)
    return question, permissions.get_or_404(QuestionBank, question.bank_id, current_user, "use")


@bp.route("/quizzes/questions/<int:question_id>/archive", methods=["POST"])
@login_required
def question_archive(question_id: int):
    """Take a question out of its bank (``archived=1``) or put it back (``archived=0``)."""
    question, bank = _question_in_bank(question_id)
    permissions.require(current_user, "edit", bank)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    archived = request.form.get("archived") == "1"
    done = carried_out(
        lambda: bank_service.set_archived(actor=current_user, question=question, archived=archived),
        lambda _changed: (
            _("The question was taken out of the bank.")
            if archived
            else _("The question is back in the bank.")
        ),
    )
    if done and archived:
        return redirect(url_for("quizzes.bank_detail", bank_id=bank.id))
    return redirect(url_for("quizzes.question_edit", question_id=question.id))


@bp.route("/quizzes/questions/<int:question_id>", methods=["GET", "POST"])
@login_required
def question_edit(question_id: int):
    """A question, its version history, and (for the bank's authors) editing: a new version."""
    question, bank = _question_in_bank(question_id)
    may_edit_bank = permissions.can(current_user, "edit", bank)
    can_edit = may_edit_bank and bank_service.editable(question)
    form = QuestionEditForm(
        data=bank_service.row_of(question)
        if request.method == "GET" and bank_service.editable(question)
        else None
    )
    if request.method == "POST":
        permissions.require(current_user, "edit", bank)
        if form.validate_on_submit():
            row = {name: form[name].data for name in bank_service.ROW_FIELDS}
            try:
                with uow.savepoint():
                    version = bank_service.edit_question_row(
                        actor=current_user,
                        question=question,
                        row=row,
                        media_asset_id=form.media_asset_id.data or None,
                        remove_media=bool(form.remove_media.data),
                    )
            except ServiceError as error:
                flash(error.message, "error")
            else:
                flash(_("Saved as version %(n)s.", n=version.number), "success")
                return redirect(url_for("quizzes.question_edit", question_id=question.id))
    versions = queries.question_versions(question)
    shown_number = whole_number("version")
    shown = next((v for v in versions if v.number == shown_number), None)
    return render_template(
        "quizzes/question.html",
        question=question,
        bank=bank,
        form=form,
        can_edit=can_edit and not question.is_archived,
        may_edit_bank=may_edit_bank,
        quizzes_using=bank_service.quizzes_using(question) if may_edit_bank else 0,
        confirm=ConfirmForm(),
        versions=versions,
        authors=queries.user_names({v.created_by_id for v in versions if v.created_by_id}),
        shown=shown,
        shown_view=_version_view(shown) if shown else None,
        type_labels=type_labels(),
        scoring_labels={
            "penalty": _("Wrong choices cost marks"),
            "all_or_nothing": _("All or nothing"),
        },
        media=question_media(question.current_version.media_asset_id, current_user)
        if question.current_version
        else None,
        upload_limit_mb=(upload_limit(current_user) or 0) // (1024 * 1024),
    ), (422 if request.method == "POST" else 200)


def _version_view(version: QuestionVersion) -> dict[str, Any]:
    """An old version as the history shows it: stem, options and the answer as words."""
    question_type = get_type(version.type)
    view = {"type": version.type, "stem": richtext.clean(version.stem)}
    view.update(question_type.public_view(version.data, None))
    correct = question_type.correct_answer(version.data, version.grading)
    view["answer_text"] = answer_text(view, correct)
    view["feedback"] = richtext.clean(version.general_feedback)
    return view
