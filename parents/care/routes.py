"""Care files' pages (mobile-first): my files, one file (its follow-ups, consent, handover and
closure), its access log, a new file, the term's screening, counts without names, exports."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from elearn import uow
from elearn.extensions import db
from elearn.localtime import from_local, wall_clock
from elearn.models import RoleAssignment, Unit, User
from elearn.models._types import utcnow
from elearn.models.accounts import ADMIN_ROLES, Role
from elearn.service.errors import NotFound, ServiceError
from parents.care import queries, service
from parents.care.models import CareExport, CareFile, CareScreeningEntry

bp = Blueprint("care", __name__, template_folder="templates")


def nav_items(user: User) -> list[tuple[str, str]]:
    if user.has_role(Role.TEACHER, *ADMIN_ROLES):
        return [("care.index", _("Care files"))]
    return []


def _labels() -> dict[str, Any]:
    return {
        "criteria": service.CRITERIA,
        "kinds": service.CASEWORKER_KINDS,
        "methods": service.CONSENT_METHODS,
        "statuses": service.STATUS_LABELS,
        "actions": service.ACTIONS,
    }


def _file(file_id: int) -> CareFile:
    try:
        return service.open_file(current_user, file_id)
    except NotFound:
        abort(404)


def _staff_page() -> None:
    if not current_user.has_role(Role.TEACHER, *ADMIN_ROLES):
        abort(404)


@bp.route("/care")
@login_required
def index():
    _staff_page()
    return render_template(
        "care/index.html",
        files=service.visible_files(current_user),
        schools=service.designated_schools(current_user),
        counts_unit=queries.default_unit(current_user),
        **_labels(),
    )


def _date(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        raise ServiceError(_("Give a date as YYYY-MM-DD.")) from None


def _students(school: Unit) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .join(RoleAssignment, RoleAssignment.user_id == User.id)
            .join(Unit, Unit.id == RoleAssignment.unit_id)
            .where(
                Unit.path.startswith(school.path, autoescape=False),
                RoleAssignment.role == Role.STUDENT,
            )
            .distinct()
            .order_by(User.display_name)
        )
    )


def _school_arg() -> Unit:
    schools = service.designated_schools(current_user)
    if not schools:
        abort(404)
    wanted = request.values.get("school", "")
    return next((s for s in schools if str(s.id) == wanted), schools[0])


def _caseworkers_from(form: Any) -> list[tuple[User, str]]:
    found = []
    for raw in form.getlist("caseworker"):
        user_id, _sep, kind = raw.partition(":")
        if not user_id.isdigit() or len(user_id) > 9:
            continue
        kind = form.get(f"kind_{user_id}") or kind or "teacher"
        user = db.session.get(User, int(user_id))
        if user is not None:
            found.append((user, kind))
    return found


@bp.route("/care/files/new", methods=["GET", "POST"])
@login_required
def new_file():
    school = _school_arg()
    form = request.form
    error, status = None, 200
    if request.method == "POST":
        try:
            with uow.savepoint():
                consent = None
                if form.get("consent_given_by"):
                    consent = {
                        "given_by": form.get("consent_given_by"),
                        "relation": form.get("consent_relation"),
                        "method": form.get("consent_method"),
                        "given_on": _date(form.get("consent_given_on")),
                    }
                subject_id = form.get("subject_id", "")
                subject = (
                    db.session.get(User, int(subject_id))
                    if subject_id.isdigit() and len(subject_id) < 10
                    else None
                )
                file = service.create_file(
                    actor=current_user,
                    subject=subject,
                    risk_factors=form.getlist("risk_factor"),
                    caseworkers=_caseworkers_from(form),
                    notes=form.get("notes", ""),
                    narrative=form.get("narrative", ""),
                    birth_date=_date(form.get("birth_date")),
                    consent=consent,
                )
        except ServiceError as failure:
            error, status = failure.message, failure.status or 400
        else:
            flash(_("The care file is open."), "success")
            return redirect(url_for("care.file", file_id=file.id))
    page = render_template(
        "care/new.html",
        school=school,
        students=_students(school),
        staff=service.staff_choices(school),
        form=form if request.method == "POST" else request.args,
        error=error,
        **_labels(),
    )
    return page, status


@bp.route("/care/files/<int:file_id>")
@login_required
def file(file_id: int):
    found = _file(file_id)
    try:
        view = service.read(current_user, found)
    except ServiceError as failure:
        abort(failure.status or 503)
    return render_template(
        "care/file.html",
        view=view,
        file=found,
        may_manage=service.may_manage(current_user, found),
        designated=service.is_designated(current_user, found.school_id),
        consent_missing=service.consent_missing(found),
        # the form's default: now on the installation's clock (from_local reads it back)
        now=_wall_now(),
        **_labels(),
    )


def _wall_now() -> str:
    local = wall_clock(utcnow())
    return local.strftime("%Y-%m-%dT%H:%M") if local else ""


def _act(file_id: int, action: Any, done: str) -> Any:
    found = _file(file_id)
    try:
        with uow.savepoint():
            action(found)
    except ServiceError as failure:
        flash(failure.message, "error")
    else:
        flash(done, "success")
    return redirect(url_for("care.file", file_id=file_id))


@bp.route("/care/files/<int:file_id>/followups", methods=["POST"])
@login_required
def add_followup(file_id: int):
    form = request.form

    def add(found: CareFile) -> None:
        raw = form.get("held_at", "")
        try:
            held = from_local(datetime.fromisoformat(raw)) if raw else None
        except ValueError:
            raise ServiceError(_("Give the date and time of the talk.")) from None
        service.add_followup(
            current_user,
            found,
            held_at=held,
            notes=form.get("notes", ""),
            next_step=form.get("next_step", ""),
        )

    return _act(file_id, add, _("Follow-up recorded."))


@bp.route("/care/files/<int:file_id>/consent", methods=["POST"])
@login_required
def consent(file_id: int):
    form = request.form

    def record(found: CareFile) -> None:
        service.record_consent(
            current_user,
            found,
            {
                "given_by": form.get("given_by"),
                "relation": form.get("relation"),
                "method": form.get("method"),
                "given_on": _date(form.get("given_on")),
            },
        )

    return _act(file_id, record, _("The guardian's consent is recorded."))


@bp.route("/care/files/<int:file_id>/handover", methods=["POST"])
@login_required
def handover(file_id: int):
    if not service.is_designated(current_user, _file(file_id).school_id):
        abort(403)
    return _act(
        file_id,
        lambda found: service.hand_over(current_user, found),
        _("Handed over to the county office."),
    )


@bp.route("/care/files/<int:file_id>/close", methods=["POST"])
@login_required
def close(file_id: int):
    reason = request.form.get("reason", "")
    if not service.may_manage(current_user, _file(file_id)):
        abort(403)
    return _act(
        file_id, lambda found: service.close(current_user, found, reason), _("The file is closed.")
    )


@bp.route("/care/files/<int:file_id>/log")
@login_required
def access_log(file_id: int):
    found = _file(file_id)
    try:
        rows = service.access_log(current_user, found)
    except ServiceError as failure:
        abort(failure.status or 403)
    return render_template("care/log.html", file=found, rows=rows, **_labels())


@bp.route("/care/counts")
@login_required
def counts():
    raw = request.args.get("unit", "")
    unit = (
        db.session.get(Unit, int(raw))
        if raw.isdigit() and len(raw) < 10
        else queries.default_unit(current_user)
    )
    if unit is None or not queries.may_count(current_user, unit):
        abort(404)
    return render_template("care/counts.html", unit=unit, counts=queries.counts(unit), **_labels())


@bp.route("/care/screening", methods=["GET", "POST"])
@login_required
def screening():
    school = _school_arg()
    form = request.form
    error, status = None, 200
    if request.method == "POST":
        subject_id = form.get("subject_id", "")
        subject = (
            db.session.get(User, int(subject_id))
            if subject_id.isdigit() and len(subject_id) < 10
            else None
        )
        try:
            with uow.savepoint():
                service.screen(current_user, subject, form.getlist("criterion"))
        except ServiceError as failure:
            error, status = failure.message, failure.status or 400
        else:
            flash(_("Recorded in this term's screening."), "success")
            return redirect(url_for("care.screening", school=school.id))
    try:
        found = service.screening_for(current_user, school)
    except ServiceError:
        abort(404)
    entries: list[CareScreeningEntry] = found.entries if found else []
    page = render_template(
        "care/screening.html",
        school=school,
        students=_students(school),
        entries=entries,
        error=error,
        **_labels(),
    )
    return page, status


@bp.route("/care/exports", methods=["GET", "POST"])
@login_required
def exports():
    if not current_user.has_role(*ADMIN_ROLES):
        abort(404)
    schools = service.designated_schools(current_user)
    if request.method == "POST":
        wanted = request.form.get("school", "")
        school = next((s for s in schools if str(s.id) == wanted), None)
        if school is None:
            abort(404)
        try:
            with uow.savepoint():
                service.request_export(current_user, school, request.form.get("reason", ""))
        except ServiceError as failure:
            flash(failure.message, "error")
        else:
            flash(_("Requested: a second admin must approve it."), "success")
        return redirect(url_for("care.exports"))
    return render_template(
        "care/exports.html",
        exports=service.exports_for(current_user),
        schools=schools,
        may_approve=lambda e: service.may_approve(current_user, e),
    )


def _export(export_id: int) -> CareExport:
    export = db.session.get(CareExport, export_id) if export_id < 2**31 else None
    if export is None or not (
        export.requested_by_id == current_user.id or service.may_approve(current_user, export)
    ):
        abort(404)
    return export


@bp.route("/care/exports/<int:export_id>/approve", methods=["POST"])
@login_required
def approve_export(export_id: int):
    export = _export(export_id)
    if not service.may_approve(current_user, export):
        abort(403)  # the requester: a second admin approves
    try:
        with uow.savepoint():
            service.approve_export(current_user, export)
    except ServiceError as failure:
        flash(failure.message, "error")
    else:
        flash(_("Approved: the requester may download it once."), "success")
    return redirect(url_for("care.exports"))


@bp.route("/care/exports/<int:export_id>/download")
@login_required
def download_export(export_id: int):
    export = _export(export_id)
    if export.requested_by_id != current_user.id:
        abort(404)
    try:
        with uow.savepoint():
            content = service.download_export(current_user, export)
    except ServiceError as failure:
        flash(failure.message, "error")
        return redirect(url_for("care.exports"))
    response = Response(
        content, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response.headers["Content-Disposition"] = f'attachment; filename="care-{export_id}.xlsx"'
    return response
