"""Roster import: the template, the upload, and the import job's progress."""

from __future__ import annotations

from flask import Response, abort, current_app, jsonify, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge

from elearn import permissions
from elearn.api import bp
from elearn.api.helpers import bad_request, require_int
from elearn.api.openapi import EXTRA_COMPONENTS
from elearn.extensions import db
from elearn.models import AccountSlip, Job, Unit
from elearn.routes.slips import XLSX, login_url, role_labels
from elearn.service import rosters, slips
from elearn.service.roster_files import template_csv, template_xlsx, too_large
from elearn.tasks import import_roster

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


def form_parts() -> tuple[dict[str, str], FileStorage | None]:
    """The form fields and the ``file`` part; a body over the server's limit is a 413 with a
    message saying what to do."""
    try:
        return request.form.to_dict(), request.files.get("file")
    except RequestEntityTooLarge:
        limits = rosters.RosterLimits.from_config(current_app.config)
        raise too_large(limits.max_bytes) from None


def read_limited(file: FileStorage) -> bytes:
    """The file's bytes, reading at most one byte past the limit (the service refuses those)."""
    limits = rosters.RosterLimits.from_config(current_app.config)
    return file.stream.read(limits.max_bytes + 1)


@bp.route("/rosters/template")
@login_required
def roster_template():
    """The roster template (header row and one example per role).
    ---
    get:
      tags: [rosters]
      parameters:
        - {name: format, in: query, required: false, schema: {type: string, enum: [xlsx, csv], default: xlsx}}
      responses:
        200:
          description: the template file
          content:
            application/vnd.openxmlformats-officedocument.spreadsheetml.sheet: {}
            text/csv: {}
        400:
          description: unknown format
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Error'}
    """
    kind = request.args.get("format", "xlsx")
    if kind not in TEMPLATE_TYPES:
        bad_request(_("Choose the template format: xlsx or csv."))
    return template_response(kind)


@bp.route("/rosters", methods=["POST"])
@login_required
def roster_upload():
    """Upload a roster (.xlsx or .csv) for a school or county; it is imported in the background.
    ---
    post:
      tags: [rosters]
      description: >
        The file's type, size, unpacked size and header row are checked at once (400 or 413, no
        job; a CSV file's number of rows too). Then a job counts a workbook's rows, checks every
        row and imports all of them or none; follow it at /api/v1/jobs/{job_id}.
      requestBody:
        required: true
        content:
          multipart/form-data:
            schema:
              type: object
              required: [file, unit]
              properties:
                file: {type: string, format: binary, description: the roster (.xlsx or .csv)}
                unit: {type: integer, description: id of the school or county to import into}
      responses:
        202:
          description: the import job was queued
          content:
            application/json:
              schema:
                type: object
                properties:
                  job_id: {type: string}
        400:
          description: not an .xlsx or .csv roster, or its header row lacks columns
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Error'}
        403: {description: the caller may see the unit but not import into it}
        404: {description: no such unit within the caller's scope}
        413:
          description: the file is too large, has too many rows, or unpacks to too much
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Error'}
    """
    fields, file = form_parts()
    unit_id = fields.get("unit")
    if not unit_id:
        bad_request(_("Give the school or county as the form field unit=<id>."))
    unit = permissions.get_or_404(Unit, require_int(unit_id, "unit"), current_user, "import_roster")
    if file is None:
        bad_request(_("Attach the roster as the form field file."))
    assert file is not None
    job = rosters.start_import(
        actor=current_user,
        unit=unit,
        filename=file.filename,
        data=read_limited(file),
        limits=rosters.RosterLimits.from_config(current_app.config),
        locale=str(get_locale()),
    )
    job_id = job.id
    db.session.commit()
    import_roster.delay(job_id)
    response = jsonify(job_id=job_id)
    response.status_code = 202
    response.headers["Location"] = url_for("api.job_status", job_id=job_id)
    return response


@bp.route("/jobs/<job_id>")
@login_required
def job_status(job_id: str):
    """A background job (e.g. a roster import) of the caller: status, progress, errors, counts.
    ---
    get:
      tags: [rosters]
      parameters:
        - {name: job_id, in: path, required: true, schema: {type: string}}
      responses:
        200:
          description: the job
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Job'}
        404: {description: no such job among the caller's own}
    """
    job = permissions.get_or_404(Job, job_id[:32], current_user)
    return jsonify(rosters.job_json(job))


@bp.route("/jobs/<job_id>/slips/<int:slip_id>", methods=["POST"])
@login_required
def open_slip(job_id: str, slip_id: int):
    """Open one account slip of the caller's roster import: its passwords are made now.
    ---
    post:
      tags: [rosters]
      description: >
        The new accounts of a roster import have no password until the importer opens their
        slip (one per class, one for the school's teachers; listed in the job's `slips`). This
        makes random initial passwords and answers them in a spreadsheet (school, class, name,
        role, username, initial password, sign-in address), once: they are kept nowhere, and a
        second call answers 410. Each account must change its password at its first sign-in.
      parameters:
        - {name: job_id, in: path, required: true, schema: {type: string}}
        - {name: slip_id, in: path, required: true, schema: {type: integer}}
      responses:
        200:
          description: the slip as a spreadsheet
          content:
            application/vnd.openxmlformats-officedocument.spreadsheetml.sheet: {}
        404: {description: no such slip among the caller's own imports}
        410:
          description: the slip was opened already; reset the class's passwords for new ones
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Error'}
    """
    slip = permissions.get_or_404(AccountSlip, slip_id, current_user, "open")
    if slip.job_id != job_id[:32]:
        abort(404)
    issued = slips.open_slip(actor=current_user, slip=slip)
    db.session.commit()
    response = Response(
        slips.workbook(issued, login_url=login_url(), role_labels=role_labels()),
        content_type=XLSX,
    )
    response.headers["Content-Disposition"] = f"attachment; filename=account-slip-{slip_id}.xlsx"
    response.headers["Cache-Control"] = "no-store"
    return response


JOB_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "kind": {"type": "string", "example": rosters.JOB_KIND},
        "status": {"type": "string", "enum": ["queued", "running", "done", "failed"]},
        "progress": {"type": "integer", "minimum": 0, "maximum": 100},
        "filename": {"type": "string", "nullable": True},
        "unit_id": {"type": "integer", "nullable": True},
        "errors": {
            "type": "array",
            "description": "row-by-row problems (row as numbered in Excel; the header is row 1)",
            "items": {
                "type": "object",
                "properties": {
                    "row": {"type": "integer", "nullable": True},
                    "message": {"type": "string"},
                },
            },
        },
        "result": {
            "type": "object",
            "description": "counts when done: rows, students_created, students_updated, "
            "students_unchanged (and the same for teachers and guardians), grades_created, "
            "classes_created, links_created; error_count when failed",
            "additionalProperties": {"type": "integer"},
        },
        "created_at": {"type": "string", "format": "date-time"},
        "finished_at": {"type": "string", "format": "date-time", "nullable": True},
        "slips": {
            "type": "array",
            "description": "account slips of the new accounts (open each once: POST "
            "/api/v1/jobs/{job_id}/slips/{id})",
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "unit_id": {"type": "integer"},
                    "unit_name": {"type": "string"},
                    "kind": {"type": "string", "enum": ["class", "teachers"]},
                    "accounts": {"type": "integer"},
                    "opened_at": {"type": "string", "format": "date-time", "nullable": True},
                },
            },
        },
    },
}

EXTRA_COMPONENTS["Job"] = JOB_SCHEMA
