"""Announcements: who may send to whom, sending (receipts written in one statement), forwarding
down the tree with a note, reading and acknowledging.

A sender addresses units within their reach: an admin, the units they administer; a teacher,
the classes they teach (their students and those students' guardians only). Every recipient has
one receipt, written with one ``INSERT … SELECT`` (a prefecture's guardians never travel
through Python), and an inbox notice linking to the announcement. Nothing is deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import Select, func, insert, literal, or_, select, text, union_all, update

from elearn.extensions import db
from elearn.models import RoleAssignment, Unit, User
from elearn.models._types import utcnow
from elearn.models.accounts import ADMIN_ROLES, Role
from elearn.models.org import SCHOOL_LEVEL
from elearn.permissions import admin_paths
from elearn.service import coverage_hooks, notifications
from elearn.service.errors import Forbidden, NotFound, ServiceError
from parents.announcements.models import (
    Announcement,
    AnnouncementAudience,
    AnnouncementReceipt,
)

MAX_TITLE = 200
MAX_BODY = 5000
MAX_NOTE = 1000
MAX_AUDIENCE = 200
#: a send to this many recipients or more refreshes the receipts' planner statistics at once
ANALYZE_AFTER = 50_000
#: reminders to those who have not read an announcement: at most one in this many hours
REMIND_HOURS = 6

#: the roles an audience entry may name, and the role assignments each stands for
ROLE_GROUPS: dict[str, frozenset[str]] = {
    "admin": frozenset(ADMIN_ROLES),
    "teacher": frozenset({Role.TEACHER}),
    "student": frozenset({Role.STUDENT}),
    "guardian": frozenset({Role.GUARDIAN}),
}
EVERYONE = frozenset().union(*ROLE_GROUPS.values())
#: what a teacher may address in the classes they teach
TEACHER_AUDIENCE = frozenset({"student", "guardian"})


@dataclass(frozen=True)
class Audience:
    unit: Unit
    role: str | None = None


def page_path(announcement_id: int) -> str:
    return notifications.path_for("announcements.detail", announcement_id=announcement_id)


# --- who may send ----------------------------------------------------------------------------------


def _teacher_paths(actor: User) -> list[str]:
    return sorted({a.unit.path for a in actor.roles if a.role == Role.TEACHER})


def sending_unit(actor: User, audience: list[Audience]) -> Unit:
    """The actor's unit that holds the whole audience (the level it is sent from), or refuse."""
    if not audience:
        raise ServiceError(_("Choose who the announcement is for."))
    if len(audience) > MAX_AUDIENCE:
        raise ServiceError(
            _("An announcement takes at most %(n)d audience entries.", n=MAX_AUDIENCE)
        )
    for entry in audience:
        if entry.role is not None and entry.role not in ROLE_GROUPS:
            raise ServiceError(_("Choose one of the roles in the list."))
    holders = [a.unit for a in actor.roles if a.role in ADMIN_ROLES]
    teaching = [a.unit for a in actor.roles if a.role == Role.TEACHER]
    if all(entry.role in TEACHER_AUDIENCE for entry in audience):
        holders += teaching
    for unit in sorted(holders, key=lambda u: -len(u.path)):  # the nearest level first
        if all(entry.unit.path.startswith(unit.path) for entry in audience):
            return unit
    raise Forbidden(_("You can only send announcements to units within your responsibility."))


# --- sending ---------------------------------------------------------------------------------------


def _recipients(audience: list[Audience], sender: User) -> Select:
    """SQL: (user id, the path of the unit they are reached through), each recipient once."""
    parts = [
        select(RoleAssignment.user_id.label("user_id"), Unit.path.label("path"))
        .join(Unit, Unit.id == RoleAssignment.unit_id)
        .where(
            Unit.path.startswith(entry.unit.path, autoescape=False),
            RoleAssignment.role.in_(sorted(ROLE_GROUPS[entry.role] if entry.role else EVERYONE)),
        )
        for entry in audience
    ]
    found = union_all(*parts).subquery()
    return (
        select(found.c.user_id, func.min(found.c.path))
        .join(User, User.id == found.c.user_id)
        .where(User.is_active_account.is_(True), found.c.user_id != sender.id)
        .group_by(found.c.user_id)
    )


