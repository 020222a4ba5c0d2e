"""Access rules of the live lectures' routes (see tests/access.py)."""

from sqlalchemy import select

from tests.access import ADMINS, SIGNED_IN, Rule

HOSTS = ADMINS | {"teacher1", "expert1"}


def demo_lecture_id() -> int:
    """The demo seed's lecture: by expert1, for the whole demo county (C01)."""
    from elearn.extensions import db
    from live.demo import DEMO_TITLE
    from live.models import Lecture

    return db.session.scalar(select(Lecture.id).where(Lecture.title == DEMO_TITLE))


RULES = {
    "live_api.create_lecture": Rule(
        lambda ids: "/api/v1/lectures",
        HOSTS,
        method="POST",
        json=True,
        data=lambda ids: {
            "title": "禁毒直播",
            "starts_at": "2030-03-01T09:00:00+08:00",
            "audience": [{"unit_id": ids["school"]}],
        },
    ),
    "live_api.lectures": Rule(lambda ids: "/api/v1/lectures", SIGNED_IN),
    # the demo lecture's audience is the whole county C01: every demo login lies in it
    "live_api.lecture": Rule(lambda ids: f"/api/v1/lectures/{demo_lecture_id()}", SIGNED_IN),
    "live_api.lecture_attendance": Rule(
        lambda ids: f"/api/v1/lectures/{demo_lecture_id()}/attendance", ADMINS | {"expert1"}
    ),
    "live.lectures": Rule(lambda ids: "/lectures", SIGNED_IN),
    "live.new_lecture": Rule(lambda ids: "/lectures/new", HOSTS),
    "live.room": Rule(lambda ids: f"/lectures/{demo_lecture_id()}", SIGNED_IN),
    # the studio is the lecturer's (and co-hosts'): everyone else in the audience is refused
    "live.studio": Rule(
        lambda ids: f"/lectures/{demo_lecture_id()}/studio", frozenset({"expert1"})
    ),
}
