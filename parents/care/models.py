"""Care files, their caseworkers, follow-ups, consent, access log, screenings and exports.

The free-text columns whose names end in ``_enc`` hold Fernet tokens (``parents.care.crypto``),
never the text itself.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from elearn.extensions import Model
from elearn.models import Unit, User
from elearn.models._types import UTCDateTime, utcnow


class CareStatus(enum.StrEnum):
    OPEN = "open"
    HANDED_OVER = "handed_over"
    CLOSED = "closed"


class CaseworkerKind(enum.StrEnum):
    TEACHER = "teacher"
    COUNSELLOR = "counsellor"
    SOCIAL_WORKER = "social_worker"


class CareDesignation(Model):
    """The school's designated admin for care files (one per school)."""

    __tablename__ = "care_designations"

    school_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")


class CareFile(Model):
    __tablename__ = "care_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    county_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    #: the subject's birth date when known; unknown counts as under 14 (consent needed)
    birth_date: Mapped[date | None] = mapped_column(Date)
    #: codes from ``service.RISK_FACTORS``
    risk_factors: Mapped[list[str]] = mapped_column(JSON, default=list)
    narrative_enc: Mapped[str | None] = mapped_column(Text)
    notes_enc: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=CareStatus.OPEN, index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    handed_over_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    handed_over_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closing_reason: Mapped[str] = mapped_column(String(200), default="")

    subject: Mapped[User] = relationship(foreign_keys=[subject_id], lazy="joined")
    school: Mapped[Unit] = relationship(foreign_keys=[school_id], lazy="joined")
    county: Mapped[Unit] = relationship(foreign_keys=[county_id])
    caseworkers: Mapped[list[CareCaseworker]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="CareCaseworker.id"
    )
    followups: Mapped[list[CareFollowup]] = relationship(
        cascade="all, delete-orphan", order_by="CareFollowup.held_at"
    )
    consent: Mapped[CareConsent | None] = relationship(
        cascade="all, delete-orphan", lazy="selectin", uselist=False
    )


class CareCaseworker(Model):
    __tablename__ = "care_caseworkers"
    __table_args__ = (UniqueConstraint("file_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("care_files.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    #: ``CaseworkerKind``
    kind: Mapped[str] = mapped_column(String(16))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")


class CareFollowup(Model):
    """One follow-up talk (谈心谈话): when, who, notes and the next step (both encrypted)."""

    __tablename__ = "care_followups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file_id: Mapped[int] = mapped_column(
        ForeignKey("care_files.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    held_at: Mapped[datetime] = mapped_column(UTCDateTime())
    notes_enc: Mapped[str] = mapped_column(Text)
    next_step_enc: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    author: Mapped[User] = relationship(foreign_keys=[author_id], lazy="joined")


class CareConsent(Model):
    """The guardian's consent (PIPL art. 31 for a child under 14): who gave it, how, who
    recorded it and when."""

    __tablename__ = "care_consents"

    file_id: Mapped[int] = mapped_column(
        ForeignKey("care_files.id", ondelete="CASCADE"), primary_key=True
    )
    given_by: Mapped[str] = mapped_column(String(64))
    relation: Mapped[str] = mapped_column(String(16))
    #: ``service.CONSENT_METHODS``: written (signed form), in person, by phone
    method: Mapped[str] = mapped_column(String(16))
    given_on: Mapped[date] = mapped_column(Date)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CareAccessLog(Model):
    """One read or change of a file. Append-only: rows are never updated or deleted (a database
    trigger on PostgreSQL, and the ORM refuses). ``file_id`` is no foreign key: the log outlives
    a purged file."""

    __tablename__ = "care_access_log"
    __table_args__ = (Index("ix_care_access_log_file", "file_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file_id: Mapped[int] = mapped_column(Integer)
    school_id: Mapped[int] = mapped_column(Integer, index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer)
    #: ``service.ACTIONS``
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(String(200), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


@event.listens_for(CareAccessLog, "before_update")
@event.listens_for(CareAccessLog, "before_delete")
def _append_only(mapper: object, connection: object, target: CareAccessLog) -> None:
    raise RuntimeError("the care access log is append-only")


class CareScreening(Model):
    """A school's termly screening (排查摸底): the students found against the criteria."""

    __tablename__ = "care_screenings"
    __table_args__ = (UniqueConstraint("school_id", "term_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    county_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    term_id: Mapped[int] = mapped_column(ForeignKey("terms.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    school: Mapped[Unit] = relationship(foreign_keys=[school_id], lazy="joined")
    entries: Mapped[list[CareScreeningEntry]] = relationship(
        cascade="all, delete-orphan", order_by="CareScreeningEntry.id"
    )


class CareScreeningEntry(Model):
    __tablename__ = "care_screening_entries"
    __table_args__ = (UniqueConstraint("screening_id", "subject_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    screening_id: Mapped[int] = mapped_column(
        ForeignKey("care_screenings.id", ondelete="CASCADE"), index=True
    )
    subject_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    #: codes from ``service.SCREENING_CRITERIA``
    criteria: Mapped[list[str]] = mapped_column(JSON, default=list)
    file_id: Mapped[int | None] = mapped_column(ForeignKey("care_files.id", ondelete="SET NULL"))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    subject: Mapped[User] = relationship(foreign_keys=[subject_id], lazy="joined")


class CareExport(Model):
    """An export of a school's files: requested by one admin, approved by another, then
    downloaded once by the requester."""

    __tablename__ = "care_exports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reason: Mapped[str] = mapped_column(String(200), default="")
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    downloaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    school: Mapped[Unit] = relationship(lazy="joined")
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id], lazy="joined")
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id], lazy="joined")
