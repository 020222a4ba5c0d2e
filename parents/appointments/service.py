"""Appointments' rules: who publishes slots, who may book whose slot, the double booking that
exactly one guardian wins, cancelling, reminders, the staff member's private notes, and who may
join a video call.

A slot is published by staff (a teacher, a school's or a county's admin). A guardian sees and
books only the slots of staff they may message (``parents.interaction.rules.may_message``); a
slot they may not see is a 404, as if it did not exist. A staff member may also invite a guardian
they may message to one of their own open slots. Two guardians booking one slot at once: the
partial unique index on confirmed appointments lets one insert through; the other's fails inside
a savepoint and is answered 409 with a message, nothing of it written. Nothing is deleted: a
cancelled appointment keeps its row, with who cancelled it, when and why, and its slot is open
again.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from elearn import localtime
from elearn.extensions import db
from elearn.models import Role, User
from elearn.models._types import aware, utcnow
from elearn.service import notifications
from elearn.service.errors import Forbidden, NotFound, ServiceError
from parents.appointments.models import (
    MAX_CANCEL_REASON,
    MAX_NOTES,
    MAX_PLACE,
    MAX_REASON,
    Appointment,
    AppointmentSlot,
    AppointmentStatus,
    SlotMode,
)
from parents.interaction import rules

#: the longest slot (a talk, not a day)
MAX_DURATION = timedelta(hours=4)
#: the shortest one
MIN_DURATION = timedelta(minutes=5)
#: how far ahead a slot may be published
MAX_AHEAD = timedelta(days=180)
#: the reminder goes out this long before the start
REMIND_BEFORE = timedelta(hours=1)


def page_path(appointment_id: int) -> str:
    return notifications.path_for("appointments.detail", appointment_id=appointment_id)


def is_staff(user: User) -> bool:
    return user.has_role(*rules.STAFF_ROLES)


def _text(value: str | None, limit: int, *, message: str | None = None) -> str:
    value = (value or "").strip()
    if "\x00" in value:
        raise ServiceError(_("Text may not contain the NUL character."))
    if message and not value:
        raise ServiceError(message)
    if len(value) > limit:
        raise ServiceError(_("Keep it under %(n)d characters.", n=limit))
    return value


# --- slots -----------------------------------------------------------------------------------------


def publish_slot(
    *,
    actor: User,
    starts_at: datetime,
    ends_at: datetime,
    mode: str = SlotMode.IN_PERSON,
    place: str = "",
    now: datetime | None = None,
) -> AppointmentSlot:
    """A new open slot of the actor's (staff only): in the future, end after start, at most
    MAX_DURATION long; a place for one in person."""
    if not is_staff(actor):
        raise Forbidden(_("Only teachers and school staff publish appointment slots."))
    now = now or utcnow()
    starts_at, ends_at = aware(starts_at), aware(ends_at)
    if starts_at is None or ends_at is None:
        raise ServiceError(_("Give the start and the end of the slot."))
    if mode not in (SlotMode.IN_PERSON, SlotMode.VIDEO):
        raise ServiceError(_("Choose in person or video."))
    if starts_at <= now:
        raise ServiceError(_("The slot must start in the future."))
    if ends_at <= starts_at:
        raise ServiceError(_("The slot must end after it starts."))
    if ends_at - starts_at < MIN_DURATION or ends_at - starts_at > MAX_DURATION:
        raise ServiceError(
            _("A slot lasts from 5 minutes to %(n)d hours.", n=MAX_DURATION.seconds // 3600),
        )
    if starts_at - now > MAX_AHEAD:
        raise ServiceError(_("Publish slots at most half a year ahead."))
    place = _text(
        place,
        MAX_PLACE,
        message=_("Say where you will meet.") if mode == SlotMode.IN_PERSON else None,
    )
    overlapping = db.session.scalar(
        select(AppointmentSlot.id).where(
            AppointmentSlot.staff_id == actor.id,
            AppointmentSlot.withdrawn_at.is_(None),
            AppointmentSlot.starts_at < ends_at,
            AppointmentSlot.ends_at > starts_at,
        )
    )
    if overlapping is not None:
        raise ServiceError(_("You already have a slot at that time."), status=409)
    slot = AppointmentSlot(
        staff_id=actor.id,
        starts_at=starts_at,
        ends_at=ends_at,
        mode=str(mode),
        place="" if mode == SlotMode.VIDEO else place,
        capacity=1,
    )
    db.session.add(slot)
    db.session.flush()
    return slot


def confirmed_of(slot: AppointmentSlot) -> Appointment | None:
    return db.session.scalar(
        select(Appointment).where(
            Appointment.slot_id == slot.id, Appointment.status == AppointmentStatus.CONFIRMED
        )
    )


def may_see_slot(actor: User, slot: AppointmentSlot) -> bool:
    """Its staff member; and anyone who may message them (the table of who talks with whom)."""
    return slot.staff_id == actor.id or rules.may_message(actor, slot.staff)


def visible_slot(actor: User, slot_id: int) -> AppointmentSlot:
    slot = db.session.get(AppointmentSlot, slot_id)
    if slot is None or not may_see_slot(actor, slot):
        raise NotFound(_("This slot does not exist, or is not open to you."))
    return slot


def withdraw_slot(*, actor: User, slot: AppointmentSlot) -> AppointmentSlot:
    """Its staff member takes a slot back; a family booked in it is told (their appointment is
    cancelled, kept)."""
    if slot.staff_id != actor.id:
        raise NotFound(_("This slot does not exist, or is not open to you."))
    if slot.withdrawn_at is None:
        booked = confirmed_of(slot)
        if booked is not None:
            cancel(actor=actor, appointment=booked, reason=_("The slot was withdrawn."))
        slot.withdrawn_at = utcnow()
        db.session.flush()
    return slot


# --- booking ---------------------------------------------------------------------------------------


def _bookable(slot: AppointmentSlot, now: datetime) -> None:
    if slot.withdrawn_at is not None:
        raise ServiceError(_("This slot was withdrawn."), status=409)
    if aware(slot.starts_at) <= now:
        raise ServiceError(_("This slot has already started; choose a later one."), status=409)


def _insert(appointment: Appointment) -> Appointment:
    """Write the booking inside a savepoint: a confirmed appointment of the same slot written
    first (committed by another request, or waited for until it commits) makes this one a 409,
    and nothing of it stays."""
    try:
        with db.session.begin_nested():
            db.session.add(appointment)
            db.session.flush()
    except IntegrityError:
        raise ServiceError(
            _("Someone else has just booked this slot. Choose another one."), status=409
        ) from None
    return appointment


def when(slot: AppointmentSlot) -> str:
    """The slot's time on the installation's clock, as a notice says it."""
    start, end = localtime.to_local(slot.starts_at), localtime.to_local(slot.ends_at)
    assert start is not None and end is not None
    return f"{start:%Y-%m-%d %H:%M}–{end:%H:%M}"


def _tell_both(appointment: Appointment, kind: str, title: str) -> None:
    for user_id, other in (
        (appointment.guardian_id, appointment.staff),
        (appointment.staff_id, appointment.guardian),
    ):
        notifications.notify(
            [user_id],
            kind=kind,
            title=title,
            body=_(
                "With %(name)s, %(when)s.", name=other.display_name, when=when(appointment.slot)
            ),
            link=page_path(appointment.id),
        )


def _confirm(appointment: Appointment) -> None:
    _tell_both(appointment, "appointment.confirmed", _("Appointment confirmed"))


def book(
    *, actor: User, slot: AppointmentSlot, reason: str, now: datetime | None = None
) -> Appointment:
    """A guardian books an open slot of staff they may message, saying why; both are told."""
    if not actor.has_role(Role.GUARDIAN) or not may_see_slot(actor, slot):
        raise NotFound(_("This slot does not exist, or is not open to you."))
    if slot.staff_id == actor.id:
        raise ServiceError(_("You cannot book your own slot."), status=409)
    reason = _text(reason, MAX_REASON, message=_("Say what you would like to talk about."))
    _bookable(slot, now or utcnow())
    if confirmed_of(slot) is not None:
        raise ServiceError(
            _("Someone else has just booked this slot. Choose another one."), status=409
        )
    appointment = _insert(
        Appointment(
            slot=slot,
            slot_id=slot.id,
            guardian_id=actor.id,
            staff_id=slot.staff_id,
            reason=reason,
            status=AppointmentStatus.CONFIRMED,
            invited=False,
        )
    )
    db.session.refresh(appointment)
    _confirm(appointment)
    return appointment


def invite(
    *,
    actor: User,
    slot: AppointmentSlot,
    guardian: User,
    reason: str,
    now: datetime | None = None,
) -> Appointment:
    """A staff member books one of their own open slots for a guardian they may message."""
    if slot.staff_id != actor.id:
        raise NotFound(_("This slot does not exist, or is not open to you."))
    if not guardian.has_role(Role.GUARDIAN) or not rules.may_message(actor, guardian):
        raise NotFound(_("You can only invite guardians you may message."))
    reason = _text(reason, MAX_REASON, message=_("Say what you would like to talk about."))
    _bookable(slot, now or utcnow())
    if confirmed_of(slot) is not None:
        raise ServiceError(
            _("Someone else has just booked this slot. Choose another one."), status=409
        )
    appointment = _insert(
        Appointment(
            slot=slot,
            slot_id=slot.id,
            guardian_id=guardian.id,
            staff_id=actor.id,
            reason=reason,
            status=AppointmentStatus.CONFIRMED,
            invited=True,
        )
    )
    db.session.refresh(appointment)
    _confirm(appointment)
    return appointment


# --- one appointment -------------------------------------------------------------------------------


def visible(actor: User, appointment_id: int) -> Appointment:
    """An appointment its two parties see; to anyone else it does not exist."""
    appointment = db.session.get(Appointment, appointment_id)
    if appointment is None or not appointment.party(actor):
        raise NotFound(_("This appointment does not exist, or is not yours."))
    return appointment


def cancel(*, actor: User, appointment: Appointment, reason: str = "") -> Appointment:
    """Either party cancels before the end; the row stays (who, when, why), the other party is
    told, and the slot is open again."""
    if not appointment.party(actor):
        raise NotFound(_("This appointment does not exist, or is not yours."))
    if not appointment.is_confirmed:
        raise ServiceError(_("This appointment is already cancelled."), status=409)
    if aware(appointment.slot.ends_at) <= utcnow():
        raise ServiceError(_("This appointment is over."), status=409)
    reason = _text(reason, MAX_CANCEL_REASON)
    appointment.status = AppointmentStatus.CANCELLED
    appointment.cancelled_at = utcnow()
    appointment.cancelled_by_id = actor.id
    appointment.cancel_reason = reason
    db.session.flush()
    other = appointment.staff_id if actor.id == appointment.guardian_id else appointment.guardian_id
    notifications.notify(
        [other],
        kind="appointment.cancelled",
        title=_("Appointment cancelled"),
        body=_("%(name)s cancelled the appointment.", name=actor.display_name)
        + (f" {reason}" if reason else ""),
        link=page_path(appointment.id),
    )
    return appointment


def save_notes(*, actor: User, appointment: Appointment, notes: str) -> Appointment:
    """The staff member's private notes of the talk; nobody else writes or reads them."""
    if appointment.staff_id != actor.id:
        raise NotFound(_("This appointment does not exist, or is not yours."))
    appointment.notes = _text(notes, MAX_NOTES)
    appointment.notes_updated_at = utcnow()
    db.session.flush()
    return appointment


