"""Notices beyond the inbox: who gets which category on which channel, when, and the record.

Each notice in the inbox (``notifications``) belongs to a category, read from its kind's prefix
(``quiz.campaign_reminder`` → ``quiz``). Per person, category and channel the choice is
``instant``, ``digest`` (one message a day listing the unread ones) or ``off``; with no choice
made, the channel's default holds (e-mail: digest; SMS: off, it costs money). Safety notices
(``safety.*``) go out at once on every channel the person has an address for, and cannot be
switched off.

Sending is at most once per notice and channel: a ``NotificationDelivery`` row is claimed in one
unit of work, the message is sent after its commit, and the outcome is written in another
(``elearn.tasks.deliver_notifications`` and ``send_notification_digests``). A retried or doubled
task finds the rows claimed and sends nothing twice.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, case, exists, func, insert, literal, select, update

from elearn.delivery import DeliveryError, Outgoing
from elearn.extensions import db
from elearn.models import Notification, NotificationDelivery, NotificationPreference, User
from elearn.models._types import utcnow
from elearn.service.errors import ServiceError

CHANNELS: dict[str, Any] = {"email": _l("E-mail"), "sms": _l("SMS")}
MODES: dict[str, Any] = {
    "instant": _l("At once"),
    "digest": _l("Daily digest"),
    "off": _l("Off"),
}
CATEGORIES: dict[str, Any] = {
    "quiz": _l("Quizzes and exams"),
    "live": _l("Live lectures"),
    "course": _l("Courses"),
    "messages": _l("Messages"),
    "announcement": _l("Announcements"),
    "safety": _l("Safety notices"),
    "other": _l("Other notices"),
}
SAFETY = "safety"
DEFAULTS = {"email": "digest", "sms": "off"}
#: how far back an instant send looks (a choice made today does not send last month's notices)
INSTANT_WINDOW = timedelta(hours=1)
#: how far back a digest looks
DIGEST_WINDOW = timedelta(hours=36)
BATCH = 500
EMAIL = re.compile(r"^[^@\s<>\"']{1,64}@[A-Za-z0-9.-]{1,190}\.[A-Za-z]{2,24}$")


def category_of(kind: str) -> str:
    prefix = kind.split(".", 1)[0]
    return prefix if prefix in CATEGORIES else "other"


def _category_sql() -> ColumnElement[str]:
    """SQL: a notice's category, from its kind (as ``category_of``)."""
    named = [name for name in CATEGORIES if name != "other"]
    return case(
        *[(Notification.kind.like(f"{name}.%"), literal(name)) for name in named],
        else_=literal("other"),
    )


def _address(channel: str) -> Any:
    return {"email": User.email, "sms": User.phone}[channel]


# --- choices ---------------------------------------------------------------------------------------


def preferences(user: User) -> dict[tuple[str, str], str]:
    """{(category, channel): mode} for every category and channel, defaults filled in."""
    chosen = {
        (row.category, row.channel): row.mode
        for row in db.session.scalars(
            select(NotificationPreference).where(NotificationPreference.user_id == user.id)
        )
    }
    return {
        (category, channel): "instant"
        if category == SAFETY
        else chosen.get((category, channel), DEFAULTS[channel])
        for category in CATEGORIES
        for channel in CHANNELS
    }


def set_preferences(user: User, choices: Mapping[tuple[str, str], str]) -> None:
    """Record the person's choices; a safety category or an unknown value is refused."""
    for (category, channel), mode in choices.items():
        if category not in CATEGORIES or channel not in CHANNELS or mode not in MODES:
            raise ServiceError(_("That notification setting does not exist."))
        if category == SAFETY and mode != "instant":
            raise ServiceError(_("Safety notices cannot be switched off."))
    current = {
        (row.category, row.channel): row
        for row in db.session.scalars(
            select(NotificationPreference).where(NotificationPreference.user_id == user.id)
        )
    }
    for (category, channel), mode in choices.items():
        if category == SAFETY:
            continue
        row = current.get((category, channel))
        if row is None:
            db.session.add(
                NotificationPreference(
                    user_id=user.id, category=category, channel=channel, mode=mode
                )
            )
        else:
            row.mode = mode
    db.session.flush()


