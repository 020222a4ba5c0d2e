"""The messaging API: conversations, messages, reads, reports, recall, the keyword hold, and
refusals that say why (in Chinese, the default language) with nothing half-written."""

from __future__ import annotations

from sqlalchemy import func, select

from elearn.extensions import db
from parents.interaction.models import Conversation, Message
from tests.conftest import csrf_token, unit_by_code, user


def post(client, path: str, body: dict | None = None):
    return client.post(path, json=body or {}, headers={"X-CSRFToken": csrf_token(client, "/")})


def ids(app, *names: str) -> list[int]:
    with app.app_context():
        return [user(name).id for name in names]


def counts(app) -> tuple[int, int]:
    with app.app_context():
        return (
            db.session.scalar(select(func.count(Conversation.id))),
            db.session.scalar(select(func.count(Message.id))),
        )


def test_teacher_and_parent_write_read_and_count_unread(app, signed_in):
    teacher, parent = signed_in("teacher1"), signed_in("parent1")
    [parent_id] = ids(app, "parent1")
    made = post(teacher, "/api/v1/conversations", {"participant_ids": [parent_id]})
    assert made.status_code == 201, made.get_json()
    conversation_id = made.get_json()["id"]
    sent = post(teacher, f"/api/v1/conversations/{conversation_id}/messages", {"text": "您好"})
    assert sent.status_code == 201
    assert sent.get_json()["status"] == "delivered"
    message_id = sent.get_json()["id"]

    inbox = parent.get("/api/v1/conversations").get_json()
    [row] = [c for c in inbox["items"] if c["id"] == conversation_id]
    assert row["unread"] == 1 and inbox["unread"] == 1
    assert {m["name"] for m in row["members"]} == {"李老师", "王爸爸"}
    listed = parent.get(f"/api/v1/conversations/{conversation_id}/messages").get_json()["items"]
    assert [(m["id"], m["text"], m["sender_name"]) for m in listed] == [
        (message_id, "您好", "李老师")
    ]
    after = parent.get(f"/api/v1/conversations/{conversation_id}/messages?after={message_id}")
    assert after.get_json()["items"] == []
    read = post(parent, f"/api/v1/messages/{message_id}/read")
    assert read.get_json() == {"last_read_message_id": message_id, "unread": 0}
    reply = post(parent, f"/api/v1/conversations/{conversation_id}/messages", {"text": "收到"})
    assert reply.status_code == 201


def test_a_forbidden_participant_is_refused_in_chinese_and_nothing_is_written(app, signed_in):
    before = counts(app)
    [stranger] = ids(app, "g_S0102_7_01")
    refused = post(signed_in("teacher1"), "/api/v1/conversations", {"participant_ids": [stranger]})
    assert refused.status_code == 404
    assert "不能" in refused.get_json()["message"]
    # an adult who is not the student's teacher
    [student] = ids(app, "student1")
    refused = post(
        signed_in("school_admin"), "/api/v1/conversations", {"participant_ids": [student]}
    )
    assert refused.status_code == 404
    # a group with two guardians (who may not talk privately): 403
    guardians = ids(app, "parent1", "g_S0101_5_02")
    refused = post(signed_in("teacher1"), "/api/v1/conversations", {"participant_ids": guardians})
    assert refused.status_code == 403 and refused.get_json()["message"]
    # nobody at all, and ids past the column
    assert post(signed_in("teacher1"), "/api/v1/conversations", {}).status_code == 422
    huge = post(signed_in("teacher1"), "/api/v1/conversations", {"participant_ids": [2**40]})
    assert huge.status_code == 422
    assert counts(app) == before


def test_an_overlong_message_is_a_422_and_nothing_is_written(app, signed_in):
    teacher = signed_in("teacher1")
    [parent_id] = ids(app, "parent1")
    conversation_id = post(
        teacher, "/api/v1/conversations", {"participant_ids": [parent_id]}
    ).get_json()["id"]
    before = counts(app)
    path = f"/api/v1/conversations/{conversation_id}/messages"
    response = post(teacher, path, {"text": "字" * 2001})
    assert response.status_code == 422
    assert "2000" in response.get_json()["message"]
    assert post(teacher, path, {"text": "  "}).status_code == 422
    assert post(teacher, path, {"text": "好", "extra": 1}).status_code == 422
    assert counts(app) == before
    assert post(teacher, path, {"text": "字" * 2000}).status_code == 201


