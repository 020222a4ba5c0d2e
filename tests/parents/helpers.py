"""People for the messaging tests: the demo seed's, and a few made for one test."""

from __future__ import annotations

from elearn.extensions import db
from elearn.models import User
from elearn.service import accounts
from tests.conftest import unit_by_code, user


def person(username: str, role: str, unit_code: str) -> User:
    """A new account holding ``role`` at the unit with this code (rolled back with the test)."""
    made = User(username=username, display_name=username, password_hash="x")
    db.session.add(made)
    db.session.flush()
    accounts.assign_role(actor=None, user=made, role=role, unit=unit_by_code(unit_code))
    db.session.flush()
    db.session.refresh(made)
    return made


__all__ = ["person", "user"]
