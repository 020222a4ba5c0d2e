"""Recording sensitive actions in the audit log."""

from __future__ import annotations

from typing import Any

from elearn.extensions import db
from elearn.models import AuditEvent, User


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
