"""Who is who in a lecture (hosts, audience, admins over it) and scheduling."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import literal, or_, select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.sql import Select

from courses.models import Course, CourseStatus, Lesson
from elearn import permissions
from elearn.extensions import db
from elearn.models import Unit, User
from elearn.permissions import admin_paths, scope_paths
from elearn.service.agenda import AgendaItem
from elearn.service.errors import Forbidden, NotFound, ServiceError
from live.models import (
    Lecture,
    LectureAudience,
    LectureCohost,
    LectureStatus,
    Sanction,
    SanctionKind,
)
from live.service.base import (
    AUDIENCE_ROLES,
    HOST_ROLES,
    MAX_TITLE,
    _now,
)

# --- who is who in a lecture --------------------------------------------------------------------


def is_host(user: User, lecture: Lecture) -> bool:
    """The lecturer or a co-host."""
    return user.id == lecture.lecturer_id or any(c.user_id == user.id for c in lecture.cohosts)


def in_audience(user: User, lecture: Lecture) -> bool:
    """True when one of the user's roles lies under an audience unit (with the role, if named)."""
    for assignment in user.roles:
        for row in lecture.audience:
            if assignment.unit.path.startswith(row.unit.path) and (
                row.role is None or row.role == assignment.role
            ):
                return True
    return False


def _admin_reach(user: User, lecture: Lecture) -> str:
    """'all' for an admin over the lecture's owner unit, 'part' over part of its audience."""
    paths = admin_paths(user)
    if not paths:
        return ""
    if any(lecture.owner_unit.path.startswith(path) for path in paths):
        return "all"
    for row in lecture.audience:
        if any(row.unit.path.startswith(path) or path.startswith(row.unit.path) for path in paths):
            return "part"
    return ""


def lecture_rule(actor: User, action: str, lecture: Lecture) -> bool:
    """The permission rule registered for ``Lecture`` (elearn.permissions)."""
    if action == "view":
        return (
            is_host(actor, lecture)
            or in_audience(actor, lecture)
            or bool(_admin_reach(actor, lecture))
        )
    if action == "host":
        return is_host(actor, lecture)
    if action == "view_attendance":
        return is_host(actor, lecture) or bool(_admin_reach(actor, lecture))
    return False


def sanctions_on(user: User, lecture: Lecture) -> set[str]:
    """The sanctions (mute, ban) the user is under in this lecture, in one query."""
    return set(
        db.session.scalars(select(Sanction.kind).filter_by(lecture_id=lecture.id, user_id=user.id))
    )


def is_banned(user: User, lecture: Lecture) -> bool:
    return SanctionKind.BAN in sanctions_on(user, lecture)


def is_muted(user: User, lecture: Lecture) -> bool:
    return SanctionKind.MUTE in sanctions_on(user, lecture)


def _sanction(lecture: Lecture, user_id: int, kind: SanctionKind) -> Sanction | None:
    return db.session.scalar(
        select(Sanction).filter_by(lecture_id=lecture.id, user_id=user_id, kind=kind.value)
    )


# --- scheduling ---------------------------------------------------------------------------------


def _home_unit(user: User) -> Unit | None:
    units = [a.unit for a in user.roles if a.role in HOST_ROLES]
    return min(units, key=lambda unit: len(unit.path)) if units else None


def may_schedule(user: User) -> bool:
    return user.has_role(*HOST_ROLES)


