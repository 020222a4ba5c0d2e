"""The inbox: one notice per person, sent in bulk, read on the home page and through the API.

Features send reminders here (a campaign's "not yet taken" list, a lecture's audience) instead of
keeping their own inboxes. Sending to a whole county is one ``INSERT … SELECT``: the recipients
never travel through Python. A notice meant for students reaches their guardians too
(``guardians_of``, ``with_guardians``): children's exams and lectures are followed from home.

A notice belongs to an event its sender claims once (a lecture's ``reminded_at``, a course's
move from draft to review, a campaign's creation), in the same transaction: a retried or
repeated request finds the event claimed and sends nothing twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from itertools import islice

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Select, delete, func, insert, literal, select, union, update

from elearn.extensions import db
from elearn.models import GuardianLink, Notification, User
from elearn.models._types import utcnow
from elearn.service.errors import ServiceError

TITLE_MAX = 200
BODY_MAX = 2000
_CHUNK = 5000


def _safe_link(link: str | None) -> str | None:
    """Only paths inside the platform: a notice must not send anyone to another site."""
    if link is None:
        return None
    if not link.startswith("/") or link.startswith("//") or "\\" in link or len(link) > 500:
        raise ServiceError(_("A notification link must be a path inside the platform."))
    return link


def path_for(endpoint: str, **values: object) -> str:
    """A notice's link: the path of a page (outside a request too, as a task or the CLI sends)."""
    return current_app.url_map.bind("").build(endpoint, values)


def guardians_of(user_ids: Select) -> Select:
    """SQL: the active guardians linked to any of the given users (their children)."""
    people = user_ids.subquery()
    return (
        select(GuardianLink.guardian_id)
        .join(User, User.id == GuardianLink.guardian_id)
        .where(
            GuardianLink.student_id.in_(select(next(iter(people.c)))),
            User.is_active_account.is_(True),
        )
    )


def with_guardians(user_ids: Select) -> Select:
    """SQL: the given users and the guardians of those who are students, each once."""
    people = union(user_ids, guardians_of(user_ids)).subquery()
    return select(next(iter(people.c)))


def notify(
    user_ids: Iterable[int] | Select,
    *,
    kind: str,
    title: str,
    body: str = "",
    link: str | None = None,
) -> int:
    """Send one notice to each user; returns how many were sent (added to the unit of work).

    ``user_ids`` is an iterable of ids or a ``Select`` of one column of user ids (sent with one
    ``INSERT … SELECT``). Duplicates in the iterable are sent once.
    """
    title = title.strip()[:TITLE_MAX]
    if not title:
        raise ServiceError(_("A notification needs a title."))
    body = body.strip()[:BODY_MAX]
    link = _safe_link(link)
    now = utcnow()
    if isinstance(user_ids, Select):
        recipients = user_ids.subquery()
        column = next(iter(recipients.c))
        source = select(
            column,
            literal(kind),
            literal(title),
            literal(body),
            literal(link),
            literal(now),
        ).distinct()
        # SQLAlchemy keeps an INSERT's row count only when asked to
        result = db.session.execute(
            insert(Notification)
            .from_select(["user_id", "kind", "title", "body", "link", "created_at"], source)
            .execution_options(preserve_rowcount=True)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]  # an INSERT/UPDATE returns a CursorResult; Session.execute is typed as Result
    sent = 0
    iterator = iter(dict.fromkeys(int(user_id) for user_id in user_ids))
    while chunk := list(islice(iterator, _CHUNK)):
        db.session.execute(
            insert(Notification),
            [
                {
                    "user_id": user_id,
                    "kind": kind,
                    "title": title,
                    "body": body,
                    "link": link,
                    "created_at": now,
                }
                for user_id in chunk
            ],
        )
        sent += len(chunk)
    return sent


def unread_count(user: User) -> int:
    return int(
        db.session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        )
        or 0
    )


def inbox(user: User, *, unread_only: bool = False) -> Select:
    """The user's notices, newest first (a query to paginate)."""
    query = select(Notification).where(Notification.user_id == user.id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return query.order_by(Notification.id.desc())


def latest_unread(user: User, limit: int = 5) -> list[Notification]:
    return list(db.session.scalars(inbox(user, unread_only=True).limit(limit)))


def mark_read(user: User, ids: Iterable[int] | None = None) -> int:
    """Mark the user's notices read: those in ``ids``, or all of them. Others' ids are ignored."""
    statement = update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)
    )
    if ids is not None:
        wanted = [int(i) for i in ids]
        if not wanted:
            return 0
        statement = statement.where(Notification.id.in_(wanted))
    result = db.session.execute(statement.values(read_at=utcnow()))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]  # an INSERT/UPDATE returns a CursorResult; Session.execute is typed as Result


def mark_read_linked(user: User, link: str) -> int:
    """Mark read the user's notices that link to ``link``: the page they point to was opened."""
    result = db.session.execute(
        update(Notification)
        .where(
            Notification.user_id == user.id,
            Notification.read_at.is_(None),
            Notification.link == link,
        )
        .values(read_at=utcnow())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]  # an INSERT/UPDATE returns a CursorResult; Session.execute is typed as Result


def purge_read(older_than: timedelta) -> int:
    """Delete notices read more than ``older_than`` ago (the inbox is not an archive)."""
    result = db.session.execute(
        delete(Notification).where(Notification.read_at < utcnow() - older_than)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]  # an INSERT/UPDATE returns a CursorResult; Session.execute is typed as Result
