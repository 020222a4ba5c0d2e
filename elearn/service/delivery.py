"""Notices beyond the inbox: who gets which category on which channel, when, and the record.

Each notice in the inbox (``notifications``) belongs to a category, read from its kind's prefix
(``quiz.campaign_reminder`` → ``quiz``). Per person, category and channel the choice is
``instant``, ``digest`` (one message a day listing the unread ones) or ``off``; with no choice
made, the channel's default holds (Web Push, once a person turns it on in a browser: at once;
e-mail: digest; SMS: off, it costs money). Safety notices
(``safety.*``) go out at once on every channel the person has an address for, and cannot be
switched off.

Sending is at most once per notice and channel: a ``NotificationDelivery`` row is claimed in one
unit of work, the message is sent after its commit, and the outcome is written in another
(``elearn.tasks.deliver_notifications`` and ``send_notification_digests``). A retried or doubled
task finds the rows claimed and sends nothing twice.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    update,
)

from elearn.delivery import DeliveryError, Outgoing, SubscriptionGone
from elearn.extensions import db
from elearn.models import (
    Notification,
    NotificationDelivery,
    NotificationPreference,
    PushSubscription,
    User,
)
from elearn.models._types import utcnow
from elearn.service.errors import ServiceError

CHANNELS: dict[str, Any] = {
    "push": _l("This phone or browser"),
    "email": _l("E-mail"),
    "sms": _l("SMS"),
}
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
#: push is at once: a person turned it on, on a device, to hear of things as they happen
DEFAULTS = {"push": "instant", "email": "digest", "sms": "off"}
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
    """SQL: the person's address on ``channel`` (NULL: none); a push address is found later,
    one per subscribed browser (``_push_addresses``)."""
    if channel == "push":
        subscribed = exists().where(PushSubscription.user_id == User.id)
        return case((subscribed, literal("")), else_=None)
    return {"email": User.email, "sms": User.phone}[channel]


def _push_addresses(user_ids: Iterable[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = defaultdict(list)
    rows = db.session.scalars(
        select(PushSubscription).where(PushSubscription.user_id.in_(set(user_ids)))
    )
    for row in rows:
        keys = {"p256dh": row.p256dh, "auth": row.auth}
        found[row.user_id].append(json.dumps({"endpoint": row.endpoint, "keys": keys}))
    return found


def _addresses(channel: str, found: Sequence[Any]) -> list[list[str]]:
    """Each found row's addresses: its one column, or each subscribed browser for push."""
    if channel != "push":
        return [[address] for _notice, address in found]
    browsers = _push_addresses(notice.user_id for notice, _address in found)
    return [browsers.get(notice.user_id, []) for notice, _address in found]


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
    """Notices claimed for one person on one channel, sent as one message to each address
    (each browser the person subscribed, for push)."""

    channel: str
    notification_ids: list[int]
    messages: list[Outgoing]


@dataclass(frozen=True)
class Outcome:
    """What sending a claimed notice gave: the failure (when no address got it), and the push
    subscriptions the push service no longer knows."""

    error: str | None
    gone: list[str]


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
        Claimed(channel, [notice.id], [_instant_message(notice, to) for to in addresses])
        for (notice, _address), addresses in zip(found, _addresses(channel, found), strict=True)
    ]


def claim_digests(channel: str, limit: int = 50 * BATCH) -> list[Claimed]:
    """Claim the unread notices due in a digest on ``channel``; one message per person."""
    found = db.session.execute(_pending(channel, "digest", DIGEST_WINDOW).limit(limit)).all()
    _claim(channel, "digest", [notice.id for notice, _address in found])
    by_person: dict[int, list[Notification]] = defaultdict(list)
    addresses_of: dict[int, list[str]] = {}
    for (notice, _address), addresses in zip(found, _addresses(channel, found), strict=True):
        by_person[notice.user_id].append(notice)
        addresses_of[notice.user_id] = addresses
    return [
        Claimed(
            channel,
            [n.id for n in notices],
            [_digest_message(notices, to) for to in addresses_of[person]],
        )
        for person, notices in by_person.items()
    ]


def _instant_message(notice: Notification, address: str) -> Outgoing:
    return Outgoing(to=address, subject=notice.title, text=notice.body, link=notice.link)


def _digest_message(notices: list[Notification], address: str) -> Outgoing:
    subject = _("You have %(count)d new notices", count=len(notices))
    lines = [f"· {notice.title}" for notice in notices]
    return Outgoing(to=address, subject=subject, text="\n".join(lines), link="/notifications")


def send(claimed: Claimed, channel: Any) -> Outcome:
    """Send a claimed notice to each of its addresses; it failed if none of them got it."""
    errors: list[str] = []
    gone: list[str] = []
    for message in claimed.messages:
        try:
            channel.send(message)
        except SubscriptionGone as error:
            gone.append(error.endpoint)
            errors.append(str(error))
        except DeliveryError as error:
            errors.append(str(error))
    failed = not claimed.messages or len(errors) == len(claimed.messages)
    reason = "; ".join(errors)[:500] or _("No address to send to.")
    return Outcome(reason if failed else None, gone)


def record(claimed: Claimed, outcome: Outcome) -> None:
    """Write the outcome on the claimed notices' rows; forget the browsers that are gone."""
    db.session.execute(
        update(NotificationDelivery)
        .where(
            NotificationDelivery.notification_id.in_(claimed.notification_ids),
            NotificationDelivery.channel == claimed.channel,
        )
        .values(status="failed" if outcome.error else "sent", error=outcome.error)
    )
    if outcome.gone:
        db.session.execute(
            delete(PushSubscription).where(PushSubscription.endpoint.in_(outcome.gone))
        )


# --- browsers --------------------------------------------------------------------------------------


def subscribe(user: User, subscription: Any) -> PushSubscription:
    """Keep a browser's Web Push subscription (``PushSubscription.toJSON()``) for ``user``."""
    try:
        endpoint = str(subscription["endpoint"])
        keys = subscription["keys"]
        p256dh, auth = str(keys["p256dh"]), str(keys["auth"])
    except (TypeError, KeyError):
        raise ServiceError(_("This browser's subscription is not complete.")) from None
    if (
        not endpoint.startswith("https://")
        or len(endpoint) > 1000
        or not (0 < len(p256dh) <= 200 and 0 < len(auth) <= 100)
    ):
        raise ServiceError(_("This browser's subscription is not complete."))
    row = db.session.scalar(select(PushSubscription).where(PushSubscription.endpoint == endpoint))
    if row is None:
        row = PushSubscription(endpoint=endpoint, user_id=user.id, p256dh=p256dh, auth=auth)
        db.session.add(row)
    else:  # the browser subscribed again (or another person signed in on it): now theirs
        row.user_id, row.p256dh, row.auth = user.id, p256dh, auth
    db.session.flush()
    return row


def unsubscribe(user: User, endpoint: str) -> bool:
    """Forget one of ``user``'s browsers; False when it was not theirs (or not known)."""
    result = db.session.execute(
        delete(PushSubscription).where(
            PushSubscription.user_id == user.id, PushSubscription.endpoint == str(endpoint)
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]  # a DELETE returns a CursorResult; Session.execute is typed as Result