def _parse_audience(actor: User, owner: Unit, raw: Any) -> list[tuple[Unit, str | None]]:
    if not isinstance(raw, list) or not raw:
        raise ServiceError(_("Choose who the lecture is for."))
    paths = scope_paths(actor)
    rows: list[tuple[Unit, str | None]] = []
    for entry in raw:
        if not isinstance(entry, dict) or not ({"unit_id", "role"} & set(entry)):
            raise ServiceError(_("Each audience entry needs a unit_id or a role."))
        role = entry.get("role")
        if role is not None and role not in AUDIENCE_ROLES:
            raise ServiceError(_("The audience role must be students, teachers or guardians."))
        unit: Unit | None = owner
        if entry.get("unit_id") is not None:
            try:
                unit = db.session.get(Unit, int(entry["unit_id"]))
            except (TypeError, ValueError):
                unit = None
            if unit is None or not any(unit.path.startswith(path) for path in paths):
                raise ServiceError(_("An audience unit does not exist or is outside your scope."))
        assert unit is not None
        if (unit.id, role) not in {(u.id, r) for u, r in rows}:
            rows.append((unit, role))
    return rows


def create_lecture(
    *,
    actor: User,
    title: str,
    starts_at: datetime,
    audience: Any,
    is_training: bool = False,
    cohosts: list[User] | None = None,
    lesson_id: Any = None,
) -> Lecture:
    """Schedule a lecture by ``actor`` for an audience of units and/or roles within their scope;
    ``lesson_id`` links it to a course lesson the actor can see (attending completes it)."""
    owner = _home_unit(actor)
    if owner is None:
        raise Forbidden(_("Only experts, teachers and admins can schedule lectures."))
    title = (title or "").strip() if isinstance(title, str) else ""
    if not title:
        raise ServiceError(_("Give the lecture a title."))
    if len(title) > MAX_TITLE:
        raise ServiceError(_("The title is too long (at most %(n)d characters).", n=MAX_TITLE))
    if not isinstance(starts_at, datetime) or starts_at.tzinfo is None:
        raise ServiceError(
            _("Give the start time with its time zone, e.g. 2025-03-01T09:00+08:00.")
        )
    rows = _parse_audience(actor, owner, audience)
    lesson = _linked_lesson(actor, lesson_id)
    lecture = Lecture(
        title=title,
        lecturer_id=actor.id,
        owner_unit_id=owner.id,
        starts_at=starts_at,
        status=LectureStatus.SCHEDULED,
        is_training=bool(is_training),
        chat_enabled=True,
        slow_mode_seconds=0,
        word_filter=[],
        created_by_id=actor.id,
        lesson_id=lesson.id if lesson else None,
    )
    db.session.add(lecture)
    for unit, role in rows:
        lecture.audience.append(LectureAudience(unit_id=unit.id, unit=unit, role=role))
    for cohost in cohosts or []:
        if cohost.id != actor.id:
            lecture.cohosts.append(LectureCohost(user_id=cohost.id, user=cohost))
    db.session.flush()
    return lecture


#: at most this many lessons are offered in the scheduling form's picker
LESSON_CHOICES = 300


def linkable_lessons(actor: User) -> list[Lesson]:
    """Published lessons a lecture of ``actor``'s may stand for (those they can see), by course."""
    candidates = db.session.scalars(
        select(Lesson)
        .join(Course, Course.id == Lesson.course_id)
        .where(
            Course.status != CourseStatus.ARCHIVED,
            Lesson.removed_at.is_(None),
            Lesson.published_revision_id.is_not(None),
        )
        .options(joinedload(Lesson.course), joinedload(Lesson.published_revision))
        .order_by(Course.title, Course.id, Lesson.position, Lesson.id)
        .limit(LESSON_CHOICES * 3)
    )
    return [lesson for lesson in candidates if permissions.can(actor, "view", lesson)][
        :LESSON_CHOICES
    ]


def _linked_lesson(actor: User, lesson_id: Any) -> Lesson | None:
    if lesson_id is None:
        return None
    try:
        lesson = db.session.get(Lesson, int(lesson_id))
    except (TypeError, ValueError):
        lesson = None
    if lesson is None or not permissions.can(actor, "view", lesson):
        raise NotFound(_("No such lesson in a course you can see."))
    return lesson


