"""Recording sensitive actions in the audit log, and reading them back as people read.

An event keeps a code (``login.succeeded``) and a target (``quiz``, ``"1"``): stable for the
ledger, meaningless to an admin. Each package declares what its codes are called and how its
targets are named (and where the viewer may open them) in its ``Feature`` (``audit_actions``,
``audit_targets``; the carrier's own are ``ACTIONS`` and ``TARGETS`` below), so the carrier's log
page never needs to know a feature's tables.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from elearn import features, permissions
from elearn.extensions import db
from elearn.models import AuditEvent, Job, Term, Unit, User


def record(
    action: str,
    *,
    actor: User | None,
    unit_id: int | None = None,
    target_type: str | None = None,
    target_id: object = None,
    ip: str | None = None,
    **details: Any,
) -> AuditEvent:
    """Add one audit event to the session (committed with the unit of work)."""
    event = AuditEvent(
        action=action,
        actor_id=actor.id if actor is not None else None,
        unit_id=unit_id,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        ip=ip,
        details=details,
    )
    db.session.add(event)
    return event


# --- how the log reads: labels of action codes, names of targets ----------------------------


@dataclass(frozen=True)
class Target:
    """What an event was about, as the log shows it: a kind, a name, a link the viewer may open."""

    kind: str
    name: str
    url: str | None = None


#: ``describe(viewer, ids)`` → {id: (name, url or None)} for the ids that still exist
Describer = Callable[[User, list[str]], dict[str, tuple[str, str | None]]]


def _actions() -> Mapping[str, Any]:
    return features.registry().audit_actions


def _targets() -> Mapping[str, tuple[Any, Describer]]:
    return features.registry().audit_targets


def action_label(code: str) -> str:
    """The action's name in the viewer's language; an undeclared code shows as it is."""
    label = _actions().get(code)
    return str(label) if label is not None else code


def action_choices() -> list[tuple[str, str]]:
    """(code, label) of every declared action, each family's prefix before its members (for
    the log's filter, which matches a code's beginning)."""
    return [(code, str(label)) for code, label in sorted(_actions().items())]


#: a database id as the log stores it ("12"); anything else names no row
_MAX_ID = 2**31 - 1


def int_ids(ids: Iterable[str]) -> dict[int, str]:
    """{int id: stored id} for the stored ids that can be row ids."""
    found = {}
    for ident in ids:
        if ident.isdigit() and 0 < int(ident) <= _MAX_ID:
            found[int(ident)] = ident
    return found


_Row = TypeVar("_Row")


def load_targets(model: type[_Row], ids: list[str]) -> list[tuple[str, _Row]]:
    """(stored id, row) for the stored ids naming a row of ``model`` (by its integer ``id``)."""
    keys = int_ids(ids)
    if not keys:
        return []
    column = model.id  # type: ignore[attr-defined]  # model is any mapped class the audit log names; each has an integer id
    rows = db.session.scalars(select(model).where(column.in_(keys)))
    return [(keys[row.id], row) for row in rows]  # type: ignore[attr-defined]  # model is any mapped class the audit log names; each has an integer id


def describe_targets(viewer: User, events: list[AuditEvent]) -> dict[int, Target]:
    """{event id: Target} for the events that have a target, one query per target type."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for event in events:
        if event.target_type and event.target_id:
            wanted[event.target_type].add(event.target_id)
    named: dict[tuple[str, str], tuple[str, str | None]] = {}
    declared = _targets()
    for target_type, ids in wanted.items():
        if target_type in declared:
            found = declared[target_type][1](viewer, sorted(ids))
            named.update({(target_type, ident): value for ident, value in found.items()})
    targets = {}
    for event in events:
        if not (event.target_type and event.target_id):
            continue
        registered = declared.get(event.target_type)
        kind = str(registered[0]) if registered else event.target_type
        hit = named.get((event.target_type, event.target_id))
        if hit is not None:
            targets[event.id] = Target(kind, hit[0], hit[1])
        else:  # gone since (a deleted unit keeps its name in the event), or not nameable
            name = (event.details or {}).get("name")
            targets[event.id] = Target(kind, str(name) if name else f"#{event.target_id}")
    return targets


# --- the carrier's own codes and targets ---------------------------------------------------

#: the carrier's action codes (its Feature declares them)
ACTIONS: dict[str, Any] = {
    # a family's prefix filters the log to all of its actions
    "login": _l("Sign-ins (all)"),
    "login.succeeded": _l("Signed in"),
    "login.failed": _l("Sign-in failed"),
    "login.locked": _l("Sign-in refused: account locked"),
    "login.lockout": _l("Account locked after wrong passwords"),
    "logout": _l("Signed out"),
    "password.changed": _l("Password changed"),
    "password.reset": _l("Password reset by an admin"),
    "role.granted": _l("Role granted"),
    "role.revoked": _l("Role removed"),
    "unit.created": _l("Unit created"),
    "unit.updated": _l("Unit edited"),
    "unit.deleted": _l("Unit deleted"),
    "term.created": _l("Term created"),
    "roster.imported": _l("Roster imported"),
    "roster.failed": _l("Roster import failed"),
}


def _users(viewer: User, ids: list[str]) -> dict[str, tuple[str, str | None]]:
    return {
        ident: (
            user.display_name,
            url_for("admin.user_detail", user_id=user.id)
            if permissions.can(viewer, "view", user)
            else None,
        )
        for ident, user in load_targets(User, ids)
    }


def _units(viewer: User, ids: list[str]) -> dict[str, tuple[str, str | None]]:
    return {
        ident: (
            unit.name,
            url_for("admin.unit_detail", unit_id=unit.id)
            if permissions.can(viewer, "view_members", unit)
            else None,
        )
        for ident, unit in load_targets(Unit, ids)
    }


def _terms(viewer: User, ids: list[str]) -> dict[str, tuple[str, str | None]]:
    return {ident: (term.name, url_for("admin.terms")) for ident, term in load_targets(Term, ids)}


def _jobs(viewer: User, ids: list[str]) -> dict[str, tuple[str, str | None]]:
    # a roster job's id is a string of its own, not a row number
    rows = db.session.scalars(select(Job).where(Job.id.in_([i[:32] for i in ids])))
    return {
        job.id: (
            job.filename or job.id,
            url_for("rosters.job", job_id=job.id) if permissions.can(viewer, "view", job) else None,
        )
        for job in rows
    }


#: the carrier's target types (its Feature declares them)
TARGETS: dict[str, tuple[Any, Describer]] = {
    "user": (_l("Person"), _users),
    "unit": (_l("Unit"), _units),
    "term": (_l("Term"), _terms),
    "job": (_l("Roster import"), _jobs),
}
