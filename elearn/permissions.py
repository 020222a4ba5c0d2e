"""Permissions in one place: "may this actor do this to this object", and "what may they see".

Every route asks here. Objects outside the actor's scope are reported as missing (404), never as
forbidden, so nothing leaks about what exists elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort
from sqlalchemy import BigInteger, false, or_, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.sql import Select

from elearn import features
from elearn.extensions import db
from elearn.models import AccountSlip, AuditEvent, Job, Role, Unit, User
from elearn.models._types import INT_MAX
from elearn.models.accounts import ADMIN_ROLES


def scope_paths(actor: User) -> list[str]:
    """Paths of the subtrees this actor can see."""
    paths: set[str] = set()
    for assignment in actor.roles:
        unit = assignment.unit
        if assignment.role == Role.TEACHER:
            paths.add(unit.school_path)
        else:
            paths.add(unit.path)
    return sorted(paths)


def admin_paths(actor: User) -> list[str]:
    """Paths of the subtrees this actor administers."""
    return sorted({a.unit.path for a in actor.roles if a.role in ADMIN_ROLES})


def _under_any(column: Any, paths: list[str]) -> Any:
    if not paths:
        return false()
    return or_(*[column.startswith(path, autoescape=False) for path in paths])


def visible_units(actor: User) -> Select:
    """A query of the units this actor can see."""
    return select(Unit).where(_under_any(Unit.path, scope_paths(actor)))


def administered_units(actor: User) -> Select:
    """A query of the units this actor administers."""
    return select(Unit).where(_under_any(Unit.path, admin_paths(actor)))


def _within(unit: Unit, paths: list[str]) -> bool:
    return any(unit.path.startswith(path) for path in paths)


def _admin_level(actor: User, unit: Unit) -> Unit | None:
    """The highest unit at or above ``unit`` where the actor holds an admin role."""
    best = None
    for assignment in actor.roles:
        holds = assignment.role in ADMIN_ROLES and unit.path.startswith(assignment.unit.path)
        if holds and (best is None or len(assignment.unit.path) < len(best.path)):
            best = assignment.unit
    return best


#: roles that carry power over others: given only from above
GRANTED_FROM_ABOVE = frozenset({*ADMIN_ROLES, Role.EXPERT})


def may_grant(actor: User, role: str, unit: Unit) -> bool:
    """May ``actor`` give (or take away) ``role`` at ``unit``?

    Admin and expert roles only at a unit strictly below one the actor administers: a school
    admin makes no school admins (nor could they take back what they made: a peer is out of
    their reach), a county admin makes the school admins of the county. The other roles at any
    unit the actor administers.
    """
    if role in GRANTED_FROM_ABOVE:
        return any(
            a.role in ADMIN_ROLES and unit.path != a.unit.path and unit.path.startswith(a.unit.path)
            for a in actor.roles
        )
    return _admin_level(actor, unit) is not None


# --- the rules, one function per object type -------------------------------------------------


def _unit_rule(actor: User, action: str, unit: Unit) -> bool:
    if action == "view":
        return _within(unit, scope_paths(actor))
    administered = _admin_level(actor, unit)
    if action == "view_coverage":
        # a class's teachers follow their class's coverage (and its pupils) too
        return administered is not None or (
            unit.type == "class"
            and any(a.role == Role.TEACHER and a.unit_id == unit.id for a in actor.roles)
        )
    if action in {"read_audit", "view_members"}:
        return administered is not None
    if action in {"edit", "create_child", "manage_members"}:
        return administered is not None
    if action == "delete":
        # nobody deletes the unit their own admin role hangs on
        return administered is not None and administered.id != unit.id
    if action == "import_roster":
        return administered is not None and unit.type in {"school", "county"}
    if action == "reset_passwords":  # a class's new account slip
        return administered is not None and unit.type == "class"
    return False


def _user_rule(actor: User, action: str, target: User) -> bool:
    if action == "view" and target.id == actor.id:
        return True
    if action not in {"view", "reset_password", "manage_roles"}:
        return False
    if not target.roles:
        return False
    mine = admin_paths(actor)
    for assignment in target.roles:
        if not _within(assignment.unit, mine):
            return False
        if assignment.role in GRANTED_FROM_ABOVE:
            # an admin manages people of lower units only, never a peer or a superior
            level = _admin_level(actor, assignment.unit)
            if level is None or level.path == assignment.unit.path:
                return False
    return True


def _job_rule(actor: User, action: str, job: Job) -> bool:
    return action == "view" and job.created_by_id == actor.id


def _slip_rule(actor: User, action: str, slip: AccountSlip) -> bool:
    # shown to the admin who imported the roster, and to nobody else (others reset the class)
    return (
        action == "open"
        and slip.created_by_id == actor.id
        and _admin_level(actor, slip.unit) is not None
    )


def _audit_rule(actor: User, action: str, event: AuditEvent) -> bool:
    if action != "view" or event.unit_id is None:
        return False
    unit = db.session.get(Unit, event.unit_id)
    return unit is not None and _admin_level(actor, unit) is not None


#: the carrier's own object types (its Feature declares them, as each package declares its own)
CARRIER_RULES: dict[type, Callable[[User, str, Any], bool]] = {
    Unit: _unit_rule,
    User: _user_rule,
    Job: _job_rule,
    AccountSlip: _slip_rule,
    AuditEvent: _audit_rule,
}


def can(actor: User | None, action: str, obj: Any) -> bool:
    """May ``actor`` do ``action`` to ``obj``?"""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    rule = features.registry().rules.get(type(obj))
    if rule is None:
        raise LookupError(f"no permission rule for {type(obj).__name__}")
    return rule(actor, action, obj)


def require(actor: User | None, action: str, obj: Any) -> None:
    """Abort with 404 when the object is out of the actor's sight, 403 when seen but not allowed."""
    if can(actor, action, obj):
        return
    if isinstance(obj, Unit) and actor is not None and can(actor, "view", obj):
        abort(403)
    abort(404)


def _may_exist(model: type, ident: Any) -> bool:
    if isinstance(ident, bool):
        return False
    if not isinstance(ident, int):
        return True
    key: Any = sa_inspect(model).primary_key[0]
    largest = 2**63 - 1 if isinstance(key.type, BigInteger) else INT_MAX
    return 1 <= ident <= largest


def get_or_404(model: type, ident: Any, actor: User | None, action: str = "view") -> Any:
    """Load an object by id and check ``action`` on it; out of scope is a 404 (and so is an
    integer id no row can have: past its column's range, it would fail in the database)."""
    if not _may_exist(model, ident):
        abort(404)
    obj = db.session.get(model, ident)
    if obj is None:
        abort(404)
    require(actor, action, obj)
    return obj


def audit_events_visible(actor: User) -> Select:
    """A query of the audit events this actor may read."""
    units = select(Unit.id).where(_under_any(Unit.path, admin_paths(actor)))
    return select(AuditEvent).where(AuditEvent.unit_id.in_(units.scalar_subquery()))
