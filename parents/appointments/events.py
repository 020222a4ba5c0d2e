"""A video appointment's call signalling over ``/messages``: the WebRTC offer, answer, ICE
candidates and hang-up, relayed from one party of a confirmed video appointment to the other
(to their user room, on whichever process holds their sockets).

Each event is ``{"appointment_id", …}`` and is answered ``{"ok": true}`` once relayed; anyone
who is not a party of a confirmed video appointment that has not ended is refused with
``{"ok": false, "error"}`` and nothing is emitted to anyone (the unit of work rolls back and
drops its queued emits). The media never pass through the server: only these small messages
do. Documented in ``parents/EVENTS.md``.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from elearn import uow
from elearn.extensions import db
from elearn.models import User
from elearn.service.errors import NotFound, ServiceError
from parents.appointments import service
from parents.appointments.models import Appointment
from parents.interaction.delivery import NAMESPACE, user_room
from parents.interaction.events import client_event, row_id

#: the longest session description relayed (a video call's SDP is a few kilobytes)
MAX_SDP = 64 * 1024
#: the longest ICE candidate line
MAX_CANDIDATE = 2048


def _call(actor: User, data: dict[str, Any]) -> Appointment:
    appointment = db.session.get(Appointment, row_id(data, "appointment_id"))
    if appointment is None or not service.may_call(actor, appointment):
        raise NotFound(_("There is no video call of yours here."))
    return appointment


def _relay(event: str, actor: User, appointment: Appointment, body: dict[str, Any]) -> None:
    uow.emit(
        event,
        {"appointment_id": appointment.id, "from": actor.id, **body},
        to=user_room(service.peer_of(actor, appointment)),
        namespace=NAMESPACE,
    )


def _description(data: dict[str, Any], kind: str) -> dict[str, str]:
    found = data.get("description")
    if (
        not isinstance(found, dict)
        or found.get("type") != kind
        or not isinstance(found.get("sdp"), str)
        or not 0 < len(found["sdp"]) <= MAX_SDP
    ):
        raise ServiceError(_("Send a session description of the call."), status=422)
    return {"type": kind, "sdp": found["sdp"]}


def _candidate(data: dict[str, Any]) -> dict[str, Any] | None:
    found = data.get("candidate")
    if found is None:
        return None  # the end of the sender's candidates
    if not isinstance(found, dict) or not isinstance(found.get("candidate"), str):
        raise ServiceError(_("Send an ICE candidate."), status=422)
    mid, index, fragment = (
        found.get("sdpMid"),
        found.get("sdpMLineIndex"),
        found.get("usernameFragment"),
    )
    if (
        len(found["candidate"]) > MAX_CANDIDATE
        or not (mid is None or (isinstance(mid, str) and len(mid) <= 64))
        or not (index is None or (isinstance(index, int) and 0 <= index < 64))
        or not (fragment is None or (isinstance(fragment, str) and len(fragment) <= 256))
    ):
        raise ServiceError(_("Send an ICE candidate."), status=422)
    return {
        "candidate": found["candidate"],
        "sdpMid": mid,
        "sdpMLineIndex": index,
        "usernameFragment": fragment,
    }


@client_event("call.ready")
def on_ready(actor: User, data: dict[str, Any]) -> dict[str, Any]:
    """``{"appointment_id"}``: this party opened the call page (the other may now call)."""
    appointment = _call(actor, data)
    _relay("call.ready", actor, appointment, {})
    return {"caller": actor.id == appointment.staff_id}


@client_event("call.offer")
def on_offer(actor: User, data: dict[str, Any]) -> dict[str, Any]:
    """``{"appointment_id", "description": {"type": "offer", "sdp"}}``."""
    appointment = _call(actor, data)
    _relay("call.offer", actor, appointment, {"description": _description(data, "offer")})
    return {}


@client_event("call.answer")
def on_answer(actor: User, data: dict[str, Any]) -> dict[str, Any]:
    """``{"appointment_id", "description": {"type": "answer", "sdp"}}``."""
    appointment = _call(actor, data)
    _relay("call.answer", actor, appointment, {"description": _description(data, "answer")})
    return {}


@client_event("call.ice")
def on_ice(actor: User, data: dict[str, Any]) -> dict[str, Any]:
    """``{"appointment_id", "candidate": {"candidate", "sdpMid", "sdpMLineIndex"} | null}``."""
    appointment = _call(actor, data)
    _relay("call.ice", actor, appointment, {"candidate": _candidate(data)})
    return {}


@client_event("call.hangup")
def on_hangup(actor: User, data: dict[str, Any]) -> dict[str, Any]:
    """``{"appointment_id"}``: this party left the call."""
    appointment = _call(actor, data)
    _relay("call.hangup", actor, appointment, {})
    return {}