def notes_for(actor: User, appointment: Appointment) -> str | None:
    """The notes, to their author only (None to the guardian)."""
    return appointment.notes if appointment.staff_id == actor.id else None


def may_call(actor: User, appointment: Appointment, now: datetime | None = None) -> bool:
    """A call's parties: the two of a confirmed video appointment, until it ends."""
    return (
        appointment.party(actor)
        and appointment.is_confirmed
        and appointment.slot.is_video
        and aware(appointment.slot.ends_at) > (now or utcnow())
    )


def peer_of(actor: User, appointment: Appointment) -> int:
    return appointment.staff_id if actor.id == appointment.guardian_id else appointment.guardian_id


def ice_servers(
    actor: User, *, servers: list[dict[str, Any]], secret: str | None, ttl: int, now: datetime
) -> list[dict[str, Any]]:
    """The STUN/TURN servers a call page uses: as configured, and a TURN server that names no
    username gets short-lived credentials signed with coturn's shared secret (the TURN REST
    API: the username is the expiry time and the user's id, the password its HMAC-SHA1)."""
    found = []
    for server in servers:
        urls = server["urls"] if isinstance(server["urls"], list) else [server["urls"]]
        is_turn = any(str(url).startswith(("turn:", "turns:")) for url in urls)
        if secret and is_turn and "username" not in server:
            username = f"{int(now.timestamp()) + ttl}:{actor.id}"
            digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
            server = {
                **server,
                "username": username,
                "credential": base64.b64encode(digest).decode(),
            }
        found.append(server)
    return found


# --- reminders -------------------------------------------------------------------------------------


def send_due_reminders(*, now: datetime | None = None) -> int:
    """Remind both parties of each confirmed appointment starting within the hour, once (the
    claim is an UPDATE of ``reminded_at`` in this unit of work); how many appointments."""
    now = now or utcnow()
    claimed = db.session.scalars(
        update(Appointment)
        .where(
            Appointment.status == AppointmentStatus.CONFIRMED,
            Appointment.reminded_at.is_(None),
            Appointment.slot_id.in_(
                select(AppointmentSlot.id).where(
                    AppointmentSlot.starts_at <= now + REMIND_BEFORE,
                    AppointmentSlot.starts_at > now,
                )
            ),
        )
        .values(reminded_at=now)
        .returning(Appointment.id)
        .execution_options(synchronize_session=False)
    ).all()
    for appointment_id in claimed:
        appointment = db.session.get(Appointment, appointment_id)
        if appointment is not None:
            _tell_both(appointment, "appointment.reminder", _("Appointment within the hour"))
    return len(claimed)
