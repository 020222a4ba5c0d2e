"""Appointments' pages: publishing a slot in local time, refusals shown on the form with nothing
written, booking, the private notes, the call page and its STUN/TURN configuration, the menu."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

import parents
from elearn.extensions import db
from parents.appointments import service
from parents.appointments.models import Appointment, AppointmentSlot
from tests.conftest import post_form, user

ZONE = ZoneInfo("Asia/Shanghai")


def local(days: int, hour: int, minute: int = 0) -> datetime:
    day = datetime.now(ZONE) + timedelta(days=days)
    return day.replace(hour=hour, minute=minute, second=0, microsecond=0)


def field(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")


def slots_of(app, username: str) -> list[AppointmentSlot]:
    with app.app_context():
        found = db.session.scalars(
            select(AppointmentSlot).where(AppointmentSlot.staff_id == user(username).id)
        ).all()
        db.session.expunge_all()
        return list(found)


def test_a_teacher_publishes_a_slot_in_local_time(app, signed_in):
    teacher = signed_in("teacher1")
    start = local(3, 16)
    made = post_form(
        teacher,
        "/appointments/slots",
        {
            "starts_at": field(start),
            "ends_at": field(start + timedelta(minutes=30)),
            "mode": "in_person",
            "place": "五年级办公室",
        },  # fmt: skip
    )
    assert made.status_code == 302
    [slot] = slots_of(app, "teacher1")
    assert slot.starts_at == start.astimezone(UTC) and slot.place == "五年级办公室"
    page = teacher.get("/appointments/slots").get_data(as_text=True)
    assert start.strftime("%Y-%m-%d 16:00–16:30") in page and "可预约" in page


@pytest.mark.parametrize(
    ("starts", "ends", "message"),
    [
        ("2020-01-01T09:00", "2020-01-01T09:30", "时段必须在将来开始"),
        (None, "end-before", "结束时间必须晚于开始时间"),
        ("tomorrow", "later", "请填写时段的日期和时间"),
    ],
)
def test_a_bad_slot_is_refused_on_the_form_and_nothing_is_written(
    app, signed_in, starts, ends, message
):
    start = local(3, 16)
    starts = starts or field(start)
    ends = field(start - timedelta(minutes=30)) if ends == "end-before" else ends
    refused = post_form(
        signed_in("teacher1"),
        "/appointments/slots",
        {"starts_at": starts, "ends_at": ends, "mode": "video"},
    )
    assert refused.status_code == 400
    assert message in refused.get_data(as_text=True)
    assert slots_of(app, "teacher1") == []


def test_booking_notes_and_the_call_page(app, signed_in):
    teacher, parent = signed_in("teacher1"), signed_in("parent1")
    start = local(4, 10)
    post_form(teacher, "/appointments/slots",
              {"starts_at": field(start), "ends_at": field(start + timedelta(minutes=20)),
               "mode": "video"})  # fmt: skip
    [slot] = slots_of(app, "teacher1")
    listed = parent.get("/appointments/book").get_data(as_text=True)
    assert "李老师" in listed and "视频通话" in listed
    empty = post_form(parent, f"/appointments/book/{slot.id}", {"reason": "  "})
    assert empty.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count(Appointment.id))) == 0
    booked = post_form(parent, f"/appointments/book/{slot.id}", {"reason": "孩子作业太多"})
    assert booked.status_code == 302
    path = booked.headers["Location"]
    assert re.fullmatch(r"/appointments/\d+", path)
    page = parent.get(path).get_data(as_text=True)
    assert "孩子作业太多" in page and "已确认" in page and "进入视频通话" in page
    assert 'name="notes"' not in page

    saved = post_form(teacher, f"{path}/notes", {"notes": "家长很关心孩子"})
    assert saved.status_code == 302
    assert "家长很关心孩子" in teacher.get(path).get_data(as_text=True)
    assert "家长很关心孩子" not in parent.get(path).get_data(as_text=True)
    assert post_form(parent, f"{path}/notes", {"notes": "改写"}).status_code == 404

    call = parent.get(f"{path}/call")
    assert call.status_code == 200
    config = json.loads(
        re.search(r'id="call-config">(.*?)</script>', call.get_data(as_text=True)).group(1)
    )
    assert config["caller"] is False and config["iceServers"] == []
    assert (
        json.loads(
            re.search(
                r'id="call-config">(.*?)</script>',
                teacher.get(f"{path}/call").get_data(as_text=True),
            ).group(1)  # fmt: skip
        )["caller"]
        is True
    )
    assert signed_in("school_admin").get(f"{path}/call").status_code == 404

    cancelled = post_form(parent, f"{path}/cancel", {"reason": "临时有事"})
    assert cancelled.status_code == 302
    assert "已取消" in parent.get(path).get_data(as_text=True)
    assert parent.get(f"{path}/call").status_code == 404


def test_an_in_person_appointment_has_no_call(app, ctx):
    start = datetime.now(UTC) + timedelta(days=5)
    slot = service.publish_slot(
        actor=user("teacher1"), starts_at=start, ends_at=start + timedelta(minutes=30),
        mode="in_person", place="办公室",
    )  # fmt: skip
    appointment = service.book(actor=user("parent1"), slot=slot, reason="面谈")
    assert not service.may_call(user("parent1"), appointment)


def test_the_menu_has_appointments_for_staff_and_guardians(signed_in):
    for name, shown in (("teacher1", True), ("parent1", True), ("student1", False)):
        page = signed_in(name).get("/").get_data(as_text=True)
        assert ('href="/appointments"' in page) is shown, name


def test_turn_credentials_are_signed_with_the_shared_secret(ctx):
    now = datetime(2030, 3, 1, 12, 0, tzinfo=UTC)
    servers = [
        {"urls": "stun:turn.example.org:3478"},
        {"urls": ["turn:turn.example.org:3478"]},
        {"urls": "turn:other.example.org", "username": "u", "credential": "p"},
    ]
    teacher = user("teacher1")
    signed = service.ice_servers(teacher, servers=servers, secret="s3cret", ttl=3600, now=now)
    assert signed[0] == servers[0] and signed[2] == servers[2]
    username = f"{int(now.timestamp()) + 3600}:{teacher.id}"
    expected = base64.b64encode(hmac.new(b"s3cret", username.encode(), hashlib.sha1).digest())
    assert signed[1] == {**servers[1], "username": username, "credential": expected.decode()}
    assert service.ice_servers(teacher, servers=servers, secret=None, ttl=3600, now=now) == servers


def test_the_ice_servers_setting_takes_a_json_list_of_servers():
    assert parents._ice_servers('[{"urls": "stun:a.example.org"}]') == [
        {"urls": "stun:a.example.org"}
    ]
    for bad in ("stun:a.example.org", "{}", '[{"url": "x"}]', '[{"urls": 1}]',
                '[{"urls": "x", "password": "p"}]'):  # fmt: skip
        with pytest.raises(ValueError, match="iceServers"):
            parents._ice_servers(bad)


def test_a_teacher_invites_a_guardian_and_withdraws_a_slot_from_the_page(app, signed_in):
    teacher = signed_in("teacher1")
    for days in (6, 7):
        start = local(days, 15)
        post_form(teacher, "/appointments/slots",
                  {"starts_at": field(start), "ends_at": field(start + timedelta(minutes=20)),
                   "mode": "video"})  # fmt: skip
    first, second = sorted(slots_of(app, "teacher1"), key=lambda s: s.starts_at)
    page = teacher.get("/appointments/slots").get_data(as_text=True)
    assert "邀请家长" in page and "王爸爸" in page  # parent1, a guardian of the class
    with app.app_context():
        parent_id, stranger_id = user("parent1").id, user("g_S0102_7_01").id
    refused = post_form(teacher, f"/appointments/slots/{first.id}/invite",
                        {"guardian_id": str(stranger_id), "reason": "期中"})  # fmt: skip
    assert refused.status_code == 302 and refused.headers["Location"] == "/appointments/slots"
    invited = post_form(teacher, f"/appointments/slots/{first.id}/invite",
                        {"guardian_id": str(parent_id), "reason": "期中成绩"})  # fmt: skip
    assert invited.status_code == 302
    parent_page = signed_in("parent1").get(invited.headers["Location"]).get_data(as_text=True)
    assert "老师邀请" in parent_page and "期中成绩" in parent_page
    other = signed_in("t_S0101_5")
    assert post_form(other, f"/appointments/slots/{second.id}/withdraw").status_code == 404
    assert post_form(teacher, f"/appointments/slots/{second.id}/withdraw").status_code == 302
    assert [s.id for s in slots_of(app, "teacher1") if s.withdrawn_at is None] == [first.id]


def test_the_reminder_task_reminds_once(app, ctx):
    from parents.appointments import tasks

    start = datetime.now(UTC) + timedelta(minutes=40)
    slot = service.publish_slot(
        actor=user("teacher1"), starts_at=start, ends_at=start + timedelta(minutes=30),
        mode="video",
    )  # fmt: skip
    service.book(actor=user("parent1"), slot=slot, reason="提醒")
    assert tasks.send_reminders.apply().get() == 1
    assert tasks.send_reminders.apply().get() == 0
    assert "parents.appointment_reminders" in app.config["CELERY"]["beat_schedule"]
