"""Quiet hours (免打扰), the school office's urgent line, delivery receipts and the audited
export of a conversation's record: called as use cases (with the clock given) and through the
API and pages."""

from __future__ import annotations

import io
from datetime import UTC, datetime, time, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from elearn.extensions import db
from elearn.localtime import to_local
from elearn.models import AuditEvent, Notification
from elearn.models._types import utcnow
from elearn.service import delivery as channels
from elearn.service.errors import ServiceError
from parents.interaction import queries, quiet, service
from parents.interaction.models import (
    ConversationKind,
    Message,
    MessageStatus,
    QuietHours,
)
from tests.conftest import csrf_token
from tests.parents.helpers import user
from tests.parents.test_service import room, rooms_told

# 22:30 and 06:59 in Asia/Shanghai (the installation's zone in the tests), and 07:00 after
NIGHT = datetime(2026, 12, 7, 14, 30, tzinfo=UTC)
DAWN = datetime(2026, 12, 7, 22, 59, tzinfo=UTC)
MORNING = datetime(2026, 12, 7, 23, 0, tzinfo=UTC)
NOON = datetime(2026, 12, 8, 4, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def default_quiet_hours(app):
    """The installation's default, 21:00–07:00 (the rest of the suite runs with none)."""
    before = app.config["MESSAGES_QUIET_HOURS"]
    app.config["MESSAGES_QUIET_HOURS"] = (time(21), time(7))
    yield
    app.config["MESSAGES_QUIET_HOURS"] = before


@pytest.fixture
def direct(ctx):
    return service.start_conversation(actor=user("teacher1"), participants=[user("parent1")])


def unread(name: str) -> int:
    return service.unread_total(user(name))


# --- the hours themselves ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("starts", "ends", "moment", "quiet_until"),
    [
        (time(21), time(7), NIGHT, MORNING),
        (time(21), time(7), DAWN, MORNING),
        (time(21), time(7), MORNING, None),
        (time(21), time(7), NOON, None),
        # within one day (a lunch break): 12:00–13:30 local
        (time(12), time(13, 30), NOON, datetime(2026, 12, 8, 5, 30, tzinfo=UTC)),
        (time(12), time(13, 30), NIGHT, None),
        (time(8), time(8), NOON, None),  # a start equal to the end: none
    ],
)
def test_a_period_is_read_on_the_installations_clock(ctx, starts, ends, moment, quiet_until):
    period = quiet.Hours(True, starts, ends, None).period(moment)
    assert (period[1] if period else None) == quiet_until
    if period:
        assert period[0] <= moment < period[1]
    assert quiet.Hours(False, starts, ends, None).period(moment) is None


def test_families_have_no_quiet_hours_and_staff_have_the_default(ctx):
    assert quiet.hours_of(user("parent1")) is None
    assert quiet.hours_of(user("student1")) is None
    assert quiet.hours_of(user("teacher1")) == quiet.DEFAULT
    with pytest.raises(ServiceError) as refused:
        quiet.set_hours(
            actor=user("parent1"), is_enabled=True, starts=time(21), ends=time(7), auto_reply=None
        )
    assert refused.value.status == 403
    with pytest.raises(ServiceError) as same:
        quiet.set_hours(
            actor=user("teacher1"), is_enabled=True, starts=time(9), ends=time(9), auto_reply=None
        )
    assert same.value.status == 422
    assert db.session.get(QuietHours, user("teacher1").id) is None


# --- a message at night -----------------------------------------------------------------------------


def test_a_message_at_night_waits_with_one_automatic_reply_and_arrives_at_seven(direct):
    first = service.post_message(
        actor=user("parent1"), conversation=direct, text="老师好", now=NIGHT
    )
    assert first.status == MessageStatus.WAITING
    assert first.deliver_at == MORNING
    # its sender hears of it and of the automatic reply; the teacher hears of nothing yet
    told = rooms_told()
    assert [(rooms, data["message"]["status"]) for rooms, data in told] == [
        ([room("parent1")], "waiting"),
        (sorted([room("parent1"), room("teacher1")]), "delivered"),
    ]
    reply = db.session.get(Message, told[1][1]["message"]["id"])
    assert reply.is_automatic and reply.sender_id == user("teacher1").id
    assert "07:00" in reply.text and "学校办公室" in reply.text
    second = service.post_message(
        actor=user("parent1"),
        conversation=direct,
        text="还有一件事",
        now=NIGHT + timedelta(hours=1),
    )
    assert second.status == MessageStatus.WAITING
    automatic = select(func.count(Message.id)).where(
        Message.conversation_id == direct.id, Message.is_automatic.is_(True)
    )
    assert db.session.scalar(automatic) == 1  # once a night
    # the teacher sees neither waiting message, and has nothing unread but the automatic reply's
    # own (theirs); the parent sees both with their status
    teacher_sees = queries.visible_messages(user("teacher1"), direct)
    assert [m.id for m in teacher_sees] == [reply.id]
    assert unread("teacher1") == 0
    assert {m.id: m.status for m in queries.visible_messages(user("parent1"), direct)} == {
        first.id: "waiting",
        reply.id: "delivered",
        second.id: "waiting",
    }
    assert service.deliver_waiting(now=DAWN) == 0
    assert service.deliver_waiting(now=MORNING) == 2
    assert first.status == second.status == MessageStatus.DELIVERED
    assert unread("teacher1") == 2
    # and the next night, one automatic reply again
    service.post_message(
        actor=user("parent1"), conversation=direct, text="明晚", now=NIGHT + timedelta(days=1)
    )
    assert db.session.scalar(automatic) == 2


