"""Appointments (约谈), called directly: publishing slots, who may book whose slot, inviting,
cancelling, notes, reminders, who may call, and the double booking that exactly one of two
guardians wins, with two database sessions at once."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import scoped_session, sessionmaker

from elearn import uow
from elearn.extensions import db
from elearn.models import Notification
from elearn.models._types import utcnow
from elearn.service.errors import ServiceError
from parents.appointments import queries, service
from parents.appointments.models import (
    MAX_REASON,
    Appointment,
    AppointmentSlot,
    AppointmentStatus,
    SlotMode,
)
from tests.parents.helpers import user

WAIT = 30.0


def later(hours: float = 24) -> tuple:
    start = utcnow().replace(microsecond=0) + timedelta(hours=hours)
    return start, start + timedelta(minutes=30)


def a_slot(username: str = "teacher1", *, hours: float = 24, mode: str = SlotMode.VIDEO):
    start, end = later(hours)
    return service.publish_slot(
        actor=user(username),
        starts_at=start,
        ends_at=end,
        mode=mode,
        place="五年级办公室" if mode == SlotMode.IN_PERSON else "",
    )


def notices(username: str, kind: str) -> int:
    return db.session.scalar(
        select(func.count(Notification.id)).where(
            Notification.user_id == user(username).id, Notification.kind == kind
        )
    )


# --- publishing ------------------------------------------------------------------------------------


def test_a_teacher_and_a_school_admin_publish_slots(ctx):
    slot = a_slot()
    assert slot.staff_id == user("teacher1").id and slot.capacity == 1 and slot.is_video
    office = a_slot("school_admin", mode=SlotMode.IN_PERSON)
    assert office.place == "五年级办公室"


@pytest.mark.parametrize("username", ["parent1", "student1", "expert1"])
def test_only_staff_publish(ctx, username):
    start, end = later()
    with pytest.raises(ServiceError) as refused:
        service.publish_slot(actor=user(username), starts_at=start, ends_at=end, mode="video")
    assert refused.value.status == 403


@pytest.mark.parametrize(
    ("shift", "length", "mode", "place"),
    [
        (-1, 30, "video", ""),  # in the past
        (24, -30, "video", ""),  # ends before it starts
        (24, 0, "video", ""),  # ends as it starts
        (24, 60 * 5, "video", ""),  # five hours
        (24, 30, "in_person", ""),  # in person, nowhere
        (24, 30, "in_person", "办" * 201),  # a place too long
        (24, 30, "phone", ""),  # no such mode
        (24 * 400, 30, "video", ""),  # more than half a year ahead
    ],
)
def test_bad_slots_are_refused_and_nothing_is_written(ctx, shift, length, mode, place):
    before = db.session.scalar(select(func.count(AppointmentSlot.id)))
    start = utcnow() + timedelta(hours=shift)
    with pytest.raises(ServiceError) as refused:
        service.publish_slot(
            actor=user("teacher1"),
            starts_at=start,
            ends_at=start + timedelta(minutes=length),
            mode=mode,
            place=place,
        )
    assert refused.value.status == 400, refused.value.message
    assert db.session.scalar(select(func.count(AppointmentSlot.id))) == before


def test_overlapping_slots_of_one_teacher_are_refused(ctx):
    slot = a_slot()
    with pytest.raises(ServiceError) as refused:
        service.publish_slot(
            actor=user("teacher1"),
            starts_at=slot.starts_at + timedelta(minutes=10),
            ends_at=slot.ends_at + timedelta(minutes=10),
            mode="video",
        )
    assert refused.value.status == 409


# --- booking ---------------------------------------------------------------------------------------


def test_a_guardian_books_a_slot_of_their_childs_teacher_and_both_are_told(ctx):
    slot = a_slot()
    assert slot in queries.open_slots(user("parent1"))
    appointment = service.book(actor=user("parent1"), slot=slot, reason="孩子最近情绪低落")
    assert appointment.status == AppointmentStatus.CONFIRMED and not appointment.invited
    assert notices("parent1", "appointment.confirmed") == 1
    assert notices("teacher1", "appointment.confirmed") == 1
    assert slot not in queries.open_slots(user("g_S0101_5_02"))
    assert [a.id for a in queries.mine(user("parent1"))] == [appointment.id]
    assert [a.id for a in queries.mine(user("teacher1"))] == [appointment.id]
    [(listed, booked)] = queries.staff_slots(user("teacher1"))
    assert listed.id == slot.id and booked.id == appointment.id


def test_a_slot_of_staff_the_guardian_may_not_message_is_not_theirs_to_see(ctx):
    slot = a_slot("t_S0101_6")  # another class's teacher
    assert slot not in queries.open_slots(user("parent1"))
    with pytest.raises(ServiceError) as refused:
        service.book(actor=user("parent1"), slot=slot, reason="想了解情况")
    assert refused.value.status == 404
    with pytest.raises(ServiceError) as refused:
        service.visible_slot(user("parent1"), slot.id)
    assert refused.value.status == 404
    assert db.session.scalar(select(func.count(Appointment.id))) == 0


def test_only_guardians_book(ctx):
    slot = a_slot()
    with pytest.raises(ServiceError) as refused:
        service.book(actor=user("student1"), slot=slot, reason="我想聊聊")
    assert refused.value.status == 404


@pytest.mark.parametrize("reason", ["", "   ", "长" * (MAX_REASON + 1), "a\x00b"])
def test_a_booking_needs_a_reason_of_sensible_length(ctx, reason):
    slot = a_slot()
    with pytest.raises(ServiceError) as refused:
        service.book(actor=user("parent1"), slot=slot, reason=reason)
    assert refused.value.status == 400
    assert db.session.scalar(select(func.count(Appointment.id))) == 0


def test_a_started_or_withdrawn_slot_cannot_be_booked(ctx):
    slot = a_slot(hours=1)
    with pytest.raises(ServiceError) as refused:
        service.book(actor=user("parent1"), slot=slot, reason="想聊聊", now=slot.starts_at)
    assert refused.value.status == 409
    service.withdraw_slot(actor=user("teacher1"), slot=slot)
    with pytest.raises(ServiceError) as refused:
        service.book(actor=user("parent1"), slot=slot, reason="想聊聊")
    assert refused.value.status == 409
    assert slot not in queries.open_slots(user("parent1"))


def test_a_taken_slot_is_a_409(ctx):
    slot = a_slot()
    service.book(actor=user("parent1"), slot=slot, reason="第一位")
    with pytest.raises(ServiceError) as refused:
        service.book(actor=user("g_S0101_5_02"), slot=slot, reason="第二位")
    assert refused.value.status == 409
    assert db.session.scalar(select(func.count(Appointment.id))) == 1


def test_a_teacher_invites_a_guardian_they_may_message(ctx):
    slot = a_slot()
    appointment = service.invite(
        actor=user("teacher1"), slot=slot, guardian=user("parent1"), reason="期中成绩"
    )
    assert appointment.invited and appointment.guardian_id == user("parent1").id
    assert notices("parent1", "appointment.confirmed") == 1
    other = a_slot(hours=30)
    with pytest.raises(ServiceError) as refused:  # another class's guardian
        service.invite(
            actor=user("teacher1"), slot=other, guardian=user("g_S0101_6_01"), reason="期中成绩"
        )
    assert refused.value.status == 404
    with pytest.raises(ServiceError) as refused:  # someone else's slot
        service.invite(
            actor=user("t_S0101_5"), slot=other, guardian=user("parent1"), reason="期中成绩"
        )
    assert refused.value.status == 404


# --- cancelling, notes, calls, reminders -----------------------------------------------------------


def test_cancelling_keeps_the_row_tells_the_other_side_and_reopens_the_slot(ctx):
    slot = a_slot()
    appointment = service.book(actor=user("parent1"), slot=slot, reason="想聊聊")
    service.cancel(actor=user("parent1"), appointment=appointment, reason="临时有事")
    assert appointment.status == AppointmentStatus.CANCELLED
    assert appointment.cancelled_by_id == user("parent1").id and appointment.cancelled_at
    assert appointment.cancel_reason == "临时有事"
    assert notices("teacher1", "appointment.cancelled") == 1
    with pytest.raises(ServiceError) as refused:
        service.cancel(actor=user("teacher1"), appointment=appointment)
    assert refused.value.status == 409
    with pytest.raises(ServiceError) as refused:
        service.cancel(actor=user("school_admin"), appointment=appointment)
    assert refused.value.status == 404
    assert slot in queries.open_slots(user("g_S0101_5_02"))
    again = service.book(actor=user("g_S0101_5_02"), slot=slot, reason="轮到我")
    assert again.is_confirmed
    assert db.session.scalar(select(func.count(Appointment.id))) == 2


def test_notes_are_the_staff_members_alone(ctx):
    appointment = service.book(actor=user("parent1"), slot=a_slot(), reason="想聊聊")
    service.save_notes(actor=user("teacher1"), appointment=appointment, notes="家长很配合")
    assert service.notes_for(user("teacher1"), appointment) == "家长很配合"
    assert service.notes_for(user("parent1"), appointment) is None
    for username in ("parent1", "school_admin"):
        with pytest.raises(ServiceError) as refused:
            service.save_notes(actor=user(username), appointment=appointment, notes="x")
        assert refused.value.status == 404
    with pytest.raises(ServiceError):
        service.save_notes(actor=user("teacher1"), appointment=appointment, notes="长" * 5001)


def test_only_the_two_parties_of_a_confirmed_video_appointment_may_call(ctx):
    video = service.book(actor=user("parent1"), slot=a_slot(), reason="视频")
    assert service.may_call(user("parent1"), video) and service.may_call(user("teacher1"), video)
    assert not service.may_call(user("school_admin"), video)
    assert not service.may_call(user("parent1"), video, now=video.slot.ends_at)
    in_person = service.book(
        actor=user("parent1"), slot=a_slot(hours=30, mode="in_person"), reason="面谈"
    )
    assert not service.may_call(user("parent1"), in_person)
    service.cancel(actor=user("teacher1"), appointment=video)
    assert not service.may_call(user("parent1"), video)


def test_reminders_go_out_once_within_the_hour(ctx):
    soon = service.book(actor=user("parent1"), slot=a_slot(hours=0.5), reason="提醒")
    service.book(actor=user("parent1"), slot=a_slot(hours=5), reason="还早")
    assert service.send_due_reminders() == 1
    assert service.send_due_reminders() == 0
    db.session.refresh(soon)
    assert soon.reminded_at is not None
    assert notices("parent1", "appointment.reminder") == 1
    assert notices("teacher1", "appointment.reminder") == 1


# --- two guardians at once -------------------------------------------------------------------------


@pytest.fixture
def committed_slot(app):
    """A slot of teacher1's committed outside the test's transaction (so that other database
    sessions see it), and removed afterwards with what was booked in it."""
    with app.app_context():
        engine_session = sessionmaker(bind=db.engine)
        session = engine_session()
        teacher_id = session.scalar(text("SELECT id FROM users WHERE username = 'teacher1'"))
        start, end = later(48)
        slot = AppointmentSlot(
            staff_id=teacher_id, starts_at=start, ends_at=end, mode="video", place=""
        )
        session.add(slot)
        session.commit()
        slot_id = slot.id
        session.close()
    yield slot_id
    with app.app_context():
        session = engine_session()
        ids = session.scalars(select(Appointment.id).where(Appointment.slot_id == slot_id)).all()
        for appointment_id in ids:
            session.execute(
                delete(Notification).where(Notification.link == f"/appointments/{appointment_id}")
            )
        session.execute(delete(Appointment).where(Appointment.slot_id == slot_id))
        session.execute(delete(AppointmentSlot).where(AppointmentSlot.id == slot_id))
        session.commit()
        session.close()


@pytest.fixture
def own_sessions(app):
    """``db.session`` as in production for this test: one session (and connection) a thread."""
    test_session = db.session
    with app.app_context():
        engine = db.engine
    db.session = scoped_session(sessionmaker(bind=engine))
    try:
        yield
    finally:
        db.session = test_session


def _attempt(app, username: str, slot_id: int, results: dict, steps: dict) -> None:
    """Book as ``username`` in this thread's own session, committing as a request does."""
    with app.test_request_context():
        try:
            steps.get(f"{username}:before", lambda: None)()
            slot = db.session.get(AppointmentSlot, slot_id)
            appointment = service.book(actor=user(username), slot=slot, reason="同时预约")
            steps.get(f"{username}:flushed", lambda: None)()
            uow.commit()
            results[username] = ("booked", appointment.id)
        except ServiceError as refused:
            uow.rollback()
            results[username] = (refused.status, refused.message)
        except Exception as error:  # noqa: BLE001 - reported by the test
            uow.rollback()
            results[username] = ("error", repr(error))
        finally:
            db.session.remove()


