"""Appointments' JSON API under /api/v1 (documented in /api/v1/openapi.json): slots, booking (a
taken slot is a 409), inviting, the lists, cancelling and the staff member's private notes."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import fields

from elearn.api import ApiBlueprint, protect_cookie_sessions, refuses
from elearn.api.schemas import Body, Choice, Out, RowId, Text, When
from elearn.extensions import db
from elearn.models import User
from elearn.service.errors import NotFound
from parents.appointments import queries, service
from parents.appointments.models import (
    MAX_CANCEL_REASON,
    MAX_NOTES,
    MAX_PLACE,
    MAX_REASON,
    Appointment,
    AppointmentSlot,
    SlotMode,
)

bp = ApiBlueprint(
    "appointments_api", __name__, url_prefix="/api/v1", description="appointments (约谈)"
)
bp.before_request(protect_cookie_sessions)

TAGS = ["appointments"]


class AppointmentSlotCreate(Body):
    starts_at = When(required=True)
    ends_at = When(required=True)
    mode = Choice(
        [SlotMode.IN_PERSON, SlotMode.VIDEO],
        load_default=SlotMode.IN_PERSON,
        metadata={"description": "in person at ``place``, or a video call in the browser"},
    )
    place = Text(MAX_PLACE, metadata={"description": "where (in person)"})


class AppointmentSlotOut(Out):
    id = fields.Integer()
    staff_id = fields.Integer()
    staff_name = fields.String()
    starts_at = When()
    ends_at = When()
    mode = fields.String()
    place = fields.String()
    capacity = fields.Integer()
    taken = fields.Boolean(metadata={"description": "a family has booked it"})
    mine = fields.Boolean(metadata={"description": "published by the caller"})


class AppointmentSlotLists(Out):
    mine = fields.List(
        fields.Nested(AppointmentSlotOut), metadata={"description": "slots I published"}
    )
    open = fields.List(
        fields.Nested(AppointmentSlotOut),
        metadata={"description": "open slots I may book, soonest first"},
    )


class AppointmentCreated(Out):
    id = fields.Integer()


class AppointmentCreate(Body):
    slot_id = RowId(required=True)
    reason = Text(MAX_REASON, min_length=1, required=True)
    guardian_id = RowId(
        metadata={"description": "staff only: invite this guardian to one of my own slots"}
    )


class AppointmentOut(Out):
    id = fields.Integer()
    slot_id = fields.Integer()
    starts_at = When()
    ends_at = When()
    mode = fields.String()
    place = fields.String()
    staff_id = fields.Integer()
    staff_name = fields.String()
    guardian_id = fields.Integer()
    guardian_name = fields.String()
    reason = fields.String()
    status = fields.String(metadata={"description": "confirmed or cancelled"})
    invited = fields.Boolean()
    cancelled_at = When(allow_none=True)
    cancel_reason = fields.String()
    notes = fields.String(
        allow_none=True, metadata={"description": "the staff member's private notes (to them)"}
    )


class AppointmentList(Out):
    appointments = fields.List(fields.Nested(AppointmentOut))


class AppointmentCancel(Body):
    reason = Text(MAX_CANCEL_REASON)


class AppointmentNotesIn(Body):
    notes = Text(MAX_NOTES, required=True)


class AppointmentNotesOut(Out):
    notes = fields.String()
    updated_at = When(allow_none=True)


def _slot_out(slot: AppointmentSlot, taken: bool) -> dict[str, Any]:
    return {
        "id": slot.id,
        "staff_id": slot.staff_id,
        "staff_name": slot.staff.display_name,
        "starts_at": slot.starts_at,
        "ends_at": slot.ends_at,
        "mode": slot.mode,
        "place": slot.place,
        "capacity": slot.capacity,
        "taken": taken,
        "mine": slot.staff_id == current_user.id,
    }


def _out(appointment: Appointment) -> dict[str, Any]:
    slot = appointment.slot
    return {
        "id": appointment.id,
        "slot_id": slot.id,
        "starts_at": slot.starts_at,
        "ends_at": slot.ends_at,
        "mode": slot.mode,
        "place": slot.place,
        "staff_id": appointment.staff_id,
        "staff_name": appointment.staff.display_name,
        "guardian_id": appointment.guardian_id,
        "guardian_name": appointment.guardian.display_name,
        "reason": appointment.reason,
        "status": appointment.status,
        "invited": appointment.invited,
        "cancelled_at": appointment.cancelled_at,
        "cancel_reason": appointment.cancel_reason,
        "notes": service.notes_for(current_user, appointment),
    }


@bp.route("/appointment-slots", tags=TAGS)
@login_required
@bp.response(200, AppointmentSlotLists)
@refuses(401)
def slots() -> dict[str, Any]:
    """The slots I published (with whether each is taken), and the open slots of staff I may
    message."""
    return {
        "mine": [
            _slot_out(slot, booked is not None)
            for slot, booked in queries.staff_slots(current_user)
        ],
        "open": [_slot_out(slot, False) for slot in queries.open_slots(current_user)],
    }


@bp.route("/appointment-slots", methods=["POST"], tags=TAGS)
@login_required
@bp.arguments(AppointmentSlotCreate)
@bp.response(201, AppointmentCreated)
@refuses(400, 401, 403, 409)
def create_slot(body: dict[str, Any]) -> dict[str, int]:
    """Publish a slot (teachers and school staff). 400: in the past, end before start, too
    long, no place for one in person; 409: overlaps a slot of mine."""
    slot = service.publish_slot(
        actor=current_user,
        starts_at=body["starts_at"],
        ends_at=body["ends_at"],
        mode=body["mode"],
        place=body.get("place") or "",
    )
    return {"id": slot.id}


@bp.route("/appointment-slots/<int:slot_id>/withdraw", methods=["POST"], tags=TAGS)
@login_required
@bp.response(200, AppointmentCreated)
@refuses(401, 404)
def withdraw_slot(slot_id: int) -> dict[str, int]:
    """Take back a slot of mine; a family booked in it is told (their appointment cancelled)."""
    slot = db.session.get(AppointmentSlot, slot_id)
    if slot is None or slot.staff_id != current_user.id:
        raise NotFound(_("This slot does not exist, or is not open to you."))
    service.withdraw_slot(actor=current_user, slot=slot)
    return {"id": slot.id}


@bp.route("/appointments", methods=["POST"], tags=TAGS)
@login_required
@bp.arguments(AppointmentCreate)
@bp.response(201, AppointmentCreated)
@refuses(400, 401, 404, 409)
def book(body: dict[str, Any]) -> dict[str, int]:
    """Book a slot (a guardian, of staff they may message) or, with ``guardian_id``, invite a
    guardian to a slot of mine. 409: someone else booked it first (two at once: one wins), it
    has started, or it was withdrawn; 404: no such slot within my reach."""
    slot = service.visible_slot(current_user, body["slot_id"])
    if body.get("guardian_id"):
        guardian = db.session.get(User, body["guardian_id"])
        if guardian is None:
            raise NotFound(_("You can only invite guardians you may message."))
        appointment = service.invite(
            actor=current_user, slot=slot, guardian=guardian, reason=body["reason"]
        )
    else:
        appointment = service.book(actor=current_user, slot=slot, reason=body["reason"])
    return {"id": appointment.id}


@bp.route("/appointments", tags=TAGS)
@login_required
@bp.response(200, AppointmentList)
@refuses(401)
def mine() -> dict[str, Any]:
    """My appointments, as guardian or as staff, soonest first (the last 30 days' too)."""
    return {"appointments": [_out(a) for a in queries.mine(current_user)]}


@bp.route("/appointments/<int:appointment_id>", tags=TAGS)
@login_required
@bp.response(200, AppointmentOut)
@refuses(401, 404)
def one(appointment_id: int) -> dict[str, Any]:
    return _out(service.visible(current_user, appointment_id))


@bp.route("/appointments/<int:appointment_id>/cancel", methods=["POST"], tags=TAGS)
@login_required
@bp.arguments(AppointmentCancel)
@bp.response(200, AppointmentOut)
@refuses(401, 404, 409)
def cancel(body: dict[str, Any], appointment_id: int) -> dict[str, Any]:
    """Cancel (either party, before it ends): kept, with who, when and why; the other is told."""
    appointment = service.cancel(
        actor=current_user,
        appointment=service.visible(current_user, appointment_id),
        reason=body.get("reason") or "",
    )
    return _out(appointment)


@bp.route("/appointments/<int:appointment_id>/notes", tags=TAGS)
@login_required
@bp.response(200, AppointmentNotesOut)
@refuses(401, 404)
def notes(appointment_id: int) -> dict[str, Any]:
    """The staff member's private notes of the talk (404 to anyone else, the guardian too)."""
    appointment = _staff_own(appointment_id)
    return {"notes": appointment.notes, "updated_at": appointment.notes_updated_at}


@bp.route("/appointments/<int:appointment_id>/notes", methods=["PUT"], tags=TAGS)
@login_required
@bp.arguments(AppointmentNotesIn)
@bp.response(200, AppointmentNotesOut)
@refuses(401, 404)
def save_notes(body: dict[str, Any], appointment_id: int) -> dict[str, Any]:
    appointment = service.save_notes(
        actor=current_user, appointment=_staff_own(appointment_id), notes=body["notes"]
    )
    return {"notes": appointment.notes, "updated_at": appointment.notes_updated_at}


def _staff_own(appointment_id: int) -> Appointment:
    appointment = db.session.get(Appointment, appointment_id)
    if appointment is None or appointment.staff_id != current_user.id:
        raise NotFound(_("This appointment does not exist, or is not yours."))
    return appointment
