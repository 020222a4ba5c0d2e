"""Quiet hours (免打扰): a staff member's evenings are their own. A message whose every recipient
is a staff member in their quiet hours waits (``MessageStatus.WAITING``) until the last of them
ends, its sender gets each one's automatic reply (once a night), and the beat task
``parents.deliver_waiting_messages`` delivers it. The school office's urgent line
(``ConversationKind.OFFICE``) never waits.

Quiet hours are wall-clock times of the installation's zone; a start after the end spans
midnight, and a start equal to the end means none. A staff member without their own has the
installation's default (``ELEARN_MESSAGES_QUIET_HOURS``: ``21:00-07:00`` unless set, ``off`` for
none).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from flask import current_app
from flask_babel import format_time
from flask_babel import gettext as _
from sqlalchemy import select

from elearn.extensions import db
from elearn.localtime import to_local, zone
from elearn.models import RoleAssignment, User
from elearn.service.errors import ServiceError
from parents.interaction import rules
from parents.interaction.models import (
    DEFAULT_QUIET_END,
    DEFAULT_QUIET_START,
    Conversation,
    ConversationKind,
    ConversationMember,
    QuietHours,
)


@dataclass(frozen=True)
class Hours:
    """A staff member's quiet hours as they apply (their row, or the default)."""

    is_enabled: bool
    starts: time
    ends: time
    auto_reply: str | None

    def period(self, moment: datetime) -> tuple[datetime, datetime] | None:
        """The quiet period ``moment`` (aware) falls in, as aware UTC (start, end); None when
        the moment is outside quiet hours."""
        if not self.is_enabled or self.starts == self.ends:
            return None
        local = to_local(moment)
        assert local is not None
        today = local.date()
        tz = zone()
        for day in (today - timedelta(days=1), today):
            start = datetime.combine(day, self.starts, tzinfo=tz)
            end_day = day if self.starts < self.ends else day + timedelta(days=1)
            end = datetime.combine(end_day, self.ends, tzinfo=tz)
            if start <= local < end:
                return start.astimezone(UTC), end.astimezone(UTC)
        return None


DEFAULT = Hours(True, DEFAULT_QUIET_START, DEFAULT_QUIET_END, None)
OFF = Hours(False, DEFAULT_QUIET_START, DEFAULT_QUIET_END, None)


def parse_default(raw: str) -> tuple[time, time] | None:
    """``ELEARN_MESSAGES_QUIET_HOURS``: ``HH:MM-HH:MM`` (local), or ``off``."""
    text = raw.strip().lower()
    if text in ("off", "none", "0"):
        return None
    try:
        starts, ends = (time.fromisoformat(part.strip()) for part in text.split("-"))
    except ValueError:
        raise ValueError(
            "HH:MM-HH:MM on the installation's clock (e.g. 21:00-07:00), or off"
        ) from None
    if starts == ends:
        raise ValueError("a start different from the end (e.g. 21:00-07:00), or off")
    return starts, ends


def installation_default() -> Hours:
    """The quiet hours of staff who have not set their own."""
    configured = current_app.config.get("MESSAGES_QUIET_HOURS", (DEFAULT.starts, DEFAULT.ends))
    if configured is None:
        return OFF
    return Hours(True, configured[0], configured[1], None)


def is_staff(user: User) -> bool:
    return any(a.role in rules.STAFF_ROLES for a in user.roles)


def hours_of(user: User) -> Hours | None:
    """The user's quiet hours; None for someone who is not staff (families have none)."""
    if not is_staff(user):
        return None
    row = db.session.get(QuietHours, user.id)
    if row is None:
        return installation_default()
    return Hours(row.is_enabled, row.starts, row.ends, row.auto_reply)


@dataclass(frozen=True)
class Sleeper:
    """A recipient in their quiet hours, and the period they are in (aware UTC)."""

    person: User
    hours: Hours
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Wait:
    """A message's wait: until the last recipient's quiet hours end."""

    until: datetime
    sleepers: list[Sleeper]


def wait_for(sender: User, conversation: Conversation, moment: datetime) -> Wait | None:
    """How long a message posted now waits: until the last recipient's quiet hours end, when
    every recipient (but those who blocked it) is staff in their quiet hours; else None."""
    if conversation.kind == ConversationKind.OFFICE:
        return None
    hearing = select(ConversationMember.user_id).where(
        ConversationMember.conversation_id == conversation.id,
        ConversationMember.user_id != sender.id,
        ConversationMember.is_blocked.is_(False),
    )
    family = hearing.where(
        ~select(RoleAssignment.id)
        .where(
            RoleAssignment.user_id == ConversationMember.user_id,
            RoleAssignment.role.in_(sorted(rules.STAFF_ROLES)),
        )
        .exists()
    )
    if db.session.scalar(select(family.exists())):  # families have no quiet hours: now
        return None
    recipients = db.session.scalars(
        select(User)
        .join(ConversationMember, ConversationMember.user_id == User.id)
        .where(
            ConversationMember.conversation_id == conversation.id,
            ConversationMember.user_id != sender.id,
            ConversationMember.is_blocked.is_(False),
        )
        .order_by(ConversationMember.id)
    ).all()
    sleepers = []
    for person in recipients:
        hours = hours_of(person)
        period = hours.period(moment) if hours is not None else None
        if hours is None or period is None:
            return None
        sleepers.append(Sleeper(person, hours, *period))
    if not sleepers:
        return None
    return Wait(until=max(s.end for s in sleepers), sleepers=sleepers)


def auto_reply_text(person: User, hours: Hours, until: datetime) -> str:
    """What the sender reads back: the person's own words, or the default."""
    if hours.auto_reply:
        return hours.auto_reply
    local = to_local(until)
    return _(
        "%(name)s is in quiet hours; your message will be delivered at %(time)s. For something "
        "urgent, write to the school office.",
        name=person.display_name,
        time=format_time(local, "HH:mm") if local else "",
    )


def set_hours(
    *, actor: User, is_enabled: bool, starts: time, ends: time, auto_reply: str | None
) -> QuietHours:
    """A staff member sets their own quiet hours (flushes, never commits)."""
    if not is_staff(actor):
        raise ServiceError(_("Quiet hours are for school staff."), status=403)
    if is_enabled and starts == ends:
        raise ServiceError(
            _("Quiet hours need an end different from their start."), status=422, field="ends"
        )
    row = db.session.get(QuietHours, actor.id)
    if row is None:
        row = QuietHours(user_id=actor.id)
        db.session.add(row)
    row.is_enabled = is_enabled
    row.starts = starts.replace(second=0, microsecond=0, tzinfo=None)
    row.ends = ends.replace(second=0, microsecond=0, tzinfo=None)
    row.auto_reply = (auto_reply or "").strip() or None
    db.session.flush()
    return row