def _waiting_on_a_lock(engine, pid: int) -> bool:
    # not in an app context of its own: leaving one would end this thread's session
    with engine.connect() as conn:
        return bool(
            conn.scalar(
                text("SELECT count(*) FROM pg_locks WHERE pid = :pid AND NOT granted"),
                {"pid": pid},
            )
        )


def test_two_guardians_at_once_the_second_waits_on_the_first_and_gets_a_409(
    app, committed_slot, own_sessions
):
    """The first guardian's booking is written, not yet committed; the second's passes the
    check (it cannot see the first's row), and its insert waits on the unique index until the
    first commits: then it fails, and is a 409. Exactly one appointment stands."""
    results: dict = {}
    with app.app_context():
        engine = db.engine
    first_flushed = threading.Event()
    second_pid: list[int] = []

    def second_before() -> None:
        first_flushed.wait(WAIT)
        raw = db.session.connection().connection.dbapi_connection
        second_pid.append(raw.info.backend_pid)

    def first_flushed_then_wait_for_the_second() -> None:
        first_flushed.set()
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:  # the second's insert blocks on our index entry
            if second_pid and _waiting_on_a_lock(engine, second_pid[0]):
                return
            time.sleep(0.05)
        raise AssertionError("the second booking never waited on the first")

    steps = {
        "g_S0101_5_02:before": second_before,
        "parent1:flushed": first_flushed_then_wait_for_the_second,
    }
    threads = [
        threading.Thread(target=_attempt, args=(app, name, committed_slot, results, steps))
        for name in ("parent1", "g_S0101_5_02")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT * 2)
    assert results["parent1"][0] == "booked", results
    assert results["g_S0101_5_02"][0] == 409, results
    assert "booked this slot" in results["g_S0101_5_02"][1] or "预约" in results["g_S0101_5_02"][1]
    with app.app_context():
        rows = db.session.scalars(
            select(Appointment).where(Appointment.slot_id == committed_slot)
        ).all()
        assert [(a.guardian.username, a.status) for a in rows] == [("parent1", "confirmed")]
        db.session.remove()


def test_two_guardians_released_together_exactly_one_wins(app, committed_slot, own_sessions):
    results: dict = {}
    barrier = threading.Barrier(2, timeout=WAIT)
    steps = {
        "parent1:before": barrier.wait,
        "g_S0101_5_02:before": barrier.wait,
    }
    threads = [
        threading.Thread(target=_attempt, args=(app, name, committed_slot, results, steps))
        for name in ("parent1", "g_S0101_5_02")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT * 2)
    outcomes = sorted(str(result[0]) for result in results.values())
    assert outcomes == ["409", "booked"], results
    with app.app_context():
        count = db.session.scalar(
            select(func.count(Appointment.id)).where(
                Appointment.slot_id == committed_slot,
                Appointment.status == AppointmentStatus.CONFIRMED,
            )
        )
        assert count == 1
        db.session.remove()
