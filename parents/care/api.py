"""Care files' JSON API under /api/v1 (documented in /api/v1/openapi.json).

A file that does not exist and one the caller may not open answer the same 404."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import fields, validate

from elearn.api import ApiBlueprint, protect_cookie_sessions, refuses
from elearn.api.schemas import Body, Choice, Out, Query, RowId, RowIds, Text, When
from elearn.extensions import db
from elearn.models import Unit, User
from elearn.service.errors import NotFound, ServiceError
from parents.care import queries, service
from parents.care.models import CareExport, CareFile

bp = ApiBlueprint(
    "care_api", __name__, url_prefix="/api/v1", description="care files (关爱帮教档案)"
)
bp.before_request(protect_cookie_sessions)


class CareCaseworkerIn(Body):
    user_id = RowId(required=True)
    kind = Choice(sorted(service.CASEWORKER_KINDS), required=True)


class CareConsentIn(Body):
    given_by = Text(service.MAX_NAME, min_length=1, required=True)
    relation = Text(16, min_length=1, required=True)
    method = Choice(sorted(service.CONSENT_METHODS), required=True)
    given_on = fields.Date(metadata={"description": "today when not given"})


class CareFileCreate(Body):
    subject_id = RowId(required=True, metadata={"description": "a student of your school"})
    caseworker_ids = RowIds(
        max_items=service.MAX_CASEWORKERS,
        metadata={"description": "teachers or admins of the school (as kind teacher)"},
    )
    caseworkers = fields.List(
        fields.Nested(CareCaseworkerIn),
        validate=validate.Length(max=service.MAX_CASEWORKERS),
        metadata={"description": "caseworkers with their kind (besides caseworker_ids)"},
    )
    risk_factors = fields.List(
        Choice(sorted(service.CRITERIA)),
        required=True,
        validate=validate.Length(min=1, max=len(service.CRITERIA)),
    )
    notes = Text(service.MAX_TEXT)
    narrative = Text(service.MAX_TEXT, metadata={"description": "the risk narrative"})
    birth_date = fields.Date(metadata={"description": "unknown counts as under 14"})
    consent = fields.Nested(
        CareConsentIn,
        metadata={"description": "the guardian's consent (needed under 14 for notes)"},
    )


class CareCreated(Out):
    id = fields.Integer()


class CareFollowupCreate(Body):
    held_at = When(metadata={"description": "when the talk was held (now when not given)"})
    notes = Text(service.MAX_TEXT, min_length=1, required=True)
    next_step = Text(1000)


class CareFollowupOut(Out):
    id = fields.Integer()
    held_at = When()
    author = fields.String()
    notes = fields.String()
    next_step = fields.String()


class CareCaseworkerOut(Out):
    user_id = fields.Integer()
    name = fields.String()
    kind = fields.String()


class CareConsentOut(Out):
    given_by = fields.String()
    relation = fields.String()
    method = fields.String()
    given_on = fields.Date()
    recorded_at = When()


class CareFileOut(Out):
    id = fields.Integer()
    subject_id = fields.Integer()
    subject = fields.String()
    school_id = fields.Integer()
    county_id = fields.Integer()
    status = fields.String()
    risk_factors = fields.List(fields.String())
    narrative = fields.String()
    notes = fields.String()
    caseworkers = fields.List(fields.Nested(CareCaseworkerOut))
    followups = fields.List(fields.Nested(CareFollowupOut))
    consent = fields.Nested(CareConsentOut, allow_none=True)
    consent_needed = fields.Boolean()
    created_at = When()
    handed_over_at = When(allow_none=True)
    closed_at = When(allow_none=True)


class CareAccessLogEntry(Out):
    id = fields.Integer()
    at = When()
    actor_id = fields.Integer(allow_none=True)
    actor = fields.String()
    action = fields.String()
    detail = fields.String()


class CareCloseBody(Body):
    reason = Text(service.MAX_REASON, min_length=1, required=True)


class CareCountsQuery(Query):
    unit = RowId(strict=False, metadata={"description": "your highest unit when not given"})


class CareCountRow(Out):
    unit_id = fields.Integer()
    name = fields.String()
    total = fields.Integer()
    open = fields.Integer()
    handed_over = fields.Integer()
    closed = fields.Integer()
    screened = fields.Integer()


class CareCounts(CareCountRow):
    counties = fields.List(fields.Nested(CareCountRow))
    schools = fields.List(fields.Nested(CareCountRow))


class CareExportCreate(Body):
    school_id = RowId(required=True)
    reason = Text(service.MAX_REASON, min_length=1, required=True)


class CareExportOut(Out):
    id = fields.Integer()
    school_id = fields.Integer()
    requested_by = fields.String()
    reason = fields.String()
    approved_by = fields.String(allow_none=True)
    approved_at = When(allow_none=True)
    downloaded_at = When(allow_none=True)


def _user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise ServiceError(_("There is no such person."), field="caseworker_ids")
    return user


def _file(file_id: int) -> CareFile:
    return service.open_file(current_user, file_id)


def file_out(view: service.FileView) -> dict[str, Any]:
    file = view.file
    consent = file.consent
    return {
        "id": file.id,
        "subject_id": file.subject_id,
        "subject": file.subject.display_name,
        "school_id": file.school_id,
        "county_id": file.county_id,
        "status": file.status,
        "risk_factors": file.risk_factors,
        "narrative": view.narrative,
        "notes": view.notes,
        "caseworkers": [
            {"user_id": c.user_id, "name": c.user.display_name, "kind": c.kind}
            for c in file.caseworkers
        ],
        "followups": [vars(f) for f in view.followups],
        "consent": None
        if consent is None
        else {
            "given_by": consent.given_by,
            "relation": consent.relation,
            "method": consent.method,
            "given_on": consent.given_on,
            "recorded_at": consent.recorded_at,
        },
        "consent_needed": service.consent_missing(file),
        "created_at": file.created_at,
        "handed_over_at": file.handed_over_at,
        "closed_at": file.closed_at,
    }


@bp.route("/care-files", methods=["POST"], tags=["care"])
@login_required
@bp.arguments(CareFileCreate)
@bp.response(201, CareCreated)
@refuses(400, 401, 403, 404, 409, 503)
def create(body: dict[str, Any]) -> dict[str, int]:
    """Open a care file for a student of your school (its designated admin for care files; a
    school admin of a school without one becomes it). 404: no such student in your school;
    409: an open file exists, or notes for a child under 14 without the guardian's consent."""
    workers = [(_user(i), "teacher") for i in body.get("caseworker_ids") or []]
    workers += [(_user(c["user_id"]), c["kind"]) for c in body.get("caseworkers") or []]
    file = service.create_file(
        actor=current_user,
        subject=db.session.get(User, body["subject_id"]),
        risk_factors=body["risk_factors"],
        caseworkers=workers,
        notes=body.get("notes") or "",
        narrative=body.get("narrative") or "",
        birth_date=body.get("birth_date"),
        consent=body.get("consent"),
    )
    return {"id": file.id}


