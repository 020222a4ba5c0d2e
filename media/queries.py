"""Read-only queries over assets."""

from __future__ import annotations

from sqlalchemy import select

from elearn.extensions import db
from elearn.models import User
from media.models import Asset


def assets_of(owner: User, limit: int = 50) -> list[Asset]:
    """The owner's most recent assets, newest first."""
    query = (
        select(Asset)
        .where(Asset.owner_id == owner.id)
        .order_by(Asset.created_at.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))
