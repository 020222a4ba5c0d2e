"""The carrier's own coverage evidence: parents activating, schools connecting."""

from __future__ import annotations

from sqlalchemy import select

from elearn.extensions import db
from elearn.models import FactKind, Role, RoleAssignment, Unit, User
from elearn.service import coverage, org


def _guardian_fact(kind: FactKind, user: User) -> None:
    """Record ``kind`` for a guardian, under their (first) child's class, in the current term."""
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
        coverage.record_fact(kind, user.id, unit, term)


def user_activated(user: User) -> None:
    """A guardian's first login counts as "parent activated" for each child's class."""
    _guardian_fact(FactKind.PARENT_ACTIVATED, user)


def guardian_reached(user: User) -> None:
    """A guardian who read an announcement addressed to them counts as reached this term (a
    no-op for anyone who is not a guardian, and idempotent)."""
    _guardian_fact(FactKind.PARENT_REACHED, user)


def school_connected(school: Unit) -> None:
    """A school whose roster has been imported counts as connected."""
    term = org.current_term()
    if term is not None:
        coverage.record_fact(FactKind.SCHOOL_CONNECTED, school.id, school, term)
