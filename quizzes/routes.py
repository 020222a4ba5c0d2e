"""Assessment pages: my quizzes, the attempt page, banks, the quiz builder, results."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from elearn import localtime, permissions, uow
from elearn.extensions import db
from elearn.forms import ConfirmForm
from elearn.models import Role, Unit, User
from elearn.models._types import INT_MAX
from elearn.queries import paginate
from elearn.request_args import page_number, row_id, whole_number
from elearn.service.errors import ServiceError
from quizzes import analysis, figures, queries, service, workbook
from quizzes.access import (
    STAFF_ROLES,
    ResultsScope,
    may_author_at,
    may_view_record,
    results_scope,
)
from quizzes.dispatch.service import surveys
from quizzes.forms import (
    MODES,
    REVIEW_POLICIES,
    BankForm,
    ImportForm,
    QuestionEditForm,
    QuizForm,
    QuizSettingsForm,
)
from quizzes.models import Question, QuestionBank, QuestionCategory, Quiz, QuizAttempt
from quizzes.qtypes import QUESTION_TYPES

bp = Blueprint(
    "quizzes",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/quizzes-static",
)
# scores and rates rounded for display, the same way on every page (quizzes.figures)
bp.add_app_template_filter(figures.score_text, "score")
bp.add_app_template_filter(figures.rate_text, "rate")


def is_staff(user: User) -> bool:
    return any(a.role in STAFF_ROLES for a in user.roles)


def nav_items(user: User) -> list[tuple[str, str]]:
    items = [("quizzes.mine", _("Quizzes"))]
    if is_staff(user):
        items.append(("quizzes.banks", _("Question banks")))
    return items


def home_panel(user: User) -> list[tuple[str, dict[str, Any]]]:
    """Open quizzes for the people they are for; guardians get their children's records."""
    from elearn.queries import children_of_guardian

    panels: list[tuple[str, dict[str, Any]]] = []
    open_quizzes = db.session.scalars(
        queries.quizzes_open_to(user, datetime.now(UTC)).limit(5)
    ).all()
    if open_quizzes:
        panels.append(("quizzes/_home_panel.html", {"quizzes": open_quizzes}))
    if user.has_role(Role.GUARDIAN):
        children = [child for child, _relation in children_of_guardian(user)]
        if children:
            panels.append(("quizzes/_record_panel.html", {"children": children}))
    return panels


def _local(value: datetime | None) -> datetime | None:
    """A time typed in the page (local) as UTC."""
    return localtime.from_local(value)


def _typed(value: datetime | None) -> datetime | None:
    """A stored time as the page shows it in a datetime-local field (local, no zone)."""
    return localtime.wall_clock(value)


def _author_units(user: User) -> list[Unit]:
    units = {a.unit for a in user.roles if a.role in STAFF_ROLES and may_author_at(user, a.unit)}
    return sorted(units, key=lambda u: (len(u.path), u.name))


@bp.route("/quizzes")
@login_required
def mine():
    now = datetime.now(UTC)
    open_quizzes = db.session.scalars(queries.quizzes_open_to(current_user, now)).all()
    rows = [
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


@bp.route("/quizzes/banks", methods=["GET", "POST"])
@login_required
def banks():
    if not is_staff(current_user):
        abort(403)
    form = BankForm()
    form.unit_id.choices = [SelectChoice(u.id, u.name) for u in _author_units(current_user)]
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
        type_labels=_type_labels(),
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


@bp.route("/quizzes/new", methods=["GET", "POST"])
@login_required
def quiz_new():
    if not is_staff(current_user):
        abort(403)
    form = QuizForm()
    form.unit_id.choices = [SelectChoice(u.id, u.name) for u in _author_units(current_user)]
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
                    opens_at=_local(form.opens_at.data),
                    closes_at=_local(form.closes_at.data),
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


def _type_labels() -> dict[str, str]:
    return {name: t.label for name, t in QUESTION_TYPES.items()}


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
        "type_labels": _type_labels(),
    }


def _carried_out(action: Callable[[], Any], success: Callable[[Any], str]) -> bool:
    """Run a service call in its own savepoint: carried out with ``success(result)`` flashed
    (the request commits it), or undone with the refusal flashed. True when it was carried out."""
    try:
        with uow.savepoint():
            result = action()
    except ServiceError as error:
        flash(error.message, "error")
        return False
    flash(success(result), "success")
    return True


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
        "opens_at": _typed(quiz.opens_at),
        "closes_at": _typed(quiz.closes_at),
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
            "opens_at": _local(form.opens_at.data),
            "closes_at": _local(form.closes_at.data),
            "time_limit_seconds": _limit_seconds(quiz, form.time_limit_minutes.data),
            "attempts_allowed": form.attempts_allowed.data or 0,
            "review_policy": form.review_policy.data,
            "one_per_page": bool(form.one_per_page.data),
        }
        if not taken:
            changes |= {"pass_mark": form.pass_mark.data or 0, "mode": form.mode.data}
        if _carried_out(
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
    _carried_out(
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
    _carried_out(
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
        if _carried_out(
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
    return render_template(
        "quizzes/record.html", student=student, rows=queries.assessment_record(student)
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
    from quizzes.service import bank as bank_service

    question, bank = _question_in_bank(question_id)
    permissions.require(current_user, "edit", bank)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    archived = request.form.get("archived") == "1"
    done = _carried_out(
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
    from media.service import upload_limit
    from quizzes.service import bank as bank_service
    from quizzes.service.attachments import question_media

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
        shown_view=queries.version_view(shown) if shown else None,
        type_labels=_type_labels(),
        scoring_labels={
            "penalty": _("Wrong choices cost marks"),
            "all_or_nothing": _("All or nothing"),
        },
        media=question_media(question.current_version.media_asset_id, current_user)
        if question.current_version
        else None,
        upload_limit_mb=(upload_limit(current_user) or 0) // (1024 * 1024),
    ), (422 if request.method == "POST" else 200)
