"""Which web processes are alive, and the attendance of those that died without saying so.

An attendance interval is opened when a socket joins a room and closed by its disconnect. A web
process killed outright (SIGKILL, the OOM killer, a lost machine) runs no disconnect: its
sockets reconnect to another process and open new intervals there, while the old ones would
stay open, and be credited, until the lecture ends. So each web process beats (``record_beat``,
every ``LIVE_HEARTBEAT_SECONDS``, from ``live/heartbeat.py``) and each interval names the
process that opened it. A process whose last beat is older than ``LIVE_PROCESS_EXPIRY_SECONDS``
is dead; ``sweep_dead_processes`` (Celery beat, ``live.sweep_dead_processes``) closes its open
intervals at that last beat, the last moment the server knows its sockets were there: the time
after it is not credited, and at most one heartbeat's worth before it is lost. A process that
was only too busy to beat for that long (a storm of reconnects on one core) learns at its next
beat that it was swept and opens its sockets' intervals again (``reopen_intervals``): the
silent time is lost, never invented.

Why PostgreSQL and not a Redis key with a TTL: the sweep needs the time of the last beat after
the process is gone (a key that expired has forgotten it), in the same database and transaction
as the intervals it closes; and a Redis restart, which empties Redis, must not make every live
process look dead. One small UPDATE per process every few seconds costs nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import exists, select

from elearn.extensions import db
from live.models import Attendance, AttendanceInterval, Lecture, LectureStatus, WebProcess
from live.service.attendance import _recount
from live.service.base import _now

#: a dead process's row is kept this long after its last beat (for the operator), then dropped
FORGET_AFTER = timedelta(days=7)


def heartbeat_seconds() -> float:
    return float(current_app.config.get("LIVE_HEARTBEAT_SECONDS", 5.0))


def expiry_seconds() -> float:
    return float(current_app.config.get("LIVE_PROCESS_EXPIRY_SECONDS", 30.0))


def record_beat(*, process: str, now: datetime | None = None) -> bool:
    """The web process ``process`` is alive at ``now`` (each process writes only its own row).
    True when a sweep found it dead since its previous beat: it was only too busy to beat (a
    storm of reconnects), and its sockets' intervals were closed (``reopen_intervals``)."""
    now = now or _now()
    row = db.session.get(WebProcess, process)
    if row is None:
        db.session.add(WebProcess(id=process, started_at=now, beat_at=now))
        db.session.flush()
        return False
    swept = row.swept_at is not None
    row.beat_at, row.swept_at = now, None
    db.session.flush()
    return swept


def reopen_intervals(*, process: str, sids: Iterable[str], now: datetime | None = None) -> int:
    """Open again, from ``now``, the intervals of ``process``'s sockets ``sids`` (those still in
    a room) that a sweep closed while the process could not beat; the silent time stays
    uncredited. Returns how many were opened."""
    now = now or _now()
    opened = 0
    for sid in sids:
        latest = db.session.scalar(
            select(AttendanceInterval)
            .where(AttendanceInterval.sid == sid)
            .order_by(AttendanceInterval.id.desc())
            .limit(1)
        )
        if latest is None or latest.left_at is None or latest.process != process:
            continue
        lecture = db.session.get(Lecture, latest.attendance.lecture_id)
        if lecture is None or lecture.status == LectureStatus.ENDED:
            continue
        db.session.add(
            AttendanceInterval(
                attendance_id=latest.attendance_id, sid=sid, process=process, joined_at=now
            )
        )
        opened += 1
    db.session.flush()
    return opened


def sweep_dead_processes(*, now: datetime | None = None, expiry: float | None = None) -> int:
    """Close the open attendance intervals of every web process whose heartbeat stopped more
    than ``expiry`` seconds ago, at its last beat, and recount those viewers' time as a
    disconnect would. Idempotent: a second run finds nothing open. Returns intervals closed."""
    now = now or _now()
    cutoff = now - timedelta(seconds=expiry_seconds() if expiry is None else expiry)
    has_open = exists().where(
        AttendanceInterval.process == WebProcess.id, AttendanceInterval.left_at.is_(None)
    )
    dead = db.session.scalars(
        select(WebProcess)
        .where(WebProcess.beat_at < cutoff, has_open)
        .order_by(WebProcess.id)
        # two sweeps at once (a slow one and the next beat's) take different processes
        .with_for_update(skip_locked=True)
    ).all()
    closed = sum(_close_intervals_of(process, now) for process in dead)
    _forget_old(now)
    return closed


def _close_intervals_of(process: WebProcess, now: datetime) -> int:
    intervals = db.session.scalars(
        select(AttendanceInterval).where(
            AttendanceInterval.process == process.id, AttendanceInterval.left_at.is_(None)
        )
    ).all()
    touched: dict[int, Attendance] = {}
    for interval in intervals:
        # one that opened after the last beat (and before the death) counts nothing
        interval.left_at = max(interval.joined_at, process.beat_at)
        touched[interval.attendance_id] = interval.attendance
    for attendance in touched.values():
        lecture = db.session.get(Lecture, attendance.lecture_id)
        assert lecture is not None
        attendance.last_seen_at = max(attendance.last_seen_at, process.beat_at)
        # as close_interval does: the viewer's other intervals (a reconnect elsewhere) run on
        _recount(attendance, lecture, now)
    process.swept_at = now
    db.session.flush()
    return len(intervals)


def _forget_old(now: datetime) -> None:
    """Drop the rows of processes dead for a week whose intervals are all closed."""
    has_open = exists().where(
        AttendanceInterval.process == WebProcess.id, AttendanceInterval.left_at.is_(None)
    )
    for row in db.session.scalars(
        select(WebProcess).where(WebProcess.beat_at < now - FORGET_AFTER, ~has_open)
    ):
        db.session.delete(row)
    db.session.flush()
