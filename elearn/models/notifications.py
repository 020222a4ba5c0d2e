"""The inbox: notices and reminders the platform sends to one person each; and how each person
wants them beyond the inbox (e-mail, SMS), with a record of each such delivery."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from elearn.extensions import Model
from elearn.models._types import UTCDateTime, utcnow


class Notification(Model):
    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_id_id", "user_id", "id"),
        # the unread badge counts on every page: a partial index keeps that count small
        Index(
            "ix_notifications_unread",
            "user_id",
            postgresql_where=text("read_at IS NULL"),
            sqlite_where=text("read_at IS NULL"),
        ),
        # e-mail and SMS look at the last hour's (or day's) notices every half minute: a BRIN
        # index (a few pages for millions of rows, cheap to keep) on PostgreSQL
        Index("ix_notifications_created_at", "created_at", postgresql_using="brin"),
    )

    #: BIGINT on PostgreSQL (a reminder to every parent is 1.3 million rows); SQLite's rowid
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    #: what sent it, e.g. ``quiz.campaign_reminder``, ``live.lecture_reminder``
    kind: Mapped[str] = mapped_column(String(48))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    #: a path inside the platform (never another site)
    link: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class NotificationPreference(Model):
    """How one person wants one category of notices on one channel: ``instant``, ``digest``
    (once a day) or ``off``. No row: the channel's default (``elearn.service.delivery``)."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    category: Mapped[str] = mapped_column(String(24), primary_key=True)
    channel: Mapped[str] = mapped_column(String(8), primary_key=True)
    mode: Mapped[str] = mapped_column(String(8))


class NotificationDelivery(Model):
    """One notice sent on one channel (at most once: the row is claimed before the send)."""

    __tablename__ = "notification_deliveries"

    notification_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"),
        ForeignKey("notifications.id", ondelete="CASCADE"),
        primary_key=True,
    )
    channel: Mapped[str] = mapped_column(String(8), primary_key=True)
    #: ``sending`` (claimed), ``sent``, or ``failed`` (with the provider's reason)
    status: Mapped[str] = mapped_column(String(8), default="sending")
    #: ``instant`` or ``digest``
    mode: Mapped[str] = mapped_column(String(8))
    error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PushSubscription(Model):
    """A browser's Web Push subscription (one per device the person turned notices on)."""

    __tablename__ = "push_subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: the push service's URL for this browser (unique: a browser re-subscribing replaces it)
    endpoint: Mapped[str] = mapped_column(String(1000), unique=True)
    p256dh: Mapped[str] = mapped_column(String(200))
    auth: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