@bp.route("/care-files/<int:file_id>", tags=["care"])
@login_required
@bp.response(200, CareFileOut)
@refuses(401, 404, 503)
def detail(file_id: int) -> dict[str, Any]:
    """The file with its notes (logged in its access log): for its caseworkers, the school's
    designated admin and, after handover, the county office; 404 for everyone else."""
    return file_out(service.read(current_user, _file(file_id)))


@bp.route("/care-files/<int:file_id>/followups", methods=["POST"], tags=["care"])
@login_required
@bp.arguments(CareFollowupCreate)
@bp.response(201, CareCreated)
@refuses(400, 401, 404, 409, 503)
def add_followup(body: dict[str, Any], file_id: int) -> dict[str, int]:
    """A follow-up talk: when, notes, next step (the author is the caller). 409: the file is
    closed, or the guardian's consent is missing for a child under 14."""
    followup = service.add_followup(
        current_user,
        _file(file_id),
        held_at=body.get("held_at"),
        notes=body["notes"],
        next_step=body.get("next_step") or "",
    )
    return {"id": followup.id}


@bp.route("/care-files/<int:file_id>/access-log", tags=["care"])
@login_required
@bp.response(200, CareAccessLogEntry(many=True))
@refuses(401, 403, 404)
def access_log(file_id: int) -> list[dict[str, Any]]:
    """Every read and change of the file, oldest first: for the school's designated admin
    (403 for the file's other readers)."""
    return [
        {
            "id": row.id,
            "at": row.at,
            "actor_id": row.actor_id,
            "actor": name,
            "action": row.action,
            "detail": row.detail,
        }
        for row, name in service.access_log(current_user, _file(file_id))
    ]


@bp.route("/care-files/<int:file_id>/consent", methods=["POST"], tags=["care"])
@login_required
@bp.arguments(CareConsentIn)
@bp.response(201, CareConsentOut)
@refuses(400, 401, 404, 409)
def consent(body: dict[str, Any], file_id: int) -> Any:
    """Record the guardian's consent (once)."""
    return service.record_consent(current_user, _file(file_id), body)


