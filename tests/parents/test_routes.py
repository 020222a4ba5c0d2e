"""The messages pages: the inbox with unread counts, a conversation with its bubbles and the
box to write in; refusals say why and write nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from elearn.extensions import db
from parents.interaction import service
from parents.interaction.models import Message
from tests.conftest import post_form, user


def thread(app, *, text: str = "请明天带绘本") -> int:
    with app.test_request_context():
        conversation = service.start_conversation(
            actor=user("teacher1"), participants=[user("parent1")]
        )
        service.post_message(actor=user("teacher1"), conversation=conversation, text=text)
        conversation_id = conversation.id
        db.session.commit()
    return conversation_id


def test_the_inbox_lists_conversations_with_their_unread_count(app, signed_in):
    conversation_id = thread(app)
    page = signed_in("parent1").get("/messages").get_data(as_text=True)
    assert f"/messages/{conversation_id}" in page
    assert "李老师" in page and "1 条未读" in page
    assert "家校沟通" in page


def test_a_conversation_shows_its_messages_and_marks_them_read(app, signed_in):
    conversation_id = thread(app)
    parent = signed_in("parent1")
    page = parent.get(f"/messages/{conversation_id}").get_data(as_text=True)
    assert "请明天带绘本" in page and "发送" in page
    assert "条未读" not in parent.get("/messages").get_data(as_text=True)


def test_writing_a_message_from_the_page(app, signed_in):
    conversation_id = thread(app)
    parent = signed_in("parent1")
    path = f"/messages/{conversation_id}"
    response = post_form(parent, path, {"text": "好的，谢谢老师"}, page=path)
    assert response.status_code == 302
    assert "好的，谢谢老师" in parent.get(path).get_data(as_text=True)
    with app.app_context():
        before = db.session.scalar(select(func.count(Message.id)))
    too_long = post_form(parent, path, {"text": "字" * 2001}, page=path)
    assert too_long.status_code == 400
    held = post_form(parent, path, {"text": "加我微信 wang_ba_88"}, page=path)
    assert held.status_code == 302
    assert "等待审核" in parent.get(path).get_data(as_text=True)
    assert "wang_ba_88" not in signed_in("teacher1").get(path).get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(Message.id))) == before + 1


def test_a_guardian_reads_their_childs_conversation_without_writing(app, signed_in):
    with app.test_request_context():
        conversation = service.start_conversation(
            actor=user("teacher1"), participants=[user("student1")]
        )
        service.post_message(actor=user("teacher1"), conversation=conversation, text="作业记得交")
        conversation_id = conversation.id
        db.session.commit()
    page = signed_in("parent1").get(f"/messages/{conversation_id}").get_data(as_text=True)
    assert "作业记得交" in page and "只有会话成员可以发言" in page and "<textarea" not in page
    response = post_form(signed_in("parent1"), f"/messages/{conversation_id}", {"text": "x"})
    assert response.status_code == 404


def test_another_familys_conversation_is_a_404(app, signed_in):
    conversation_id = thread(app)
    assert signed_in("g_S0101_5_02").get(f"/messages/{conversation_id}").status_code == 404
    assert signed_in("t_S0102_7").get(f"/messages/{conversation_id}").status_code == 404


def test_the_school_admin_delivers_a_message_held_wrongly(app, signed_in):
    conversation_id = thread(app, text="我的电话 13912345678，有事找我")
    admin = signed_in("school_admin")
    assert "等待审核" in admin.get("/messages").get_data(as_text=True)
    page = admin.get("/messages/review").get_data(as_text=True)
    assert "13912345678" in page and "命中" in page
    parent = signed_in("parent1")
    assert "13912345678" not in parent.get(f"/messages/{conversation_id}").get_data(as_text=True)
    with app.app_context():
        held_id = db.session.scalar(
            select(Message.id).where(Message.conversation_id == conversation_id)
        )
    response = post_form(
        admin, "/messages/review", {"message_id": held_id}, page="/messages/review"
    )
    assert response.status_code == 302
    assert "没有被拦截的消息" in admin.get("/messages/review").get_data(as_text=True)
    assert "13912345678" in parent.get(f"/messages/{conversation_id}").get_data(as_text=True)
    # a teacher has no review page
    assert signed_in("teacher1").get("/messages/review").status_code == 404