def test_a_message_by_day_or_to_a_teacher_without_quiet_hours_is_delivered(direct):
    assert (
        service.post_message(
            actor=user("parent1"), conversation=direct, text="中午好", now=NOON
        ).status
        == MessageStatus.DELIVERED
    )
    quiet.set_hours(
        actor=user("teacher1"), is_enabled=False, starts=time(21), ends=time(7), auto_reply=None
    )
    at_night = service.post_message(
        actor=user("parent1"), conversation=direct, text="晚上好", now=NIGHT
    )
    assert at_night.status == MessageStatus.DELIVERED


def test_an_installation_without_default_quiet_hours_delivers_at_night(app, direct):
    app.config["MESSAGES_QUIET_HOURS"] = quiet.parse_default("off")
    at_night = service.post_message(
        actor=user("parent1"), conversation=direct, text="晚上好", now=NIGHT
    )
    assert at_night.status == MessageStatus.DELIVERED
    assert quiet.parse_default("22:00-06:30") == (time(22), time(6, 30))
    for wrong in ("22:00", "25:00-07:00", "07:00-07:00", "晚上"):
        with pytest.raises(ValueError):
            quiet.parse_default(wrong)


def test_a_teachers_own_words_are_the_automatic_reply(direct):
    quiet.set_hours(
        actor=user("teacher1"),
        is_enabled=True,
        starts=time(20),
        ends=time(6, 30),
        auto_reply="我已下班，明早回复。",
    )
    waiting = service.post_message(
        actor=user("parent1"), conversation=direct, text="在吗", now=NIGHT
    )
    assert aware_local(waiting.deliver_at) == "06:30"
    [reply] = db.session.scalars(select(Message).where(Message.is_automatic.is_(True))).all()
    assert reply.text == "我已下班，明早回复。"


def aware_local(moment: datetime) -> str:
    local = to_local(moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment)
    return local.strftime("%H:%M")


def test_a_teacher_at_work_at_night_gets_what_waited(direct):
    waiting = service.post_message(
        actor=user("parent1"), conversation=direct, text="在吗", now=NIGHT
    )
    answer = service.post_message(
        actor=user("teacher1"), conversation=direct, text="在的", now=NIGHT
    )
    # the teacher wrote in the conversation: the parent's message arrived first, in order
    assert waiting.status == MessageStatus.DELIVERED
    assert answer.status == MessageStatus.DELIVERED  # a parent has no quiet hours
    assert waiting.id < answer.id


def test_staff_to_staff_waits_too_and_a_class_broadcast_never_does(ctx):
    school_admin = user("school_admin")
    colleagues = service.start_conversation(actor=school_admin, participants=[user("teacher1")])
    late = service.post_message(
        actor=school_admin, conversation=colleagues, text="明天开会", now=NIGHT
    )
    assert late.status == MessageStatus.WAITING
    klass = next(a.unit for a in user("teacher1").roles if a.unit.type == "class")
    broadcast = service.start_class_broadcast(actor=user("teacher1"), klass=klass)
    sent = service.post_message(
        actor=user("teacher1"), conversation=broadcast, text="通知", now=NIGHT
    )
    assert sent.status == MessageStatus.DELIVERED


def test_a_held_message_stays_held_at_night_and_a_waiting_one_can_be_recalled(direct):
    held = service.post_message(
        actor=user("parent1"), conversation=direct, text="出售冰毒 加微信", now=NIGHT
    )
    assert held.status == MessageStatus.HELD
    waiting = service.post_message(
        actor=user("parent1"), conversation=direct, text="发错了", now=NIGHT
    )
    service.recall(actor=user("parent1"), message=waiting, now=NIGHT + timedelta(minutes=1))
    assert waiting.status == MessageStatus.RECALLED
    assert service.deliver_waiting(now=MORNING) == 0