@bp.route("/care-files/<int:file_id>/handover", methods=["POST"], tags=["care"])
@login_required
@bp.response(200, CareCreated)
@refuses(401, 403, 404, 409)
def handover(file_id: int) -> dict[str, int]:
    """Hand the file over to the county drug-control office (the designated admin)."""
    return {"id": service.hand_over(current_user, _file(file_id)).id}


@bp.route("/care-files/<int:file_id>/close", methods=["POST"], tags=["care"])
@login_required
@bp.arguments(CareCloseBody)
@bp.response(200, CareCreated)
@refuses(400, 401, 403, 404, 409)
def close(body: dict[str, Any], file_id: int) -> dict[str, int]:
    """Close the file with a reason (the designated admin; the county office after handover).
    It is purged CARE_PURGE_DAYS later."""
    return {"id": service.close(current_user, _file(file_id), body["reason"]).id}


@bp.route("/care-files/counts", tags=["care"])
@login_required
@bp.arguments(CareCountsQuery, location="query")
@bp.response(200, CareCounts)
@refuses(401, 404)
def counts(args: dict[str, Any]) -> dict[str, Any]:
    """Files by status (and students found in screenings) under a unit you administer, per
    county and school: counts only, never a name."""
    unit = db.session.get(Unit, args["unit"]) if args.get("unit") else None
    unit = unit or (queries.default_unit(current_user) if not args.get("unit") else None)
    if unit is None or not queries.may_count(current_user, unit):
        raise NotFound(_("There are no counts for you to see there."))
    return queries.counts(unit)


def _export_out(export: CareExport) -> dict[str, Any]:
    return {
        "id": export.id,
        "school_id": export.school_id,
        "requested_by": export.requested_by.display_name,
        "reason": export.reason,
        "approved_by": export.approved_by.display_name if export.approved_by else None,
        "approved_at": export.approved_at,
        "downloaded_at": export.downloaded_at,
    }


def _export(export_id: int) -> CareExport:
    export = db.session.get(CareExport, export_id) if export_id < 2**31 else None
    if export is None or not (
        export.requested_by_id == current_user.id or service.may_approve(current_user, export)
    ):
        raise NotFound(_("There is no such export request for you."))
    return export


@bp.route("/care-exports", methods=["POST"], tags=["care"])
@login_required
@bp.arguments(CareExportCreate)
@bp.response(201, CareExportOut)
@refuses(400, 401, 403, 404)
def request_export(body: dict[str, Any]) -> dict[str, Any]:
    """Ask for an export of a school's files (its designated admin); another admin of the
    school or the county office approves it; then it downloads once."""
    school = db.session.get(Unit, body["school_id"])
    if school is None:
        raise NotFound(_("That unit does not exist."))
    return _export_out(service.request_export(current_user, school, body["reason"]))


@bp.route("/care-exports/<int:export_id>/approve", methods=["POST"], tags=["care"])
@login_required
@bp.response(200, CareExportOut)
@refuses(401, 403, 404, 409)
def approve_export(export_id: int) -> dict[str, Any]:
    """A second admin approves (not the requester: 403)."""
    return _export_out(service.approve_export(current_user, _export(export_id)))


@bp.route("/care-exports/<int:export_id>/download", tags=["care"])
@login_required
@bp.response(200, content_type="application/octet-stream", description="the .xlsx")
@refuses(401, 404, 409, 410, 503)
def download_export(export_id: int) -> Response:
    """The approved export, once, for its requester (410 the second time)."""
    content = service.download_export(current_user, _export(export_id))
    response = Response(
        content, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response.headers["Content-Disposition"] = f'attachment; filename="care-{export_id}.xlsx"'
    return response


class CareDesignationIn(Body):
    user_id = RowId(required=True, metadata={"description": "a school admin of the school"})


class CareDesignationOut(Out):
    school_id = fields.Integer()
    user_id = fields.Integer()
    name = fields.String()


@bp.route("/care-designations/<int:school_id>", methods=["PUT"], tags=["care"])
@login_required
@bp.arguments(CareDesignationIn)
@bp.response(200, CareDesignationOut)
@refuses(400, 401, 403, 404)
def designate(body: dict[str, Any], school_id: int) -> dict[str, Any]:
    """Set the school's designated admin for care files (one of its school admins): by the
    current one, or the county office. They open every file of the school and read its access
    logs; the one replaced no longer does (unless a caseworker)."""
    school = db.session.get(Unit, school_id) if school_id < 2**31 else None
    chosen = db.session.get(User, body["user_id"])
    if school is None or school.school_id != school.id:
        raise NotFound(_("That unit does not exist."))
    if chosen is None:
        raise ServiceError(_("There is no such person."), field="user_id")
    found = service.designate(current_user, school, chosen)
    return {"school_id": school.id, "user_id": found.user_id, "name": chosen.display_name}