def _text(value: str | None, limit: int, *, required: bool = False) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ServiceError(_("The announcement needs a title."))
    if len(value) > limit:
        raise ServiceError(_("Keep it under %(n)d characters.", n=limit))
    return value


def send(
    *,
    actor: User,
    title: str,
    body: str,
    audience: list[Audience],
    requires_ack: bool = False,
    forwarded_from: Announcement | None = None,
    note: str = "",
) -> Announcement:
    """Send to everyone the audience names (each once); their receipts and inbox notices."""
    unit = sending_unit(actor, audience)
    announcement = Announcement(
        sender_id=actor.id,
        unit_id=unit.id,
        title=_text(title, MAX_TITLE, required=True),
        body=_text(body, MAX_BODY),
        requires_ack=bool(requires_ack),
        forwarded_from_id=forwarded_from.id if forwarded_from else None,
        note=_text(note, MAX_NOTE),
    )
    announcement.audience = [
        AnnouncementAudience(unit_id=entry.unit.id, role=entry.role) for entry in audience
    ]
    db.session.add(announcement)
    db.session.flush()
    now = utcnow()
    recipients = _recipients(audience, actor).subquery()
    columns = list(recipients.c)
    result = db.session.execute(
        insert(AnnouncementReceipt)
        .from_select(
            ["announcement_id", "user_id", "unit_path", "delivered_at"],
            select(literal(announcement.id), columns[0], columns[1], literal(now)),
        )
        .execution_options(preserve_rowcount=True)
    )
    announcement.recipients = int(result.rowcount or 0)  # type: ignore[attr-defined]  # an INSERT returns a CursorResult; Session.execute is typed as Result
    if announcement.recipients >= ANALYZE_AFTER and db.engine.dialect.name == "postgresql":
        # The planner must know the table grew before the receipts are asked for (a county's
        # dashboard right after a prefecture-wide send), not when autovacuum next passes.
        db.session.execute(text("ANALYZE announcement_receipts"))
    notifications.notify(
        select(AnnouncementReceipt.user_id).where(
            AnnouncementReceipt.announcement_id == announcement.id
        ),
        kind="announcement.new",
        title=announcement.title,
        body=announcement.note or announcement.body[:200],
        link=page_path(announcement.id),
    )
    db.session.flush()
    return announcement


def forward(
    *, actor: User, announcement: Announcement, audience: list[Audience], note: str = ""
) -> Announcement:
    """Send what the actor received further down, with their note; the same title and text."""
    receipt_of(actor, announcement)
    return send(
        actor=actor,
        title=announcement.title,
        body=announcement.body,
        audience=audience,
        requires_ack=announcement.requires_ack,
        forwarded_from=announcement,
        note=note,
    )


# --- receiving -------------------------------------------------------------------------------------


def receipt_of(actor: User, announcement: Announcement) -> AnnouncementReceipt:
    receipt = db.session.get(AnnouncementReceipt, (announcement.id, actor.id))
    if receipt is None:
        raise NotFound(_("This announcement does not exist, or is not for you."))
    return receipt


def may_view(actor: User, announcement: Announcement) -> bool:
    """Its sender, the admins over its sending unit, and its recipients."""
    if announcement.sender_id == actor.id or _over(actor, announcement.unit):
        return True
    return db.session.get(AnnouncementReceipt, (announcement.id, actor.id)) is not None


def _over(actor: User, unit: Unit) -> bool:
    return any(unit.path.startswith(path) for path in admin_paths(actor))


