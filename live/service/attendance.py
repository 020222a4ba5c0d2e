"""Attendance decided on the server from connection time; the teacher-trained fact."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from courses import service as courses_service
from courses.models import Lesson
from elearn import permissions
from elearn.extensions import db
from elearn.models import FactKind, Role, Unit, User
from elearn.permissions import admin_paths
from elearn.service import coverage, org
from elearn.service.errors import Forbidden, ServiceError
from live.models import (
    Attendance,
    AttendanceInterval,
    Lecture,
)
from live.service.audience import _admin_reach, is_host
from live.service.base import (
    MAX_HEADCOUNT,
    _now,
)

# --- attendance ---------------------------------------------------------------------------------


def _teacher_of(user: User, klass: Unit) -> bool:
    return any(a.role == Role.TEACHER and klass.path.startswith(a.unit.path) for a in user.roles)


def open_interval(
    *,
    actor: User,
    lecture: Lecture,
    sid: str,
    class_unit: Unit | None = None,
    headcount: Any = None,
    process: str | None = None,
    now: datetime | None = None,
) -> Attendance:
    """Start counting a connection's time in the room (per person, or per class screen);
    ``process`` is the web process holding the socket (``live.service.processes``)."""
    now = now or _now()
    count: int | None = None
    if class_unit is not None:
        if class_unit.type != "class" or not _teacher_of(actor, class_unit):
            raise Forbidden(_("Only a teacher of this class can open its class screen."))
        if (
            not isinstance(headcount, int)
            or isinstance(headcount, bool)
            or not 1 <= headcount <= MAX_HEADCOUNT
        ):
            raise ServiceError(
                _("Enter how many students are watching (1 to %(n)d).", n=MAX_HEADCOUNT)
            )
        count = headcount
    query = select(Attendance).where(
        Attendance.lecture_id == lecture.id,
        Attendance.user_id == actor.id,
        Attendance.class_unit_id == class_unit.id
        if class_unit is not None
        else Attendance.class_unit_id.is_(None),
    )
    attendance = db.session.scalar(query)
    if attendance is None:
        attendance = Attendance(
            lecture_id=lecture.id,
            user_id=actor.id,
            class_unit_id=class_unit.id if class_unit else None,
            watched_seconds=0,
            first_joined_at=now,
            last_seen_at=now,
        )
        try:
            # two tabs of one person may join at the same moment: the second finds the first's row
            with db.session.begin_nested():
                db.session.add(attendance)
        except IntegrityError:
            attendance = db.session.scalars(query).one()
    # no write to the attendance row itself unless the headcount grows: many tabs (or screens)
    # of one person joining at once would queue on its row lock
    if count is not None and count > (attendance.headcount or 0):
        attendance.headcount = count
    db.session.flush()
    db.session.add(
        AttendanceInterval(attendance_id=attendance.id, sid=sid, process=process, joined_at=now)
    )
    db.session.flush()
    return attendance


def _merged_seconds(intervals: list[tuple[datetime, datetime]]) -> int:
    total = 0.0
    current_start: datetime | None = None
    current_end: datetime | None = None
    for start, end in sorted(intervals):
        if current_end is None or start > current_end:
            if current_end is not None and current_start is not None:
                total += (current_end - current_start).total_seconds()
            current_start, current_end = start, end
        elif end > current_end:
            current_end = end
    if current_end is not None and current_start is not None:
        total += (current_end - current_start).total_seconds()
    return int(total)


def _recount(attendance: Attendance, lecture: Lecture, now: datetime) -> None:
    cap = lecture.ended_at or now
    spans = []
    for interval in attendance.intervals:
        start = interval.joined_at
        end = interval.left_at or now
        assert start is not None
        end = min(end, cap)
        if end > start:
            spans.append((start, end))
    attendance.watched_seconds = _merged_seconds(spans)


def close_interval(*, sid: str, now: datetime | None = None) -> Attendance | None:
    """Stop counting the connection ``sid``; returns its attendance with the time recounted."""
    now = now or _now()
    interval = db.session.scalar(
        select(AttendanceInterval).where(
            AttendanceInterval.sid == sid, AttendanceInterval.left_at.is_(None)
        )
    )
    if interval is None:
        return None
    interval.left_at = now
    attendance = interval.attendance
    lecture = db.session.get(Lecture, attendance.lecture_id)
    assert lecture is not None
    attendance.last_seen_at = now
    _recount(attendance, lecture, now)
    db.session.flush()
    return attendance


def close_all_intervals(lecture: Lecture, *, now: datetime) -> None:
    open_ones = db.session.scalars(
        select(AttendanceInterval)
        .join(Attendance)
        .where(Attendance.lecture_id == lecture.id, AttendanceInterval.left_at.is_(None))
    )
    for interval in open_ones:
        interval.left_at = now
    db.session.flush()
    for attendance in db.session.scalars(select(Attendance).filter_by(lecture_id=lecture.id)):
        _recount(attendance, lecture, now)
    db.session.flush()


def training_share() -> float:
    return float(current_app.config.get("LIVE_TRAINING_SHARE", 0.8))


def lesson_share() -> float:
    return float(current_app.config.get("LIVE_LESSON_SHARE", 0.8))


def record_training_facts(lecture: Lecture) -> int:
    """After a training lecture: teachers who watched enough of it count as trained this term."""
    if not lecture.is_training or lecture.started_at is None or lecture.ended_at is None:
        return 0
    duration = (lecture.ended_at - lecture.started_at).total_seconds()
    term = org.current_term()
    if duration <= 0 or term is None:
        return 0
    needed = duration * training_share()
    recorded = 0
    for attendance in db.session.scalars(
        select(Attendance).filter_by(lecture_id=lecture.id, class_unit_id=None)
    ):
        if attendance.watched_seconds < needed:
            continue
        units = attendance.user.units_for(Role.TEACHER)
        if not units:
            continue
        if coverage.record_fact(FactKind.TEACHER_TRAINED, attendance.user_id, units[0], term):
            recorded += 1
    db.session.flush()
    return recorded


def record_lesson_completions(lecture: Lecture, *, now: datetime | None = None) -> int:
    """After a lecture linked to a course lesson: each person who watched at least the lesson
    share of it, and may learn that lesson, completes it through the courses service (so the
    course completion and its coverage fact follow the courses rules). Class screens count a
    headcount, not people, so they complete nothing. Returns how many completed it now."""
    if lecture.lesson_id is None or lecture.started_at is None or lecture.ended_at is None:
        return 0
    lesson = db.session.get(Lesson, lecture.lesson_id)
    duration = (lecture.ended_at - lecture.started_at).total_seconds()
    if lesson is None or duration <= 0:
        return 0
    needed = duration * lesson_share()
    completed = 0
    for attendance in db.session.scalars(
        select(Attendance).filter_by(lecture_id=lecture.id, class_unit_id=None)
    ):
        if attendance.watched_seconds < needed - 1e-6:
            continue
        if not permissions.can(attendance.user, "learn", lesson):
            continue
        if courses_service.complete_attended_lesson(user=attendance.user, lesson=lesson, now=now):
            completed += 1
    db.session.flush()
    return completed


def attendance_report(
    *, actor: User, lecture: Lecture, now: datetime | None = None
) -> dict[str, Any]:
    """Who watched and for how long; admins over part of the audience see their part only."""
    now = now or _now()
    whole = is_host(actor, lecture) or _admin_reach(actor, lecture) == "all"
    paths = admin_paths(actor)
    rows = []
    for attendance in db.session.scalars(
        select(Attendance).filter_by(lecture_id=lecture.id).order_by(Attendance.id)
    ):
        if not whole:
            units = [a.unit for a in attendance.user.roles]
            if attendance.class_unit is not None:
                units = [attendance.class_unit]
            if not any(u.path.startswith(p) for u in units for p in paths):
                continue
        live_now = any(i.left_at is None for i in attendance.intervals)
        if live_now:
            _recount(attendance, lecture, now)
        rows.append(
            {
                "user": {"id": attendance.user.id, "name": attendance.user.display_name},
                "class_screen": attendance.class_unit_id is not None,
                "class": (
                    {"id": attendance.class_unit.id, "name": attendance.class_unit.name}
                    if attendance.class_unit
                    else None
                ),
                "headcount": attendance.headcount,
                "watched_seconds": attendance.watched_seconds,
                "watching_now": live_now,
                "first_joined_at": attendance.first_joined_at.isoformat(),
            }
        )
    people = sum(1 for r in rows if not r["class_screen"])
    screens = [r for r in rows if r["class_screen"]]
    return {
        "lecture_id": lecture.id,
        "rows": rows,
        "people": people,
        "class_screens": len(screens),
        "class_headcount": sum(r["headcount"] or 0 for r in screens),
    }


def watching_now(lecture: Lecture) -> dict[str, int]:
    """How many screens and people are in the room right now."""
    rows = db.session.execute(
        select(Attendance.id, Attendance.class_unit_id, Attendance.headcount)
        .join(AttendanceInterval)
        .where(Attendance.lecture_id == lecture.id, AttendanceInterval.left_at.is_(None))
        .distinct()
    ).all()
    screens = [r for r in rows if r[1] is not None]
    return {
        "screens": len(rows),
        "people": len(rows) - len(screens) + sum(r[2] or 0 for r in screens),
    }
