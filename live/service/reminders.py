"""Reminders: once per lecture, the audience (and the guardians of its students) is notified
shortly before it starts.

The beat task calls ``send_due_reminders`` every minute. A lecture is claimed with one
conditional UPDATE (``reminded_at`` still empty), so overlapping runs and retries send nothing
twice; the recipients are one ``INSERT … SELECT`` into the carrier's inbox.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import format_datetime
from flask_babel import gettext as _
from sqlalchemy import or_, select, update
from sqlalchemy.orm import aliased
from sqlalchemy.sql import Select

from elearn.extensions import db
from elearn.models import RoleAssignment, Unit, User
from elearn.service import notifications
from live.models import Lecture, LectureAudience, LectureStatus
from live.service.base import _now

REMINDER_KIND = "live.reminder"


def reminder_lead() -> timedelta:
    """How long before the start the audience is reminded (``ELEARN_LIVE_REMINDER_MINUTES``)."""
    return timedelta(minutes=float(current_app.config.get("LIVE_REMINDER_MINUTES", 30)))


def audience_user_ids(lecture: Lecture) -> Select[Any]:
    """SQL: the active accounts with a role under one of the lecture's audience rows (and that
    role, when the row names one), the lecturer left out."""
    role_unit = aliased(Unit)
    audience_unit = aliased(Unit)
    return (
        select(RoleAssignment.user_id)
        .join(role_unit, role_unit.id == RoleAssignment.unit_id)
        .join(LectureAudience, LectureAudience.lecture_id == lecture.id)
        .join(audience_unit, audience_unit.id == LectureAudience.unit_id)
        .join(User, User.id == RoleAssignment.user_id)
        .where(
            role_unit.path.startswith(audience_unit.path, autoescape=False),
            or_(LectureAudience.role.is_(None), LectureAudience.role == RoleAssignment.role),
            User.is_active_account.is_(True),
            RoleAssignment.user_id != lecture.lecturer_id,
        )
    )


def _room_path(lecture: Lecture) -> str:
    return current_app.url_map.bind("").build("live.room", {"lecture_id": lecture.id})


def remind(lecture: Lecture, *, now: datetime) -> int:
    """Notify the lecture's audience, and the guardians of the students in it, unless that was
    done already; returns how many were sent."""
    claimed = db.session.execute(
        update(Lecture)
        .where(Lecture.id == lecture.id, Lecture.reminded_at.is_(None))
        .values(reminded_at=now)
        .execution_options(synchronize_session=False, preserve_rowcount=True)
    )
    if not claimed.rowcount:  # type: ignore[attr-defined]  # an UPDATE returns a CursorResult; Session.execute is typed as Result
        return 0
    title = (
        _("Teacher training soon: %(title)s", title=lecture.title)
        if lecture.is_training
        else _("Live lecture soon: %(title)s", title=lecture.title)
    )
    body = _(
        "%(lecturer)s's lecture starts at %(time)s. Open it from your home page.",
        lecturer=lecture.lecturer.display_name,
        time=format_datetime(lecture.starts_at, "short"),
    )
    return notifications.notify(
        notifications.with_guardians(audience_user_ids(lecture)),
        kind=REMINDER_KIND,
        title=title,
        body=body,
        link=_room_path(lecture),
    )


def send_due_reminders(*, now: datetime | None = None) -> int:
    """Remind the audience of every lecture starting within the lead time (or started within
    it, not yet over) and not reminded yet; returns how many notices were sent."""
    now = now or _now()
    lead = reminder_lead()
    due = db.session.scalars(
        select(Lecture)
        .where(
            Lecture.status != LectureStatus.ENDED,
            Lecture.reminded_at.is_(None),
            Lecture.starts_at <= now + lead,
            Lecture.starts_at > now - lead,
        )
        .order_by(Lecture.starts_at)
    ).all()
    return sum(remind(lecture, now=now) for lecture in due)
