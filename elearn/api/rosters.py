"""Roster import: the template, the upload, and the import job's progress."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Response, abort, current_app, request, url_for
from flask_babel import get_locale
from flask_login import current_user, login_required
from flask_smorest.fields import Upload
from marshmallow import fields, validate
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge

from elearn import permissions, uow
from elearn.api.base import bp, refuses
from elearn.api.schemas import Choice, Out, Query, RowId, When
from elearn.models import AccountSlip, Job, Unit
from elearn.routes.slips import XLSX, login_url, role_labels
from elearn.service import rosters, slips
from elearn.service.roster_files import template_csv, template_xlsx, too_large
from elearn.tasks import import_roster

F = TypeVar("F", bound=Callable[..., Any])

TEMPLATE_TYPES = {
    "xlsx": (
        template_xlsx,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    "csv": (template_csv, "text/csv; charset=utf-8"),
}


def template_response(kind: str) -> Response:
    """The roster template as a download (shared with the upload page)."""
    build, mimetype = TEMPLATE_TYPES[kind]
    response = Response(build(), content_type=mimetype)
    # RFC 6266: an ASCII fallback and the Chinese name for browsers that read filename*
    response.headers["Content-Disposition"] = (
        f"attachment; filename=roster-template.{kind}; "
        f"filename*=UTF-8''%E5%90%8D%E5%8D%95%E6%A8%A1%E6%9D%BF.{kind}"
    )
    return response


def within_limit(view: F) -> F:
    """Read the form before its schemas do: a body over the server's limit is a 413 with a
    message saying what to do."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            request.form  # noqa: B018 - parses the body, once
        except RequestEntityTooLarge:
            limits = rosters.RosterLimits.from_config(current_app.config)
            raise too_large(limits.max_bytes) from None
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]  # functools.wraps keeps the view's signature, which F stands for


def read_limited(file: FileStorage) -> bytes:
    """The file's bytes, reading at most one byte past the limit (the service refuses those)."""
    limits = rosters.RosterLimits.from_config(current_app.config)
    return file.stream.read(limits.max_bytes + 1)


class TemplateQuery(Query):
    format = Choice(list(TEMPLATE_TYPES), load_default="xlsx")


class RosterUpload(Query):
    file = Upload(required=True, metadata={"description": "the roster (.xlsx or .csv)"})
    unit = RowId(
        strict=False,
        required=True,
        metadata={"description": "id of the school or county to import into"},
    )


class JobQueued(Out):
    job_id = fields.String()


class JobProblem(Out):
    row = fields.Integer(
        allow_none=True, metadata={"description": "as numbered in Excel; the header is row 1"}
    )
    message = fields.String()


class SlipOut(Out):
    id = fields.Integer()
    unit_id = fields.Integer()
    unit_name = fields.String()
    kind = Choice(["class", "teachers"])
    accounts = fields.Integer()
    opened_at = When(allow_none=True)


class JobOut(Out):
    id = fields.String()
    kind = fields.String(metadata={"example": rosters.JOB_KIND})
    status = Choice(["queued", "running", "done", "failed"])
    progress = fields.Integer(validate=validate.Range(min=0, max=100))
    filename = fields.String(allow_none=True)
    unit_id = fields.Integer(allow_none=True)
    errors = fields.List(fields.Nested(JobProblem), metadata={"description": "row-by-row problems"})
    result = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={
            "description": "counts when done: rows, students_created, students_updated, "
            "students_unchanged (and the same for teachers and guardians), grades_created, "
            "classes_created, links_created; error_count when failed"
        },
    )
    created_at = When(allow_none=True)
    finished_at = When(allow_none=True)
    slips = fields.List(
        fields.Nested(SlipOut),
        metadata={
            "description": "account slips of the new accounts (open each once: POST "
            "/api/v1/jobs/{job_id}/slips/{id})"
        },
    )


@bp.route("/rosters/template", tags=["rosters"])
@login_required
@bp.arguments(TemplateQuery, location="query")
@bp.response(
    200,
    content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    description="the template file (text/csv for format=csv)",
)
@refuses(401)
def roster_template(args: dict[str, str]) -> Response:
    """The roster template (header row and one example per role)."""
    return template_response(args["format"])


@bp.route("/rosters", methods=["POST"], tags=["rosters"])
@login_required
@within_limit
@bp.arguments(RosterUpload, location="multipart")
@bp.response(202, JobQueued)
@refuses(400, 401, 403, 404, 413)
def roster_upload(form: dict[str, Any]):
    """Upload a roster (.xlsx or .csv) for a school or county; it is imported in the background.

    The file's type, size, unpacked size and header row are checked at once (400 or 413, no
    job; a CSV file's number of rows too). Then a job counts a workbook's rows, checks every
    row and imports all of them or none; follow it at /api/v1/jobs/{job_id}.
    """
    unit = permissions.get_or_404(Unit, form["unit"], current_user, "import_roster")
    file: FileStorage = form["file"]
    job = rosters.start_import(
        actor=current_user,
        unit=unit,
        filename=file.filename,
        data=read_limited(file),
        limits=rosters.RosterLimits.from_config(current_app.config),
        locale=str(get_locale()),
    )
    job_id = job.id
    uow.send_task(import_roster, job_id)
    return {"job_id": job_id}, 202, {"Location": url_for("api.job_status", job_id=job_id)}


@bp.route("/jobs/<job_id>", tags=["rosters"])
@login_required
@bp.response(200, JobOut)
@refuses(401, 404)
def job_status(job_id: str) -> dict[str, Any]:
    """A background job (e.g. a roster import) of the caller: status, progress, errors, counts."""
    job = permissions.get_or_404(Job, job_id[:32], current_user)
    return rosters.job_json(job)


@bp.route("/jobs/<job_id>/slips/<int:slip_id>", methods=["POST"], tags=["rosters"])
@login_required
@bp.response(200, content_type=XLSX, description="the slip as a spreadsheet")
@refuses(401, 404, 410)
def open_slip(job_id: str, slip_id: int) -> Response:
    """Open one account slip of the caller's roster import: its passwords are made now.

    The new accounts of a roster import have no password until the importer opens their slip
    (one per class, one for the school's teachers; listed in the job's ``slips``). This makes
    random initial passwords and answers them in a spreadsheet (school, class, name, role,
    username, initial password, sign-in address), once: they are kept nowhere, and a second call
    answers 410 (reset the class's passwords for new ones). Each account must change its
    password at its first sign-in.
    """
    slip = permissions.get_or_404(AccountSlip, slip_id, current_user, "open")
    if slip.job_id != job_id[:32]:
        abort(404)
    issued = slips.open_slip(actor=current_user, slip=slip)
    response = Response(
        slips.workbook(issued, login_url=login_url(), role_labels=role_labels()),
        content_type=XLSX,
    )
    response.headers["Content-Disposition"] = f"attachment; filename=account-slip-{slip_id}.xlsx"
    response.headers["Cache-Control"] = "no-store"
    return response