# --- the school office ------------------------------------------------------------------------------


def test_the_school_office_never_waits_and_alerts_on_every_channel(ctx):
    parent = user("parent1")
    [school] = service.office_schools(parent)
    line = service.office_conversation(actor=parent, school=school)
    assert line.kind == ConversationKind.OFFICE
    assert user("school_admin").id in {m.user_id for m in line.members}
    assert service.office_conversation(actor=parent, school=school).id == line.id
    urgent = service.post_message(actor=parent, conversation=line, text="孩子没到家", now=NIGHT)
    assert urgent.status == MessageStatus.DELIVERED
    [notice] = db.session.scalars(
        select(Notification).where(
            Notification.user_id == user("school_admin").id,
            Notification.kind == "safety.urgent_message",
        )
    ).all()
    assert "孩子没到家" in notice.body
    # a safety notice: at once, whatever the admin chose for messages
    assert channels.category_of(notice.kind) == channels.SAFETY


def test_another_schools_office_is_not_reachable(ctx):
    from tests.conftest import unit_by_code

    other = unit_by_code("S0102")
    with pytest.raises(ServiceError) as refused:
        service.office_conversation(actor=user("parent1"), school=other)
    assert refused.value.status == 404
    assert service.office_schools(user("school_admin")) == []


# --- receipts ---------------------------------------------------------------------------------------


def test_delivery_receipts_never_pass_what_the_member_may_see(direct):
    said = service.post_message(actor=user("teacher1"), conversation=direct, text="您好", now=NOON)
    held = service.post_message(
        actor=user("teacher1"), conversation=direct, text="出售冰毒 加微信", now=NOON
    )
    mark = service.mark_delivered(
        actor=user("parent1"), conversation=direct, message_id=held.id + 1000
    )
    assert mark == said.id  # not the held one, nor beyond
    assert rooms_told("delivered")[-1] == (
        [room("teacher1")],
        {"conversation_id": direct.id, "user_id": user("parent1").id, "message_id": said.id},
    )
    assert (
        service.mark_delivered(actor=user("parent1"), conversation=direct, message_id=1) == said.id
    )
    with pytest.raises(ServiceError):
        service.mark_delivered(actor=user("student1"), conversation=direct, message_id=said.id)


# --- through the API and the pages --------------------------------------------------------------------


def post(client, path, body=None, method="post"):
    return getattr(client, method)(
        path, json=body or {}, headers={"X-CSRFToken": csrf_token(client, "/")}
    )


def test_quiet_hours_through_the_api(app, signed_in):
    teacher, parent = signed_in("teacher1"), signed_in("parent1")
    assert teacher.get("/api/v1/quiet-hours").get_json() == {
        "enabled": True,
        "starts": "21:00",
        "ends": "07:00",
        "auto_reply": None,
    }
    refused = parent.get("/api/v1/quiet-hours")
    assert refused.status_code == 403 and "教职工" in refused.get_json()["message"]
    bad = post(
        teacher, "/api/v1/quiet-hours", {"enabled": True, "starts": "25:00", "ends": "07:00"}, "put"
    )
    assert bad.status_code == 422 and "21:00" in str(bad.get_json())
    same = post(
        teacher, "/api/v1/quiet-hours", {"enabled": True, "starts": "08:00", "ends": "08:00"}, "put"
    )
    assert same.status_code == 422
    # quiet right now: from an hour ago to an hour ahead (local)
    with app.app_context():
        local = to_local(utcnow())
    starts = (local - timedelta(hours=1)).strftime("%H:%M")
    ends = (local + timedelta(hours=1)).strftime("%H:%M")
    saved = post(
        teacher,
        "/api/v1/quiet-hours",
        {"enabled": True, "starts": starts, "ends": ends, "auto_reply": "晚点回复"},
        "put",
    )
    assert saved.status_code == 200 and saved.get_json()["starts"] == starts
    with app.app_context():
        teacher_id = user("teacher1").id
    made = post(parent, "/api/v1/conversations", {"participant_ids": [teacher_id]})
    conversation_id = made.get_json()["id"]
    sent = post(parent, f"/api/v1/conversations/{conversation_id}/messages", {"text": "老师在吗"})
    assert sent.status_code == 201
    assert sent.get_json()["status"] == "waiting" and sent.get_json()["deliver_at"]
    seen = parent.get(f"/api/v1/conversations/{conversation_id}/messages").get_json()["items"]
    assert [(m["status"], m["automatic"], m["text"]) for m in seen] == [
        ("waiting", False, "老师在吗"),
        ("delivered", True, "晚点回复"),
    ]
    assert teacher.get(f"/api/v1/messages/{sent.get_json()['id']}/read").status_code == 405
    assert post(teacher, f"/api/v1/messages/{sent.get_json()['id']}/read").status_code == 404


