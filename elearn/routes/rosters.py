"""Roster import pages: the upload form of a school or county, and the import job's progress."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_login import current_user, login_required
from werkzeug.exceptions import RequestEntityTooLarge

from elearn import permissions, uow
from elearn.extensions import db
from elearn.forms import ConfirmForm, RosterUploadForm
from elearn.models import Job, Unit
from elearn.service import rosters
from elearn.service.errors import ServiceError
from elearn.service.roster_files import COLUMN_HELP, COLUMN_REQUIRED_FOR, COLUMNS, too_large
from elearn.tasks import import_roster

bp = Blueprint("rosters", __name__, url_prefix="/admin")


def _upload_page(unit: Unit, form: RosterUploadForm, status: int = 200):
    limits = rosters.RosterLimits.from_config(current_app.config)
    columns = [(name, COLUMN_REQUIRED_FOR[name], COLUMN_HELP[name]) for name in COLUMNS]
    return render_template(
        "elearn/rosters/upload.html",
        unit=unit,
        form=form,
        columns=columns,
        max_mb=f"{limits.max_bytes / (1024 * 1024):g}",
        max_rows=limits.max_rows,
    ), status


@bp.route("/units/<int:unit_id>/roster", methods=["GET", "POST"])
@login_required
def upload(unit_id: int):
    unit = permissions.get_or_404(Unit, unit_id, current_user, "import_roster")
    limits = rosters.RosterLimits.from_config(current_app.config)
    try:
        form = RosterUploadForm()
    except RequestEntityTooLarge:
        form = RosterUploadForm(formdata=None)
        form.file.errors = [too_large(limits.max_bytes).message]
        return _upload_page(unit, form, 413)
    if request.method == "GET":
        return _upload_page(unit, form)
    if not form.validate_on_submit():
        return _upload_page(unit, form, 400)
    try:
        with uow.savepoint():
            job = rosters.start_import(
                actor=current_user,
                unit=unit,
                filename=form.file.data.filename,
                data=form.file.data.stream.read(limits.max_bytes + 1),
                limits=limits,
                locale=str(get_locale()),
            )
    except ServiceError as error:
        form.file.errors = [error.message]
        return _upload_page(unit, form, error.status)
    uow.send_task(import_roster, job.id)
    return redirect(url_for("rosters.job", job_id=job.id))


@bp.route("/jobs/<job_id>")
@login_required
def job(job_id: str):
    job = permissions.get_or_404(Job, job_id[:32], current_user)
    unit = db.session.get(Unit, job.unit_id) if job.unit_id else None
    back = (
        unit if unit is not None and permissions.can(current_user, "view_members", unit) else None
    )
    return render_template(
        "elearn/rosters/job.html",
        job=rosters.job_json(job),
        unit=back,
        finished=rosters.is_finished(job),
        can_retry=unit is not None and permissions.can(current_user, "import_roster", unit),
        confirm_form=ConfirmForm(),
    )
