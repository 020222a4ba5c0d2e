"""Web processes' heartbeats and the sweep that closes the attendance of a dead one
(``live.service.processes``), against PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from elearn.extensions import db
from live import service
from live.models import Attendance, AttendanceInterval, WebProcess
from tests.conftest import user
from tests.live.helpers import make_lecture

T0 = datetime(2030, 3, 1, 9, 0, tzinfo=UTC)


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _interval(sid: str) -> AttendanceInterval:
    found = db.session.query(AttendanceInterval).filter_by(sid=sid).one()
    db.session.refresh(found)
    return found


def _attendance(username: str, lecture) -> Attendance:
    found = (
        db.session.query(Attendance).filter_by(lecture_id=lecture.id, user_id=user(username).id)
    ).one()
    db.session.refresh(found)
    return found


def test_a_beat_records_the_process_then_moves_its_time(ctx):
    assert service.record_beat(process="host:1:aa", now=_at(0)) is False
    row = db.session.get(WebProcess, "host:1:aa")
    assert (row.started_at, row.beat_at, row.swept_at) == (_at(0), _at(0), None)
    assert service.record_beat(process="host:1:aa", now=_at(5)) is False
    assert (row.started_at, row.beat_at) == (_at(0), _at(5))


def test_the_sweep_closes_a_dead_process_s_intervals_at_its_last_beat(ctx):
    lecture = make_lecture()
    dead, alive = "host:101:dead", "host:102:alive"
    service.record_beat(process=dead, now=_at(0))
    service.record_beat(process=alive, now=_at(0))
    student, other = user("student1"), user("teacher1")
    service.open_interval(actor=student, lecture=lecture, sid="a", process=dead, now=_at(0))
    service.open_interval(actor=other, lecture=lecture, sid="b", process=alive, now=_at(0))
    service.record_beat(process=dead, now=_at(10))  # its last beat: killed soon after
    # a join between the last beat and the death: nothing of it can be vouched for
    service.open_interval(actor=student, lecture=lecture, sid="c", process=dead, now=_at(12))
    # the student's socket reconnects to the other process
    service.open_interval(actor=student, lecture=lecture, sid="d", process=alive, now=_at(15))
    service.record_beat(process=alive, now=_at(55))

    assert service.sweep_dead_processes(now=_at(60), expiry=30) == 2

    assert _interval("a").left_at == _at(10)  # the last beat, not the sweep's time
    assert _interval("c").left_at == _at(12)
    assert _interval("b").left_at is None and _interval("d").left_at is None
    # 0–10 s on the dead process, 15–60 s (so far) on the live one
    assert _attendance("student1", lecture).watched_seconds == 55
    assert _attendance("student1", lecture).last_seen_at == _at(10)
    assert db.session.get(WebProcess, dead).swept_at == _at(60)
    assert db.session.get(WebProcess, alive).swept_at is None


def test_a_second_sweep_changes_nothing(ctx):
    lecture = make_lecture()
    service.record_beat(process="host:201:dead", now=_at(0))
    service.open_interval(
        actor=user("student1"), lecture=lecture, sid="e", process="host:201:dead", now=_at(0)
    )
    assert service.sweep_dead_processes(now=_at(60), expiry=30) == 1
    closed, watched = _interval("e").left_at, _attendance("student1", lecture).watched_seconds
    assert (closed, watched) == (_at(0), 0)

    assert service.sweep_dead_processes(now=_at(120), expiry=30) == 0
    assert _interval("e").left_at == closed
    assert _attendance("student1", lecture).watched_seconds == watched
    assert db.session.get(WebProcess, "host:201:dead").swept_at == _at(60)


def test_a_process_silent_for_less_than_the_expiry_is_alive(ctx):
    lecture = make_lecture()
    service.record_beat(process="host:301:slow", now=_at(10))
    service.open_interval(
        actor=user("student1"), lecture=lecture, sid="f", process="host:301:slow", now=_at(0)
    )
    # intervals without a process (opened before processes beat) are never swept
    service.open_interval(actor=user("teacher1"), lecture=lecture, sid="g", now=_at(0))
    assert service.sweep_dead_processes(now=_at(40), expiry=30) == 0
    assert _interval("f").left_at is None and _interval("g").left_at is None
    assert db.session.get(WebProcess, "host:301:slow").swept_at is None


def test_rows_of_processes_long_dead_are_forgotten_once_nothing_is_open(ctx):
    service.record_beat(process="host:401:old", now=_at(0))
    service.record_beat(process="host:402:recent", now=_at(8 * 24 * 3600 - 60))
    service.sweep_dead_processes(now=_at(8 * 24 * 3600), expiry=30)
    assert db.session.get(WebProcess, "host:401:old") is None
    assert db.session.get(WebProcess, "host:402:recent") is not None


def test_a_process_swept_while_alive_reopens_its_sockets_intervals_at_its_next_beat(ctx):
    lecture = make_lecture()
    busy = "host:501:busy"
    service.record_beat(process=busy, now=_at(0))
    for sid, username in (("h", "student1"), ("i", "teacher1")):
        service.open_interval(
            actor=user(username), lecture=lecture, sid=sid, process=busy, now=_at(0)
        )
    # too busy to beat for the expiry: the sweep closes its intervals at its last beat
    assert service.sweep_dead_processes(now=_at(40), expiry=30) == 2

    # its next beat learns it was swept; only sockets still in a room are opened again, from now
    assert service.record_beat(process=busy, now=_at(45)) is True
    assert service.reopen_intervals(process=busy, sids=["h", "gone"], now=_at(45)) == 1
    assert service.record_beat(process=busy, now=_at(50)) is False
    intervals = db.session.query(AttendanceInterval).filter_by(sid="h").order_by("id").all()
    assert [(i.joined_at, i.left_at) for i in intervals] == [(_at(0), _at(0)), (_at(45), None)]
    assert _interval("i").left_at == _at(0)
    # reopened once: a second call finds the interval open
    assert service.reopen_intervals(process=busy, sids=["h"], now=_at(50)) == 0