def test_another_schools_conversation_is_a_404(app, signed_in):
    [parent_id] = ids(app, "parent1")
    conversation_id = post(
        signed_in("teacher1"), "/api/v1/conversations", {"participant_ids": [parent_id]}
    ).get_json()["id"]
    for name in ("t_S0102_7", "g_S0101_5_02", "county_admin"):
        outsider = signed_in(name)
        assert outsider.get(f"/api/v1/conversations/{conversation_id}/messages").status_code == 404
        path = f"/api/v1/conversations/{conversation_id}/messages"
        assert post(outsider, path, {"text": "hi"}).status_code == 404


def test_a_held_message_reaches_only_its_sender_and_the_reviewer(app, signed_in):
    teacher, parent, admin = signed_in("teacher1"), signed_in("parent1"), signed_in("school_admin")
    [teacher_id] = ids(app, "teacher1")
    conversation_id = post(
        parent, "/api/v1/conversations", {"participant_ids": [teacher_id]}
    ).get_json()["id"]
    path = f"/api/v1/conversations/{conversation_id}/messages"
    sent = post(parent, path, {"text": "加我vx: wangba_2024"})
    assert sent.get_json()["status"] == "held"
    held_id = sent.get_json()["id"]
    assert teacher.get(path).get_json()["items"] == []
    assert [m["id"] for m in parent.get(path).get_json()["items"]] == [held_id]
    assert post(teacher, f"/api/v1/messages/{held_id}/read").status_code == 404
    assert teacher.get("/api/v1/conversations").get_json()["unread"] == 0
    queue = admin.get("/api/v1/messages/held").get_json()["items"]
    assert held_id in [m["id"] for m in queue]
    assert post(admin, f"/api/v1/messages/{held_id}/release").get_json()["status"] == "delivered"
    assert [m["id"] for m in teacher.get(path).get_json()["items"]] == [held_id]


def test_recall_report_and_block(app, signed_in):
    teacher, parent = signed_in("teacher1"), signed_in("parent1")
    [parent_id] = ids(app, "parent1")
    conversation_id = post(
        teacher, "/api/v1/conversations", {"participant_ids": [parent_id]}
    ).get_json()["id"]
    path = f"/api/v1/conversations/{conversation_id}/messages"
    message_id = post(teacher, path, {"text": "发错了"}).get_json()["id"]
    assert post(parent, f"/api/v1/messages/{message_id}/recall").status_code == 403
    recalled = post(teacher, f"/api/v1/messages/{message_id}/recall")
    assert recalled.get_json() == {"id": message_id, "status": "recalled"}
    [seen] = parent.get(path).get_json()["items"]
    assert seen["status"] == "recalled" and seen["text"] is None
    [own] = teacher.get(path).get_json()["items"]
    assert own["text"] == "发错了"
    other = post(teacher, path, {"text": "补课收费500"}).get_json()["id"]
    report = post(parent, f"/api/v1/messages/{other}/report", {"reason": "乱收费"})
    assert report.status_code == 201
    assert post(parent, f"/api/v1/conversations/{conversation_id}/block").get_json() == {
        "blocked": True
    }
    assert post(teacher, path, {"text": "在吗"}).status_code == 403


def test_a_class_broadcast_through_the_api(app, signed_in):
    with app.app_context():
        klass = unit_by_code("5-1").id
        other_class = unit_by_code("6-1").id
    teacher, parent = signed_in("teacher1"), signed_in("parent1")
    assert post(teacher, "/api/v1/conversations", {"class_id": other_class}).status_code == 404
    made = post(teacher, "/api/v1/conversations", {"class_id": klass, "title": "五(1)班家长"})
    assert made.status_code == 201
    broadcast = made.get_json()["id"]
    post(teacher, f"/api/v1/conversations/{broadcast}/messages", {"text": "周五家长会"})
    [row] = [
        c for c in parent.get("/api/v1/conversations").get_json()["items"] if c["id"] == broadcast
    ]
    assert row["kind"] == "class_guardians" and row["unread"] == 1
    assert len(row["members"]) == 2  # the teacher and parent1: not the other families
    reply = post(parent, f"/api/v1/conversations/{broadcast}/messages", {"text": "收到"})
    thread = reply.get_json()["conversation_id"]
    assert thread != broadcast
    [back] = [
        c for c in teacher.get("/api/v1/conversations").get_json()["items"] if c["id"] == thread
    ]
    assert back["reply_to_id"] == broadcast and back["unread"] == 1


