"""Demo content: a scheduled lecture by expert1 for the demo county (C01)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from elearn.extensions import db
from elearn.models import Unit, User
from live.models import Lecture, LectureAudience, LectureStatus

DEMO_TITLE = "远离毒品，珍爱生命——示范市专题直播课"


def seed_demo_lecture() -> None:
    """Idempotent: adds the lecture once, found again by its title and lecturer."""
    expert = db.session.scalar(select(User).where(User.username == "expert1"))
    county = db.session.scalar(select(Unit).where(Unit.code == "C01", Unit.type == "county"))
    if expert is None or county is None:
        return
    exists = db.session.scalar(
        select(Lecture.id).where(Lecture.title == DEMO_TITLE, Lecture.lecturer_id == expert.id)
    )
    if exists is not None:
        return
    home = min((a.unit for a in expert.roles), key=lambda unit: len(unit.path))
    starts = (datetime.now(UTC) + timedelta(days=1)).replace(
        hour=2, minute=0, second=0, microsecond=0
    )
    lecture = Lecture(
        title=DEMO_TITLE,
        lecturer_id=expert.id,
        owner_unit_id=home.id,
        starts_at=starts,
        status=LectureStatus.SCHEDULED,
        is_training=False,
        chat_enabled=True,
        slow_mode_seconds=0,
        word_filter=[],
        created_by_id=expert.id,
    )
    lecture.audience.append(LectureAudience(unit_id=county.id, role=None))
    db.session.add(lecture)
    db.session.flush()
