"""Announcements, their audiences and one receipt per recipient."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from elearn.extensions import Model
from elearn.models import Unit, User
from elearn.models._types import UTCDateTime, utcnow


class Announcement(Model):
    __tablename__ = "announcements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sender_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    #: the level it is sent from: the sender's unit that holds the whole audience
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    requires_ack: Mapped[bool] = mapped_column(Boolean, default=False)
    #: the announcement this one forwards (with the forwarder's ``note``)
    forwarded_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("announcements.id"), index=True
    )
    note: Mapped[str] = mapped_column(Text, default="")
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    #: the last reminder to those who have not read it (at most one every REMIND_HOURS)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    sender: Mapped[User] = relationship(lazy="joined")
    unit: Mapped[Unit] = relationship(lazy="joined")
    audience: Mapped[list[AnnouncementAudience]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="AnnouncementAudience.id"
    )
    forwarded_from: Mapped[Announcement | None] = relationship(remote_side=[id])


class AnnouncementAudience(Model):
    __tablename__ = "announcement_audiences"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    announcement_id: Mapped[int] = mapped_column(
        ForeignKey("announcements.id", ondelete="CASCADE"), index=True
    )
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    #: ``admin``, ``teacher``, ``student``, ``guardian``; none: everyone under the unit
    role: Mapped[str | None] = mapped_column(String(24))

    unit: Mapped[Unit] = relationship(lazy="joined")


class AnnouncementReceipt(Model):
    """One recipient's receipt: delivered when sent (the inbox notice), then read, acknowledged."""

    __tablename__ = "announcement_receipts"
    __table_args__ = (
        # receipts per child unit: one prefix scan of the announcement's rows
        Index(
            "ix_announcement_receipts_unit_path",
            "announcement_id",
            "unit_path",
            postgresql_ops={"unit_path": "varchar_pattern_ops"},
        ),
        Index("ix_announcement_receipts_user_id", "user_id"),
    )

    announcement_id: Mapped[int] = mapped_column(
        ForeignKey("announcements.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    #: the path of the recipient's unit (a student's or guardian's class, a teacher's unit)
    unit_path: Mapped[str] = mapped_column(String(255))
    delivered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