def _audience_clause(user: User) -> Any:
    """SQL: an audience row matching one of the user's roles."""
    clauses = []
    for assignment in user.roles:
        under = literal(assignment.unit.path).startswith(Unit.path, autoescape=False)
        clauses.append(
            under & or_(LectureAudience.role.is_(None), LectureAudience.role == assignment.role)
        )
    return or_(*clauses) if clauses else literal(False)


def visible_lectures(user: User) -> Select[Any]:
    """The lectures ``user`` may watch or host (or, as an admin, oversee)."""
    audience_ids = (
        select(LectureAudience.lecture_id)
        .join(Unit, Unit.id == LectureAudience.unit_id)
        .where(_audience_clause(user))
    )
    cohost_ids = select(LectureCohost.lecture_id).where(LectureCohost.user_id == user.id)
    conditions = [
        Lecture.lecturer_id == user.id,
        Lecture.id.in_(audience_ids),
        Lecture.id.in_(cohost_ids),
    ]
    for path in admin_paths(user):
        owned = select(Unit.id).where(Unit.path.startswith(path, autoescape=False))
        conditions.append(Lecture.owner_unit_id.in_(owned))
        reached = (
            select(LectureAudience.lecture_id)
            .join(Unit, Unit.id == LectureAudience.unit_id)
            .where(
                or_(
                    Unit.path.startswith(path, autoescape=False),
                    literal(path).startswith(Unit.path, autoescape=False),
                )
            )
        )
        conditions.append(Lecture.id.in_(reached))
    return (
        select(Lecture)
        .where(or_(*conditions))
        .options(
            joinedload(Lecture.lecturer),
            joinedload(Lecture.owner_unit),
            selectinload(Lecture.audience),
        )
        .order_by(Lecture.starts_at, Lecture.id)
    )


def upcoming_for(user: User, *, now: datetime | None = None, limit: int = 5) -> list[Lecture]:
    """Lectures not yet over that the user may watch, hosts or, as an admin, oversees (for the
    home page): the same lectures as the list page, so an admin's home does not say "none" while
    the list shows the lectures of their prefecture, county or school."""
    now = now or _now()
    query = visible_lectures(user).where(
        Lecture.status != LectureStatus.ENDED, Lecture.starts_at >= now - timedelta(hours=6)
    )
    return list(db.session.scalars(query.limit(limit)))


def agenda_items(person: User, now: datetime) -> list[AgendaItem]:
    """The lectures coming for ``person`` as their audience (not those they host or oversee),
    for the ``elearn.person_agenda`` extension point (a guardian's view of their child)."""
    audience_ids = (
        select(LectureAudience.lecture_id)
        .join(Unit, Unit.id == LectureAudience.unit_id)
        .where(_audience_clause(person))
    )
    query = (
        select(Lecture)
        .where(
            Lecture.id.in_(audience_ids),
            Lecture.status != LectureStatus.ENDED,
            Lecture.starts_at >= now - timedelta(hours=6),
        )
        .order_by(Lecture.starts_at)
        .limit(10)
    )
    return [
        AgendaItem(
            kind=_("Live lecture"),
            title=lecture.title,
            starts_at=lecture.starts_at,
            is_live=lecture.status == LectureStatus.LIVE,
        )
        for lecture in db.session.scalars(query)
    ]


def lecture_json(lecture: Lecture, viewer: User | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": lecture.id,
        "title": lecture.title,
        "lecturer": {"id": lecture.lecturer.id, "name": lecture.lecturer.display_name},
        "starts_at": lecture.starts_at.isoformat(),
        "status": lecture.status,
        "is_training": lecture.is_training,
        "lesson_id": lecture.lesson_id,
        "audience": [
            {"unit_id": row.unit_id, "unit_name": row.unit.name, "role": row.role}
            for row in lecture.audience
        ],
        "cohost_ids": [c.user_id for c in lecture.cohosts],
        "chat_enabled": lecture.chat_enabled,
        "slow_mode_seconds": lecture.slow_mode_seconds,
    }
    if viewer is not None:
        data["is_host"] = is_host(viewer, lecture)
    return data