def test_bearer_token_without_csrf(app, client):
    [parent_id] = ids(app, "parent1")
    token = client.post(
        "/api/v1/auth/token", json={"username": "teacher1", "password": "demo1234"}
    ).get_json()["token"]
    response = client.post(
        "/api/v1/conversations",
        json={"participant_ids": [parent_id]},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201


def test_openapi_documents_the_messages(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in (
        "/api/v1/conversations",
        "/api/v1/conversations/{conversation_id}/messages",
        "/api/v1/messages/{message_id}/read",
        "/api/v1/messages/{message_id}/report",
        "/api/v1/messages/{message_id}/recall",
    ):
        assert path in paths, path
    assert set(paths["/api/v1/conversations"]) == {"get", "post"}


def put(client, path: str, body: dict):
    return client.put(path, json=body, headers={"X-CSRFToken": csrf_token(client, "/")})


def test_a_prefecture_admin_keeps_the_keyword_list_and_the_change_is_audited(app, signed_in):
    from elearn.models import AuditEvent

    with app.app_context():
        prefecture = unit_by_code("DEMO").id
    path = f"/api/v1/units/{prefecture}/message-keywords"
    shown = signed_in("school_admin").get(path).get_json()
    assert shown["is_default"] is True and "冰毒" in shown["words"]
    assert signed_in("teacher1").get(path).status_code == 404
    assert put(signed_in("county_admin"), path, {"words": ["网吧"]}).status_code == 403
    bad = put(signed_in("pref_admin"), path, {"words": ["网吧"], "patterns": ["(unclosed"]})
    assert bad.status_code == 400 and "正则" in bad.get_json()["message"]
    empty = put(signed_in("pref_admin"), path, {"words": []})
    assert empty.status_code == 400 and empty.get_json()["message"]
    changed = put(signed_in("pref_admin"), path, {"words": ["网吧", " 网吧 "], "patterns": []})
    assert changed.get_json() == {"words": ["网吧"], "patterns": [], "is_default": False}
    with app.app_context():
        event = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "parents.keywords_changed")
        )
        assert event.details["before"]["default"] is True
        assert event.details["after"] == {"words": ["网吧"], "patterns": []}
    # the new list holds what it names, and no longer what only the default named
    parent = signed_in("parent1")
    [teacher_id] = ids(app, "teacher1")
    conversation_id = post(
        parent, "/api/v1/conversations", {"participant_ids": [teacher_id]}
    ).get_json()["id"]
    messages = f"/api/v1/conversations/{conversation_id}/messages"
    assert post(parent, messages, {"text": "去网吧吗"}).get_json()["status"] == "held"
    assert post(parent, messages, {"text": "冰毒"}).get_json()["status"] == "delivered"


def test_message_ids_beyond_two_to_the_31_work_in_every_url(app, signed_in):
    """Messages have BIGINT keys: an id above 2³¹ − 1 reads, is marked read and is reported
    through its URL (``<bigid:…>``), and one above 2⁶³ − 1 is a 404, not a database error."""
    from sqlalchemy import text

    sequence = "conversation_messages_id_seq"
    with app.app_context():
        before = db.session.scalar(text(f"SELECT last_value FROM {sequence}"))
        db.session.execute(text(f"SELECT setval('{sequence}', {2**31 + 10})"))
        db.session.commit()
    try:
        teacher, parent = signed_in("teacher1"), signed_in("parent1")
        [parent_id] = ids(app, "parent1")
        made = post(teacher, "/api/v1/conversations", {"participant_ids": [parent_id]})
        conversation_id = made.get_json()["id"]
        sent = post(teacher, f"/api/v1/conversations/{conversation_id}/messages", {"text": "您好"})
        message_id = sent.get_json()["id"]
        assert message_id > 2**31
        read = post(parent, f"/api/v1/messages/{message_id}/read")
        assert read.status_code == 200, read.get_json()
        assert read.get_json()["last_read_message_id"] == message_id
        reported = post(parent, f"/api/v1/messages/{message_id}/report", {"reason": "测试"})
        assert reported.status_code in (200, 201), reported.get_json()
        after = parent.get(f"/api/v1/conversations/{conversation_id}/messages?after={message_id}")
        assert after.status_code == 200 and after.get_json()["items"] == []
        assert post(parent, f"/api/v1/messages/{2**63}/read").status_code == 404
    finally:
        with app.app_context():
            db.session.execute(text(f"SELECT setval('{sequence}', {max(before, 1)})"))
            db.session.commit()
