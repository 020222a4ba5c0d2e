"""Announcements' JSON API under /api/v1 (documented in /api/v1/openapi.json)."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import fields, validate

from elearn.api import ApiBlueprint, protect_cookie_sessions, refuses
from elearn.api.schemas import Body, Choice, Out, RowId, Text
from elearn.extensions import db
from elearn.models import Unit
from elearn.request_args import row_id
from elearn.service.errors import NotFound
from parents.announcements import queries, service
from parents.announcements.models import Announcement

bp = ApiBlueprint(
    "announcements_api", __name__, url_prefix="/api/v1", description="announcements (通知)"
)
bp.before_request(protect_cookie_sessions)

#: the newest this many of each list
LIST_LIMIT = 50


class AnnouncementAudience(Body):
    unit_id = RowId(required=True, metadata={"description": "everyone under this unit"})
    role = Choice(
        sorted(service.ROLE_GROUPS),
        allow_none=True,
        metadata={"description": "only this role (admins, teachers, students, guardians)"},
    )


_AUDIENCE = fields.List(
    fields.Nested(AnnouncementAudience),
    required=True,
    validate=validate.Length(min=1, max=service.MAX_AUDIENCE),
)


class AnnouncementCreate(Body):
    title = Text(service.MAX_TITLE, min_length=1, required=True)
    body = Text(service.MAX_BODY)
    audience = _AUDIENCE
    requires_ack = fields.Boolean(metadata={"description": "ask each recipient for a 回执"})


class AnnouncementForward(Body):
    audience = _AUDIENCE
    note = Text(service.MAX_NOTE, metadata={"description": "the forwarding level's own note"})


class AnnouncementCreated(Out):
    id = fields.Integer()
    recipients = fields.Integer()


class AnnouncementOut(Out):
    id = fields.Integer()
    title = fields.String()
    body = fields.String()
    note = fields.String()
    requires_ack = fields.Boolean()
    sender = fields.String()
    unit_id = fields.Integer()
    unit_name = fields.String()
    forwarded_from_id = fields.Integer(allow_none=True)
    recipients = fields.Integer()
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)
    acked_at = fields.DateTime(allow_none=True)


class AnnouncementLists(Out):
    received = fields.List(fields.Nested(AnnouncementOut))
    sent = fields.List(fields.Nested(AnnouncementOut))


class AnnouncementChildReceipts(Out):
    unit_id = fields.Integer()
    name = fields.String()
    recipients = fields.Integer()
    read = fields.Integer()
    acknowledged = fields.Integer()


class AnnouncementReceipts(Out):
    unit_id = fields.Integer()
    recipients = fields.Integer()
    delivered = fields.Integer()
    read = fields.Integer()
    acknowledged = fields.Integer()
    children = fields.List(fields.Nested(AnnouncementChildReceipts))


class AnnouncementReceiptOut(Out):
    read_at = fields.DateTime(allow_none=True)
    acked_at = fields.DateTime(allow_none=True)


def _audience(entries: list[dict[str, Any]]) -> list[service.Audience]:
    found = []
    for entry in entries:
        unit = db.session.get(Unit, entry["unit_id"])
        if unit is None:
            raise NotFound(_("That unit does not exist."))
        found.append(service.Audience(unit=unit, role=entry.get("role")))
    return found


def _announcement(announcement_id: int) -> Announcement:
    announcement = db.session.get(Announcement, announcement_id)
    if announcement is None or not service.may_view(current_user, announcement):
        raise NotFound(_("This announcement does not exist, or is not for you."))
    return announcement


def _out(announcement: Announcement, receipt: Any = None) -> dict[str, Any]:
    return {
        "id": announcement.id,
        "title": announcement.title,
        "body": announcement.body,
        "note": announcement.note,
        "requires_ack": announcement.requires_ack,
        "sender": announcement.sender.display_name,
        "unit_id": announcement.unit_id,
        "unit_name": announcement.unit.name,
        "forwarded_from_id": announcement.forwarded_from_id,
        "recipients": announcement.recipients,
        "created_at": announcement.created_at,
        "read_at": receipt.read_at if receipt else None,
        "acked_at": receipt.acked_at if receipt else None,
    }


@bp.route("/announcements", methods=["POST"], tags=["announcements"])
@login_required
@bp.arguments(AnnouncementCreate)
@bp.response(201, AnnouncementCreated)
@refuses(400, 401, 403, 404)
def create(body: dict[str, Any]) -> dict[str, int]:
    """Send an announcement to units within your responsibility (admins; teachers to the
    students and guardians of their classes). 403: a unit outside it; 404: no such unit."""
    announcement = service.send(
        actor=current_user,
        title=body["title"],
        body=body.get("body") or "",
        audience=_audience(body["audience"]),
        requires_ack=body.get("requires_ack", False),
    )
    return {"id": announcement.id, "recipients": announcement.recipients}


@bp.route("/announcements", tags=["announcements"])
@login_required
@bp.response(
    200, AnnouncementLists, description="those addressed to me and those I sent, newest first"
)
@refuses(401)
def lists() -> dict[str, Any]:
    received = db.session.execute(queries.received(current_user).limit(LIST_LIMIT)).all()
    sent = db.session.scalars(queries.sent(current_user).limit(LIST_LIMIT)).all()
    return {
        "received": [_out(announcement, receipt) for announcement, receipt in received],
        "sent": [_out(announcement) for announcement in sent],
    }


@bp.route("/announcements/<int:announcement_id>/read", methods=["POST"], tags=["announcements"])
@login_required
@bp.response(200, AnnouncementReceiptOut)
@refuses(401, 404)
def read(announcement_id: int) -> Any:
    return service.mark_read(current_user, _announcement(announcement_id))


@bp.route("/announcements/<int:announcement_id>/ack", methods=["POST"], tags=["announcements"])
@login_required
@bp.response(200, AnnouncementReceiptOut)
@refuses(401, 404, 409)
def ack(announcement_id: int) -> Any:
    """The recipient's 回执. 409: this announcement does not ask for one."""
    return service.acknowledge(current_user, _announcement(announcement_id))


