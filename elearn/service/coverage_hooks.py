"""The carrier's own coverage evidence: parents activating, schools connecting."""

from __future__ import annotations

from sqlalchemy import select

from elearn.extensions import db
from elearn.models import FactKind, Role, RoleAssignment, Unit, User
from elearn.service import coverage, org


def user_activated(user: User) -> None:
    """A guardian's first login counts as "parent activated" for each child's class."""
    term = org.current_term()
    if term is None:
        return
    units = db.session.scalars(
        select(Unit)
        .join(RoleAssignment, RoleAssignment.unit_id == Unit.id)
        .where(RoleAssignment.user_id == user.id, RoleAssignment.role == Role.GUARDIAN)
        .limit(1)
    ).all()
    for unit in units:
        coverage.record_fact(FactKind.PARENT_ACTIVATED, user.id, unit, term)


def school_connected(school: Unit) -> None:
    """A school whose roster has been imported counts as connected."""
    term = org.current_term()
    if term is not None:
        coverage.record_fact(FactKind.SCHOOL_CONNECTED, school.id, school, term)
