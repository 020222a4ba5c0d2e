"""Read-only queries of announcements: a person's lists, and the receipts per child unit."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select

from elearn.extensions import db
from elearn.models import Unit, User
from parents.announcements.models import Announcement, AnnouncementReceipt


def received(user: User) -> Select:
    """(announcement, receipt) addressed to ``user``, newest first."""
    return (
        select(Announcement, AnnouncementReceipt)
        .join(AnnouncementReceipt, AnnouncementReceipt.announcement_id == Announcement.id)
        .where(AnnouncementReceipt.user_id == user.id)
        .order_by(Announcement.id.desc())
    )


def sent(user: User) -> Select:
    return (
        select(Announcement)
        .where(Announcement.sender_id == user.id)
        .order_by(Announcement.id.desc())
    )


def _counts(announcement_id: int) -> Any:
    return (
        func.count(),
        func.count(AnnouncementReceipt.read_at),
        func.count(AnnouncementReceipt.acked_at),
    )


def receipts(announcement: Announcement, unit: Unit) -> dict[str, Any]:
    """Recipients, delivered, read and acknowledged under ``unit``, and per child unit."""
    total, read, acked = db.session.execute(
        select(*_counts(announcement.id)).where(
            AnnouncementReceipt.announcement_id == announcement.id,
            AnnouncementReceipt.unit_path.startswith(unit.path, autoescape=False),
        )
    ).one()
    rows = db.session.execute(
        select(Unit.id, Unit.name, *_counts(announcement.id))
        .join(
            AnnouncementReceipt,
            AnnouncementReceipt.unit_path.startswith(Unit.path),
        )
        .where(Unit.parent_id == unit.id, AnnouncementReceipt.announcement_id == announcement.id)
        .group_by(Unit.id, Unit.name)
        .order_by(Unit.name)
    ).all()
    return {
        "unit_id": unit.id,
        "recipients": total,
        "delivered": total,  # a receipt is written as its inbox notice is: delivered at once
        "read": read,
        "acknowledged": acked,
        "children": [
            {"unit_id": uid, "name": name, "recipients": n, "read": r, "acknowledged": a}
            for uid, name, n, r, a in rows
        ],
    }
