"""Slots staff publish and the appointments booked in them (one per slot: capacity 1)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from elearn.extensions import Model
from elearn.models import User
from elearn.models._types import UTCDateTime, utcnow

MAX_PLACE = 200
MAX_REASON = 500
MAX_NOTES = 5000
MAX_CANCEL_REASON = 500


class SlotMode(enum.StrEnum):
    IN_PERSON = "in_person"
    VIDEO = "video"


class AppointmentStatus(enum.StrEnum):
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


class AppointmentSlot(Model):
    """A time a staff member offers for a talk with one family: in person at a place, or by
    video."""

    __tablename__ = "appointment_slots"
    __table_args__ = (Index("ix_appointment_slots_staff_starts", "staff_id", "starts_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    mode: Mapped[str] = mapped_column(String(16), default=SlotMode.IN_PERSON)
    #: where (in person); empty for a video slot
    place: Mapped[str] = mapped_column(String(MAX_PLACE), default="")
    #: one family a slot (the column says so, for a later group talk)
    capacity: Mapped[int] = mapped_column(Integer, default=1)
    #: withdrawn by its staff member (kept, never deleted)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    staff: Mapped[User] = relationship(lazy="joined")

    @property
    def is_video(self) -> bool:
        return self.mode == SlotMode.VIDEO


class Appointment(Model):
    """One family's booking of a slot. At most one confirmed appointment a slot: a partial
    unique index decides a race between two guardians (the second insert fails, and is a 409)."""

    __tablename__ = "appointments"
    __table_args__ = (
        Index(
            "uq_appointments_confirmed_slot",
            "slot_id",
            unique=True,
            postgresql_where=text("status = 'confirmed'"),
            sqlite_where=text("status = 'confirmed'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("appointment_slots.id"), index=True)
    guardian_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    #: the slot's staff member, kept here for the lists
    staff_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    reason: Mapped[str] = mapped_column(String(MAX_REASON), default="")
    status: Mapped[str] = mapped_column(String(16), default=AppointmentStatus.CONFIRMED)
    #: made by the staff member inviting the guardian, not booked by the guardian
    invited: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    cancel_reason: Mapped[str] = mapped_column(String(MAX_CANCEL_REASON), default="")
    #: the reminder an hour before (beat task parents.appointment_reminders), once
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: the staff member's private notes of the talk (nobody else reads them)
    notes: Mapped[str] = mapped_column(Text, default="")
    notes_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    slot: Mapped[AppointmentSlot] = relationship(lazy="joined")
    guardian: Mapped[User] = relationship(foreign_keys=[guardian_id], lazy="joined")
    staff: Mapped[User] = relationship(foreign_keys=[staff_id], lazy="joined")

    @property
    def is_confirmed(self) -> bool:
        return self.status == AppointmentStatus.CONFIRMED

    def party(self, user: User) -> bool:
        return user.id in (self.guardian_id, self.staff_id)