def set_email(user: User, email: str | None) -> None:
    """Set (or, empty, remove) the person's e-mail address for notices."""
    email = (email or "").strip()
    if email and (len(email) > 254 or not EMAIL.match(email)):
        raise ServiceError(_("Enter an e-mail address like name@example.com."))
    user.email = email or None
    db.session.flush()


# --- sending ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claimed:
    """Notices claimed for one person on one channel, to be sent as one message."""

    channel: str
    address: str
    notification_ids: list[int]
    message: Outgoing


def _pending(channel: str, mode: str, since_window: timedelta) -> Any:
    category = _category_sql()
    chosen = NotificationPreference
    effective = case(
        (category == SAFETY, literal("instant")),
        else_=func.coalesce(chosen.mode, literal(DEFAULTS[channel])),
    )
    address = _address(channel)
    query = (
        select(Notification, address)
        .join(User, User.id == Notification.user_id)
        .outerjoin(
            chosen,
            and_(
                chosen.user_id == Notification.user_id,
                chosen.channel == channel,
                chosen.category == category,
            ),
        )
        .where(
            Notification.created_at > utcnow() - since_window,
            address.is_not(None),
            User.is_active_account.is_(True),
            effective == mode,
            ~exists().where(
                NotificationDelivery.notification_id == Notification.id,
                NotificationDelivery.channel == channel,
            ),
        )
        .order_by(Notification.id)
    )
    if mode == "digest":
        query = query.where(Notification.read_at.is_(None))  # a digest lists what is unread
    return query


def _claim(channel: str, mode: str, ids: Iterable[int]) -> None:
    now = utcnow()
    rows = [
        {"notification_id": i, "channel": channel, "status": "sending", "mode": mode,
         "created_at": now}
        for i in ids
    ]  # fmt: skip
    if rows:
        db.session.execute(insert(NotificationDelivery), rows)


def claim_instant(channel: str, limit: int = BATCH) -> list[Claimed]:
    """Claim up to ``limit`` notices due at once on ``channel``; one message each."""
    found = db.session.execute(_pending(channel, "instant", INSTANT_WINDOW).limit(limit)).all()
    _claim(channel, "instant", [notice.id for notice, _address in found])
    return [
        Claimed(channel, address, [notice.id], _instant_message(notice, address))
        for notice, address in found
    ]


def claim_digests(channel: str, limit: int = 50 * BATCH) -> list[Claimed]:
    """Claim the unread notices due in a digest on ``channel``; one message per person."""
    found = db.session.execute(_pending(channel, "digest", DIGEST_WINDOW).limit(limit)).all()
    _claim(channel, "digest", [notice.id for notice, _address in found])
    by_person: dict[str, list[Notification]] = defaultdict(list)
    for notice, address in found:
        by_person[address].append(notice)
    return [
        Claimed(channel, address, [n.id for n in notices], _digest_message(notices, address))
        for address, notices in by_person.items()
    ]


def _instant_message(notice: Notification, address: str) -> Outgoing:
    return Outgoing(to=address, subject=notice.title, text=notice.body)


def _digest_message(notices: list[Notification], address: str) -> Outgoing:
    subject = _("You have %(count)d new notices", count=len(notices))
    lines = [f"· {notice.title}" for notice in notices]
    return Outgoing(to=address, subject=subject, text="\n".join(lines))


def send(claimed: Claimed, channel: Any) -> str | None:
    """Send one claimed message; the provider's reason when it failed (to be recorded)."""
    try:
        channel.send(claimed.message)
    except DeliveryError as error:
        return str(error)[:500]
    return None


def record(claimed: Claimed, error: str | None) -> None:
    """Write the outcome of a claimed message on its deliveries' rows."""
    db.session.execute(
        update(NotificationDelivery)
        .where(
            NotificationDelivery.notification_id.in_(claimed.notification_ids),
            NotificationDelivery.channel == claimed.channel,
        )
        .values(status="failed" if error else "sent", error=error)
    )
