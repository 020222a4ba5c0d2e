"""Read-only query builders for the carrier's lists and dashboards."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.sql import Select

from elearn.extensions import db
from elearn.models import AuditEvent, GuardianLink, RoleAssignment, Unit, User
from elearn.models.org import path_ids


def members_of(unit: Unit, *, role: str | None = None, q: str | None = None) -> Select:
    """People holding a role anywhere under ``unit``, optionally filtered by role and a search."""
    holders = (
        select(RoleAssignment.user_id)
        .join(Unit, Unit.id == RoleAssignment.unit_id)
        .where(Unit.path.startswith(unit.path))
    )
    if role:
        holders = holders.where(RoleAssignment.role == role)
    query = (
        select(User)
        .where(User.id.in_(holders.scalar_subquery()))
        .order_by(User.display_name, User.id)
    )
    if q:
        like = f"%{q.strip()}%"
        query = query.where(
            or_(User.display_name.ilike(like), User.username.ilike(like), User.phone.ilike(like))
        )
    return query


def paginate(query: Select, *, page: int, per_page: int):
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def children_of(unit: Unit) -> list[Unit]:
    return list(
        db.session.scalars(
            select(Unit).where(Unit.parent_id == unit.id).order_by(Unit.code, Unit.name)
        )
    )


def child_counts(unit: Unit) -> dict[int, int]:
    """How many children each child of ``unit`` has (for the tree browser)."""
    child = select(Unit.id).where(Unit.parent_id == unit.id).scalar_subquery()
    rows = db.session.execute(
        select(Unit.parent_id, func.count())
        .where(Unit.parent_id.in_(child))
        .group_by(Unit.parent_id)
    )
    return {parent_id: count for parent_id, count in rows if parent_id is not None}


def children_of_guardian(guardian: User) -> list[tuple[User, str]]:
    rows = db.session.execute(
        select(User, GuardianLink.relation)
        .join(GuardianLink, GuardianLink.student_id == User.id)
        .where(GuardianLink.guardian_id == guardian.id)
        .order_by(User.display_name)
    )
    return [(user, relation) for user, relation in rows]


def audit_page(query: Select, *, action: str | None) -> Select:
    if action:
        query = query.where(AuditEvent.action.startswith(action))
    return query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())


def full_names(units: list[Unit]) -> dict[int, str]:
    """Each unit's name after its ancestors' ("示范州 / 示范市 / 示范市第一小学 / 五年级"), one query."""
    ids = {i for unit in units for i in unit.ancestor_ids}
    names = dict(db.session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(ids))).all())
    return {unit.id: " / ".join(names.get(i, "?") for i in unit.ancestor_ids) for unit in units}


def units_around(user: User) -> list[Unit]:
    """The units a role of ``user`` would plausibly be held at: the schools they are in, with
    their grades and classes, and the units above those schools (one query)."""
    roots = {assignment.unit.school_path for assignment in user.roles}
    above = {i for root in roots for i in path_ids(root)}
    if not roots:
        return []
    return list(
        db.session.scalars(
            select(Unit).where(
                or_(Unit.id.in_(above), *[Unit.path.startswith(root) for root in sorted(roots)])
            )
        )
    )
