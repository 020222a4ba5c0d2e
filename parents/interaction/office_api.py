"""Quiet hours and the school office's urgent line, as JSON under /api/v1 (blueprint
``interaction_office_api``): a staff member keeps their quiet hours; a family writes to the
school office, which never waits for them."""

from __future__ import annotations

from datetime import time
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from marshmallow import fields, validate

from elearn.api import ApiBlueprint, protect_cookie_sessions, refuses
from elearn.api.schemas import Body, Out, RowId, Text, When
from elearn.extensions import db
from elearn.models import Unit
from elearn.service.errors import NotFound, ServiceError
from parents.interaction import quiet, service
from parents.interaction.models import MAX_AUTO_REPLY, MAX_TEXT

bp = ApiBlueprint(
    "interaction_office_api", __name__, url_prefix="/api/v1", description="quiet hours"
)
bp.before_request(protect_cookie_sessions)

TAGS = ["messages"]
CLOCK = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
CLOCK_MESSAGE = _l("Give a time of day as HH:MM, e.g. 21:00.")


class QuietHoursOut(Out):
    enabled = fields.Boolean()
    starts = fields.String(metadata={"description": "local time of day, HH:MM"})
    ends = fields.String(
        metadata={"description": "local time of day, HH:MM (before starts: next day)"}
    )
    auto_reply = fields.String(
        allow_none=True, metadata={"description": "null: the default reply, which says when"}
    )


class QuietHoursUpdate(Body):
    enabled = fields.Boolean(required=True)
    starts = fields.String(required=True, validate=validate.Regexp(CLOCK, error=CLOCK_MESSAGE))
    ends = fields.String(required=True, validate=validate.Regexp(CLOCK, error=CLOCK_MESSAGE))
    auto_reply = Text(MAX_AUTO_REPLY, allow_none=True)


class OfficeSchool(Out):
    id = fields.Integer()
    name = fields.String()


class OfficeSchools(Out):
    items = fields.List(fields.Nested(OfficeSchool))


class OfficeMessageCreate(Body):
    school_id = RowId(metadata={"description": "needed when you reach more than one school"})
    text = Text(MAX_TEXT, min_length=1, required=True)


class OfficeMessagePosted(Out):
    id = fields.Integer()
    conversation_id = fields.Integer()
    status = fields.String()
    created_at = When()


def _clock(value: time) -> str:
    return value.strftime("%H:%M")


def _hours_out() -> dict[str, Any]:
    hours = quiet.hours_of(current_user)
    if hours is None:
        raise ServiceError(_("Quiet hours are for school staff."), status=403)
    return {
        "enabled": hours.is_enabled,
        "starts": _clock(hours.starts),
        "ends": _clock(hours.ends),
        "auto_reply": hours.auto_reply,
    }


@bp.route("/quiet-hours", tags=TAGS)
@login_required
@bp.response(200, QuietHoursOut)
@refuses(401, 403)
def quiet_hours() -> dict[str, Any]:
    """Your quiet hours (school staff): messages to you wait until they end (default
    21:00–07:00 local, on)."""
    return _hours_out()


@bp.route("/quiet-hours", methods=["PUT"], tags=TAGS)
@login_required
@bp.arguments(QuietHoursUpdate)
@bp.response(200, QuietHoursOut)
@refuses(401, 403)
def set_quiet_hours(body: dict[str, Any]) -> dict[str, Any]:
    """Set your quiet hours and your automatic reply (null or empty: the default)."""
    quiet.set_hours(
        actor=current_user,
        is_enabled=body["enabled"],
        starts=time.fromisoformat(body["starts"]),
        ends=time.fromisoformat(body["ends"]),
        auto_reply=body.get("auto_reply"),
    )
    return _hours_out()


@bp.route("/school-office", tags=TAGS)
@login_required
@bp.response(200, OfficeSchools)
@refuses(401)
def office_schools() -> dict[str, Any]:
    """The schools whose office you may write to urgently (your children's, or your own)."""
    return {"items": [{"id": s.id, "name": s.name} for s in service.office_schools(current_user)]}


@bp.route("/school-office/messages", methods=["POST"], tags=TAGS)
@login_required
@bp.arguments(OfficeMessageCreate)
@bp.response(201, OfficeMessagePosted)
@refuses(400, 401, 404, 409)
def post_office_message(body: dict[str, Any]) -> dict[str, Any]:
    """An urgent message to the school office: delivered at once whatever the hour, and a
    safety notice to its admins on every channel they have (push, SMS, e-mail)."""
    school = _office_school(body.get("school_id"))
    conversation = service.office_conversation(actor=current_user, school=school)
    message = service.post_message(actor=current_user, conversation=conversation, text=body["text"])
    return {
        "id": message.id,
        "conversation_id": conversation.id,
        "status": message.status,
        "created_at": message.created_at,
    }


def _office_school(school_id: int | None) -> Unit:
    schools = service.office_schools(current_user)
    if not schools:
        raise NotFound(_("You have no school office to write to."))
    if school_id is None:
        if len(schools) > 1:
            raise ServiceError(
                _("Name the school (school_id): you reach more than one."),
                status=400,
                field="school_id",
            )
        return schools[0]
    found = db.session.get(Unit, school_id)
    if found is None or found.id not in {s.id for s in schools}:
        raise NotFound(_("This school's office is not yours to write to."))
    return found
