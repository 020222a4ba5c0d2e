"""Reminders: once per lecture, shortly before it starts, to its audience's inboxes (the
carrier's notifications), teacher trainings marked; a second run sends nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from elearn.extensions import db
from elearn.models import Notification
from live import service, tasks
from tests.conftest import unit_by_code, user
from tests.live.helpers import make_lecture

OTHER_COUNTY_STUDENT = "s_S0201_5_01"


def _reminders(username: str, lecture=None) -> list[Notification]:
    """The user's lecture reminders (of one lecture: the demo seed has its own lecture)."""
    query = select(Notification).where(
        Notification.user_id == user(username).id, Notification.kind == service.REMINDER_KIND
    )
    if lecture is not None:
        query = query.where(Notification.link == f"/lectures/{lecture.id}")
    return list(db.session.scalars(query))


def test_the_audience_is_reminded_once_shortly_before_the_start(ctx):
    now = datetime.now(UTC)
    lecture = make_lecture(title="毒品的危害", starts_at=now + timedelta(hours=2))
    service.send_due_reminders(now=now)
    assert not _reminders("student1", lecture)  # two hours ahead: not yet
    later = lecture.starts_at - timedelta(minutes=20)  # within the default 30 minutes
    sent = service.send_due_reminders(now=later)
    db.session.flush()
    assert sent > 100  # every student, teacher and parent of the demo county
    [notice] = _reminders("student1", lecture)
    assert "毒品的危害" in notice.title and "培训" not in notice.title
    assert notice.link == f"/lectures/{lecture.id}" and notice.read_at is None
    assert "张专家" in notice.body
    assert _reminders("parent1", lecture) and _reminders("teacher1", lecture)
    assert not _reminders("expert1", lecture)  # the lecturer
    assert not _reminders(OTHER_COUNTY_STUDENT, lecture)  # not in the audience
    # idempotent: a second run (or an overlapping one) sends nothing
    assert service.send_due_reminders(now=later + timedelta(minutes=1)) == 0
    assert len(_reminders("student1", lecture)) == 1


def test_teacher_trainings_are_marked_and_reach_teachers_only(ctx):
    now = datetime.now(UTC)
    lecture = make_lecture(
        title="禁毒教育教师培训",
        audience=[{"role": "teacher"}],
        is_training=True,
        starts_at=now + timedelta(minutes=10),
    )
    assert service.send_due_reminders(now=now) > 0
    db.session.flush()
    [notice] = _reminders("t_S0201_5", lecture)  # every teacher of the prefecture
    assert "教师培训" in notice.title
    assert not _reminders("student1", lecture) and not _reminders("parent1", lecture)


def test_the_lead_time_is_configurable_and_ended_lectures_are_skipped(app, ctx):
    now = datetime.now(UTC)
    soon = make_lecture(starts_at=now + timedelta(minutes=50))
    app.config["LIVE_REMINDER_MINUTES"] = 60
    try:
        ended = make_lecture(
            audience=[{"unit_id": unit_by_code("S0101").id}], starts_at=now + timedelta(minutes=5)
        )
        from live.models import LectureStatus

        service.set_status(actor=user("expert1"), lecture=ended, status=LectureStatus.ENDED)
        assert service.send_due_reminders(now=now) > 0
    finally:
        app.config["LIVE_REMINDER_MINUTES"] = 30
    db.session.flush()
    assert _reminders("student1", soon) and not _reminders("student1", ended)


def test_the_beat_task_sends_and_commits(ctx):
    from live.models import Lecture

    lecture_id = make_lecture(starts_at=datetime.now(UTC) + timedelta(minutes=5)).id
    assert tasks.send_reminders() > 0
    assert tasks.send_reminders() == 0
    lecture = db.session.get(Lecture, lecture_id)
    assert lecture is not None and lecture.reminded_at is not None
    assert _reminders("student1", lecture)


def test_reminders_are_on_the_beat_schedule(app):
    schedule = app.extensions["celery"].conf.beat_schedule
    assert schedule["live.send_reminders"]["task"] == "live.send_reminders"
    assert schedule["live.send_reminders"]["schedule"] <= 60


def test_a_reminder_for_students_reaches_their_guardians_once(ctx):
    """A lecture for a class's students: parent1 (student1's guardian) is reminded too, once,
    though no audience row names guardians; a lecture for teachers reaches no guardian."""
    now = datetime.now(UTC)
    klass = next(a.unit for a in user("student1").roles if a.role == "student")
    lecture = make_lecture(
        "teacher1",
        title="五年级1班禁毒班会",
        audience=[{"unit_id": klass.id, "role": "student"}],
        starts_at=now + timedelta(minutes=10),
    )
    service.send_due_reminders(now=now)
    db.session.flush()
    assert len(_reminders("student1", lecture)) == 1
    [notice] = _reminders("parent1", lecture)
    assert "五年级1班禁毒班会" in notice.title
    assert not _reminders("teacher1", lecture)  # the lecturer
    # the county's lecture names everyone: a guardian in it by role and by child counts once
    county = make_lecture(title="全县家校直播", starts_at=now + timedelta(minutes=12))
    service.send_due_reminders(now=now)
    db.session.flush()
    assert len(_reminders("parent1", county)) == 1
