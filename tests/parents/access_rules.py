"""Who may use each of the families-and-community endpoints (see tests/access.py)."""

from __future__ import annotations

from sqlalchemy import select

from tests.access import ADMINS, SIGNED_IN, Rule

ADMIN_AND_TEACHERS = ADMINS | frozenset({"teacher1"})


def _announcement_to_parent1(ids: dict) -> int:
    """An announcement from school_admin to the guardians of S0101 (parent1 among them)."""
    from elearn.extensions import db
    from elearn.models import Unit
    from parents.announcements import service
    from parents.announcements.models import Announcement
    from tests.conftest import user

    found = db.session.scalar(select(Announcement).where(Announcement.title == "访问规则通知"))
    if found is None:
        school = db.session.scalar(select(Unit).where(Unit.code == "S0101"))
        found = service.send(
            actor=user("school_admin"),
            title="访问规则通知",
            body="",
            audience=[service.Audience(unit=school, role="guardian")],
            requires_ack=True,
        )
        db.session.commit()
    return found.id


RULES = {
    "announcements.index": Rule(lambda ids: "/announcements", SIGNED_IN),
    "announcements.detail": Rule(
        lambda ids: f"/announcements/{_announcement_to_parent1(ids)}",
        frozenset({"parent1", "school_admin", "county_admin", "pref_admin"}),
    ),
    "announcements.ack": Rule(
        lambda ids: f"/announcements/{_announcement_to_parent1(ids)}/ack",
        frozenset({"parent1"}),
        method="POST",
    ),
    "announcements.new": Rule(lambda ids: "/announcements/new", ADMIN_AND_TEACHERS),
    "announcements.remind": Rule(
        lambda ids: f"/announcements/{_announcement_to_parent1(ids)}/remind",
        frozenset({"school_admin", "county_admin", "pref_admin"}),
        method="POST",
    ),
    "announcements_api.create": Rule(
        lambda ids: "/api/v1/announcements",
        ADMIN_AND_TEACHERS,
        method="POST",
        json=True,
        data=lambda ids: {
            "title": "访问规则",
            "audience": [{"unit_id": ids["class"], "role": "guardian"}],
        },
    ),
    "announcements_api.lists": Rule(lambda ids: "/api/v1/announcements", SIGNED_IN),
    "announcements_api.read": Rule(
        lambda ids: f"/api/v1/announcements/{_announcement_to_parent1(ids)}/read",
        frozenset({"parent1"}),
        method="POST",
        json=True,
    ),
    "announcements_api.ack": Rule(
        lambda ids: f"/api/v1/announcements/{_announcement_to_parent1(ids)}/ack",
        frozenset({"parent1"}),
        method="POST",
        json=True,
    ),
    "announcements_api.forward": Rule(
        lambda ids: f"/api/v1/announcements/{_announcement_to_parent1(ids)}/forward",
        frozenset(),  # its recipients are guardians, who forward nothing
        method="POST",
        json=True,
        data=lambda ids: {"audience": [{"unit_id": ids["class"], "role": "guardian"}]},
    ),
    "announcements_api.receipts": Rule(
        lambda ids: f"/api/v1/announcements/{_announcement_to_parent1(ids)}/receipts",
        frozenset({"school_admin", "county_admin", "pref_admin"}),
    ),
}