def mark_read(actor: User, announcement: Announcement) -> AnnouncementReceipt:
    receipt = receipt_of(actor, announcement)
    if receipt.read_at is None:
        receipt.read_at = utcnow()
        coverage_hooks.guardian_reached(actor)  # evidence of reach: read, not merely sent
        notifications.mark_read_linked(actor, page_path(announcement.id))  # its inbox notices
    db.session.flush()
    return receipt


def acknowledge(actor: User, announcement: Announcement) -> AnnouncementReceipt:
    """The recipient's 回执 (read, and acknowledged); once."""
    if not announcement.requires_ack:
        raise ServiceError(_("This announcement does not ask for an acknowledgement."), status=409)
    receipt = mark_read(actor, announcement)
    if receipt.acked_at is None:
        db.session.execute(
            update(AnnouncementReceipt)
            .where(
                AnnouncementReceipt.announcement_id == announcement.id,
                AnnouncementReceipt.user_id == actor.id,
                AnnouncementReceipt.acked_at.is_(None),
            )
            .values(acked_at=utcnow())
        )
        db.session.refresh(receipt)
    return receipt


def may_see_receipts(actor: User, announcement: Announcement, unit: Unit) -> bool:
    """Receipts for ``unit`` (under the sending unit): to the sender and the admins over the
    sending unit, and to an admin for the units they administer."""
    if not unit.path.startswith(announcement.unit.path):
        return False
    return (
        announcement.sender_id == actor.id or _over(actor, announcement.unit) or _over(actor, unit)
    )


# --- reminding -------------------------------------------------------------------------------------


def may_remind(actor: User, announcement: Announcement) -> bool:
    return announcement.sender_id == actor.id or _over(actor, announcement.unit)


def remind(actor: User, announcement: Announcement) -> int:
    """An inbox notice (and the channels each chose) to every recipient who has not read it;
    how many. At most one reminder every REMIND_HOURS, claimed in this unit of work."""
    if not may_remind(actor, announcement):
        raise NotFound(_("This announcement does not exist, or is not for you."))
    now = utcnow()
    claimed = db.session.execute(
        update(Announcement)
        .where(
            Announcement.id == announcement.id,
            (Announcement.reminded_at.is_(None))
            | (Announcement.reminded_at < now - timedelta(hours=REMIND_HOURS)),
        )
        .values(reminded_at=now)
        .execution_options(synchronize_session=False)
    )
    if not claimed.rowcount:  # type: ignore[attr-defined]  # an UPDATE returns a CursorResult; Session.execute is typed as Result
        raise ServiceError(
            _("A reminder went out less than %(n)d hours ago.", n=REMIND_HOURS), status=409
        )
    db.session.refresh(announcement)
    return notifications.notify(
        select(AnnouncementReceipt.user_id).where(
            AnnouncementReceipt.announcement_id == announcement.id,
            AnnouncementReceipt.read_at.is_(None),
        ),
        kind="announcement.reminder",
        title=_("Reminder: %(title)s", title=announcement.title),
        body=announcement.note or announcement.body[:200],
        link=page_path(announcement.id),
    )


# --- the composer's choices ------------------------------------------------------------------------


def addressable_units(actor: User) -> list[Unit]:
    """The units the actor may address, from the top down: an admin's units down to the schools
    under them; a teacher's classes."""
    paths = admin_paths(actor)
    units: list[Unit] = []
    if paths:
        units += db.session.scalars(
            select(Unit)
            .where(or_(*[Unit.path.startswith(path, autoescape=False) for path in paths]))
            .where(
                func.length(Unit.path) - func.length(func.replace(Unit.path, "/", ""))
                <= SCHOOL_LEVEL + 1
            )
            .order_by(Unit.path)
        ).all()
    known = {unit.id for unit in units}
    units += [a.unit for a in actor.roles if a.role == Role.TEACHER and a.unit.id not in known]
    return units