@bp.route("/announcements/<int:announcement_id>/forward", methods=["POST"], tags=["announcements"])
@login_required
@bp.arguments(AnnouncementForward)
@bp.response(201, AnnouncementCreated)
@refuses(400, 401, 403, 404)
def forward(body: dict[str, Any], announcement_id: int) -> dict[str, int]:
    """Send an announcement you received further down, with a note of your own."""
    forwarded = service.forward(
        actor=current_user,
        announcement=_announcement(announcement_id),
        audience=_audience(body["audience"]),
        note=body.get("note") or "",
    )
    return {"id": forwarded.id, "recipients": forwarded.recipients}


@bp.route("/announcements/<int:announcement_id>/receipts", tags=["announcements"])
@login_required
@bp.response(200, AnnouncementReceipts)
@refuses(400, 401, 404)
def receipts(announcement_id: int) -> dict[str, Any]:
    """Delivered, read and acknowledged under a unit (``?unit=<id>``, the sending unit by
    default), and per child unit: to the sender, the admins over the sending unit, and an admin
    for the units they administer."""
    # an admin below the sending unit may see their units' receipts without being a recipient
    announcement = db.session.get(Announcement, announcement_id)
    unit_id = row_id("unit")
    if announcement is None:
        raise NotFound(_("There are no receipts of this announcement for you to see there."))
    unit = db.session.get(Unit, unit_id) if unit_id else announcement.unit
    if unit is None or not service.may_see_receipts(current_user, announcement, unit):
        raise NotFound(_("There are no receipts of this announcement for you to see there."))
    return queries.receipts(announcement, unit)
