"""Invite codes that link a guardian to a student, and what became of each."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from elearn.extensions import Model
from elearn.models import Unit, User
from elearn.models._types import UTCDateTime, utcnow


class InviteStatus(enum.StrEnum):
    #: issued, not redeemed yet (until it expires)
    OPEN = "open"
    #: redeemed; the school has to confirm the link
    PENDING = "pending"
    #: redeemed and linked (at once, or confirmed by the school)
    LINKED = "linked"
    #: redeemed, and the school refused the link
    REJECTED = "rejected"


class GuardianInvite(Model):
    """One invite code for a guardian of ``student``; only the code's SHA-256 is kept."""

    __tablename__ = "guardian_invites"
    __table_args__ = (Index("ix_guardian_invites_unit_status", "unit_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: the student's class when the code was issued (who may confirm, and where the role goes)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: the guardian's phone, if the teacher knows it: a redeemer with this phone is linked at once
    phone: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(16), default=InviteStatus.OPEN)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    redeemed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    guardian_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    relation: Mapped[str | None] = mapped_column(String(16))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    student: Mapped[User] = relationship(foreign_keys=[student_id])
    guardian: Mapped[User | None] = relationship(foreign_keys=[guardian_id])
    unit: Mapped[Unit] = relationship(lazy="joined")