def test_the_office_through_the_api_and_the_page(app, signed_in):
    parent = signed_in("parent1")
    schools = parent.get("/api/v1/school-office").get_json()["items"]
    assert len(schools) == 1
    sent = post(parent, "/api/v1/school-office/messages", {"text": "急事"})
    assert sent.status_code == 201 and sent.get_json()["status"] == "delivered"
    wrong = post(parent, "/api/v1/school-office/messages", {"text": "急事", "school_id": 2**31 - 1})
    assert wrong.status_code == 404
    assert signed_in("teacher1").get("/messages/office").status_code == 404
    page = parent.get("/messages/office")
    assert page.status_code == 200 and "紧急联系学校办公室" in page.get_data(as_text=True)
    posted = parent.post(
        "/messages/office",
        data={
            "csrf_token": csrf_token(parent, "/messages/office"),
            "school_id": schools[0]["id"],
            "text": "<script>alert(1)</script>",
        },
    )
    assert posted.status_code == 302
    thread = parent.get(posted.headers["Location"]).get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in thread


def test_the_quiet_hours_page(app, signed_in):
    teacher = signed_in("teacher1")
    page = teacher.get("/messages/quiet-hours")
    assert page.status_code == 200 and "免打扰时段" in page.get_data(as_text=True)
    saved = teacher.post(
        "/messages/quiet-hours",
        data={
            "csrf_token": csrf_token(teacher, "/messages/quiet-hours"),
            "enabled": "y",
            "starts": "22:00",
            "ends": "06:00",
            "auto_reply": "",
        },
    )
    assert saved.status_code == 302
    assert teacher.get("/api/v1/quiet-hours").get_json()["starts"] == "22:00"
    same = teacher.post(
        "/messages/quiet-hours",
        data={
            "csrf_token": csrf_token(teacher, "/messages/quiet-hours"),
            "enabled": "y",
            "starts": "22:00",
            "ends": "22:00",
        },
    )
    assert same.status_code == 400 and "不能与开始时间相同" in same.get_data(as_text=True)
    assert signed_in("parent1").get("/messages/quiet-hours").status_code == 404


def test_the_export_holds_the_whole_record_and_is_audited(app, signed_in):
    with app.test_request_context():
        from elearn import uow

        with uow.unit():
            line = service.start_conversation(
                actor=user("teacher1"), participants=[user("parent1")]
            )
            service.post_message(actor=user("teacher1"), conversation=line, text="=HYPERLINK(1)")
            held = service.post_message(
                actor=user("parent1"), conversation=line, text="出售冰毒 加微信"
            )
            gone = service.post_message(actor=user("parent1"), conversation=line, text="撤回的话")
            service.recall(actor=user("parent1"), message=gone)
            conversation_id, held_id = line.id, held.id
    admin = signed_in("school_admin")
    # the admin finds it on the review page (a message of it is held), and does not read it there
    page = admin.get("/messages/review").get_data(as_text=True)
    assert f"/messages/{conversation_id}/export" in page and "导出完整记录" in page
    token = csrf_token(admin, "/messages/review")
    response = admin.post(f"/messages/{conversation_id}/export", data={"csrf_token": token})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    )
    book = load_workbook(io.BytesIO(response.data))
    rows = list(book["消息"].iter_rows(values_only=True))
    texts = {row[4]: row[3] for row in rows[1:]}
    assert texts == {"=HYPERLINK(1)": "已送达", "出售冰毒 加微信": "等待审核", "撤回的话": "已撤回"}
    cell = next(c for c in book["消息"]["E"] if c.value == "=HYPERLINK(1)")
    assert cell.data_type == "s"  # the record, never a formula
    assert any(row[0] == held_id and row[7] for row in rows[1:])
    with app.app_context():
        [event] = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "parents.conversation_exported")
        ).all()
        assert event.target_id == str(conversation_id) and event.details["messages"] == 3
    # a member who is no admin, and an admin of another county, get nothing and leave no trace
    teacher = signed_in("teacher1")
    assert "导出完整记录" not in teacher.get(f"/messages/{conversation_id}").get_data(as_text=True)
    refused = teacher.post(
        f"/messages/{conversation_id}/export",
        data={"csrf_token": csrf_token(teacher, f"/messages/{conversation_id}")},
    )
    assert refused.status_code == 404
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count(AuditEvent.id)).where(
                    AuditEvent.action == "parents.conversation_exported"
                )
            )
            == 1
        )
