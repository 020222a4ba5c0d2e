"""Read-only lists of appointments: a person's own (as guardian or as staff), a staff member's
slots with their bookings, and the open slots a guardian may book."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, exists, or_, select

from elearn.extensions import db
from elearn.models import User
from elearn.models._types import utcnow
from parents.appointments.models import Appointment, AppointmentSlot, AppointmentStatus
from parents.interaction import rules

#: the lists show this many rows at most
LIMIT = 200
#: past appointments and slots stay in the lists this long
KEEP_SHOWING = timedelta(days=30)


def mine(user: User, *, now: datetime | None = None) -> list[Appointment]:
    """The user's appointments (as guardian or as staff) from KEEP_SHOWING ago on, soonest
    first."""
    since = (now or utcnow()) - KEEP_SHOWING
    return list(
        db.session.scalars(
            select(Appointment)
            .join(AppointmentSlot, AppointmentSlot.id == Appointment.slot_id)
            .where(
                or_(Appointment.guardian_id == user.id, Appointment.staff_id == user.id),
                AppointmentSlot.ends_at > since,
            )
            .order_by(AppointmentSlot.starts_at, Appointment.id)
            .limit(LIMIT)
        )
    )


def staff_slots(
    staff: User, *, now: datetime | None = None
) -> list[tuple[AppointmentSlot, Appointment | None]]:
    """The staff member's slots (not withdrawn, from KEEP_SHOWING ago on) with the confirmed
    appointment of each, soonest first."""
    since = (now or utcnow()) - KEEP_SHOWING
    rows = db.session.execute(
        select(AppointmentSlot, Appointment)
        .outerjoin(
            Appointment,
            and_(
                Appointment.slot_id == AppointmentSlot.id,
                Appointment.status == AppointmentStatus.CONFIRMED,
            ),
        )
        .where(
            AppointmentSlot.staff_id == staff.id,
            AppointmentSlot.withdrawn_at.is_(None),
            AppointmentSlot.ends_at > since,
        )
        .order_by(AppointmentSlot.starts_at)
        .limit(LIMIT)
    ).all()
    return [(slot, appointment) for slot, appointment in rows]


def open_slots(viewer: User, *, now: datetime | None = None) -> list[AppointmentSlot]:
    """Future slots nobody has booked, of staff the viewer may message, soonest first."""
    taken = exists().where(
        Appointment.slot_id == AppointmentSlot.id,
        Appointment.status == AppointmentStatus.CONFIRMED,
    )
    candidates = db.session.scalars(
        select(AppointmentSlot)
        .where(
            AppointmentSlot.withdrawn_at.is_(None),
            AppointmentSlot.starts_at > (now or utcnow()),
            AppointmentSlot.staff_id != viewer.id,
            ~taken,
        )
        .order_by(AppointmentSlot.starts_at)
        .limit(LIMIT * 5)
    ).all()
    allowed: dict[int, bool] = {}
    found: list[AppointmentSlot] = []
    for slot in candidates:
        if slot.staff_id not in allowed:
            allowed[slot.staff_id] = rules.may_message(viewer, slot.staff)
        if allowed[slot.staff_id]:
            found.append(slot)
    return found[:LIMIT]


def invitable_guardians(staff: User) -> list[User]:
    """The guardians a staff member may invite (those they may message)."""
    from parents.interaction import contacts

    return [c.user for c in contacts.candidates(staff) if c.user.has_role("guardian")]
