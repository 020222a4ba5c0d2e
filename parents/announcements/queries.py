"""Read-only queries of announcements: a person's lists, and the receipts per child unit."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select

from elearn.extensions import db
from elearn.models import Unit, User
from elearn.models.org import path_ids
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


def receipts(announcement: Announcement, unit: Unit) -> dict[str, Any]:
    """Recipients, delivered, read and acknowledged under ``unit``, and per child unit.

    One range scan of the announcement's receipts under ``unit``'s path (the index on
    (announcement_id, unit_path)), counted per recipient unit path (a class, a school…), then
    summed per child unit here: a county's hundreds of thousands of receipts are read once,
    never matched against each child's prefix in turn.
    """
    per_path = db.session.execute(
        select(
            AnnouncementReceipt.unit_path,
            func.count(),
            func.count(AnnouncementReceipt.read_at),
            func.count(AnnouncementReceipt.acked_at),
        )
        .where(
            AnnouncementReceipt.announcement_id == announcement.id,
            AnnouncementReceipt.unit_path.startswith(unit.path, autoescape=False),
        )
        .group_by(AnnouncementReceipt.unit_path)
    ).all()
    total = read = acked = 0
    counted: dict[int, list[int]] = {}
    for path, n, r, a in per_path:
        total, read, acked = total + n, read + r, acked + a
        below = path_ids(path[len(unit.path) :])
        if below:  # the path goes through this child of ``unit``
            sums = counted.setdefault(below[0], [0, 0, 0])
            sums[0], sums[1], sums[2] = sums[0] + n, sums[1] + r, sums[2] + a
    names = db.session.execute(
        select(Unit.id, Unit.name)
        .where(Unit.parent_id == unit.id, Unit.id.in_(sorted(counted)))
        .order_by(Unit.name)
    ).all()
    rows = [(uid, name, *counted[uid]) for uid, name in names]
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
