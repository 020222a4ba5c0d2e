"""Read-only queries of the dispatch pages: the campaigns one follows, where one follows them from,
and what a campaign can be sent to."""

from __future__ import annotations

from sqlalchemy import literal, or_, select

from elearn.extensions import db
from elearn.models import Unit, User
from elearn.models.accounts import ADMIN_ROLES
from quizzes.models import Campaign


def campaigns_for(user: User) -> list[Campaign]:
    """Campaigns sent from, above or below the units the user administers or teaches."""
    paths = [a.unit.path for a in user.roles if a.role in ADMIN_ROLES or a.role == "teacher"]
    if not paths:
        return []
    conditions = []
    for path in paths:
        conditions.append(literal(path).startswith(Unit.path))
        conditions.append(Unit.path.startswith(path))
    return list(
        db.session.scalars(
            select(Campaign)
            .join(Unit, Unit.id == Campaign.unit_id)
            .where(or_(*conditions))
            .order_by(Campaign.created_at.desc())
            .limit(100)
        )
    )


def followed_unit(user: User, campaign: Campaign) -> Unit:
    """The highest unit under which the user follows a campaign (the sender, or their own unit)."""
    own = sorted(
        (a.unit for a in user.roles if a.role in ADMIN_ROLES or a.role == "teacher"),
        key=lambda u: len(u.path),
    )
    for unit in own:
        if campaign.unit.path.startswith(unit.path):
            return campaign.unit
    return own[0] if own else campaign.unit


def dispatch_targets(senders: list[Unit]) -> tuple[list[int], list[tuple[Unit, list[Unit]]]]:
    """What a campaign can be sent to from ``senders``: grade levels, and schools by county."""
    if not senders:
        return [], []
    under = or_(*[Unit.path.startswith(s.path) for s in senders])
    levels = sorted(
        level
        for level in db.session.scalars(
            select(Unit.grade_level).where(Unit.type == "grade", under).distinct()
        )
        if level is not None
    )
    units = db.session.scalars(
        select(Unit).where(Unit.type.in_(["county", "school"]), under).order_by(Unit.path)
    ).all()
    counties = {u.id: u for u in units if u.type == "county"}
    groups: dict[int, list[Unit]] = {}
    for unit in units:
        if unit.type == "school":
            county_id = unit.ancestor_ids[1] if len(unit.ancestor_ids) > 1 else 0
            groups.setdefault(county_id, []).append(unit)
    return levels, [
        (counties[c], sorted(schools, key=lambda s: s.name))
        for c, schools in groups.items()
        if c in counties
    ]
