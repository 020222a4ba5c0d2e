"""Messaging use cases, called directly: starting conversations, the keyword hold, recall,
reading, reporting, blocking, and who hears of each message (the emits queued for the commit)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from elearn import uow
from elearn.extensions import db
from elearn.models import Notification
from elearn.models._types import utcnow
from elearn.service.errors import ServiceError
from parents.interaction import delivery, queries, safety, service
from parents.interaction.models import (
    Conversation,
    ConversationKind,
    MessageKeyword,
    MessageStatus,
)
from tests.conftest import unit_by_code
from tests.parents.helpers import user


def rooms_told(event: str = "message") -> list[tuple[list[str], dict]]:
    """The (rooms, data) of each queued Socket.IO emit of this event."""
    return [
        (kwargs["to"], args[1])
        for func_, args, kwargs in uow.pending()
        if args and args[0] == event and kwargs.get("namespace") == delivery.NAMESPACE
    ]


def room(name: str) -> str:
    return delivery.user_room(user(name).id)


@pytest.fixture
def direct(ctx) -> Conversation:
    return service.start_conversation(actor=user("teacher1"), participants=[user("parent1")])


def test_a_direct_conversation_is_found_again_not_doubled(direct):
    again = service.start_conversation(actor=user("parent1"), participants=[user("teacher1")])
    assert again.id == direct.id
    assert direct.kind == ConversationKind.DIRECT
    assert direct.unit_id == unit_by_code("S0101").id
    assert {m.user.username for m in direct.members} == {"teacher1", "parent1"}


def test_a_forbidden_participant_is_refused_and_nothing_is_written(ctx):
    before = db.session.scalar(select(func.count(Conversation.id)))
    with pytest.raises(ServiceError) as refused:
        service.start_conversation(actor=user("teacher1"), participants=[user("g_S0102_7_01")])
    assert refused.value.status == 403
    # a group whose members may not talk with each other: two guardians
    with pytest.raises(ServiceError):
        service.start_conversation(
            actor=user("teacher1"), participants=[user("parent1"), user("g_S0101_5_02")]
        )
    assert db.session.scalar(select(func.count(Conversation.id))) == before


def test_a_group_of_a_schools_teachers(ctx):
    group = service.start_conversation(
        actor=user("teacher1"),
        participants=[user("t_S0101_5"), user("t_S0101_6")],
        title="五年级组",
    )
    assert group.kind == ConversationKind.GROUP
    assert len(group.members) == 3


def test_a_delivered_message_reaches_every_member(direct):
    message = service.post_message(actor=user("teacher1"), conversation=direct, text="明天家长会")
    assert message.status == MessageStatus.DELIVERED
    [(rooms, data)] = rooms_told()
    assert sorted(rooms) == sorted([room("teacher1"), room("parent1")])
    assert data["conversation_id"] == direct.id
    assert data["message"]["text"] == "明天家长会"


@pytest.mark.parametrize(
    "text",
    [
        "有冰 毒要吗",
        "加我微信: abc_12345 细聊",
        "我的手机 138-0000-1234",
        "ＱＱ：12345678",
        "低价出货，货到付款",
    ],
)
def test_a_message_matching_the_default_keywords_is_held_for_review(direct, text):
    message = service.post_message(actor=user("parent1"), conversation=direct, text=text)
    assert message.status == MessageStatus.HELD
    assert message.held_reason
    [(rooms, data)] = rooms_told()
    # its sender and the school's admin, nobody else
    assert sorted(rooms) == sorted([room("parent1"), room("school_admin")])
    assert data["message"]["status"] == "held"
    notice = db.session.scalar(
        select(Notification).where(
            Notification.user_id == user("school_admin").id,
            Notification.kind == "parents.message_held",
        )
    )
    assert notice is not None
    # the recipient sees nothing; the reviewer sees it, and delivers it
    assert queries.visible_messages(user("teacher1"), direct) == []
    assert queries.visible_messages(user("parent1"), direct) == [message]
    assert message in queries.held_for_review(user("school_admin"))
    service.release(actor=user("school_admin"), message=message)
    assert queries.visible_messages(user("teacher1"), direct) == [message]


def test_ordinary_messages_are_not_held(direct):
    for text in ("孩子今天发烧，请假一天", "作业第12页", "谢谢李老师！下午3点到校"):
        message = service.post_message(actor=user("parent1"), conversation=direct, text=text)
        assert message.status == MessageStatus.DELIVERED, text


def test_a_prefecture_keeps_its_own_keyword_list(direct):
    prefecture = unit_by_code("DEMO")
    db.session.add(MessageKeyword(prefecture_id=prefecture.id, pattern="网吧"))
    db.session.add(MessageKeyword(prefecture_id=prefecture.id, pattern=r"\d{6}号", is_regex=True))
    db.session.flush()
    held = service.post_message(actor=user("parent1"), conversation=direct, text="去网 吧吗")
    assert held.status == MessageStatus.HELD
    # its own list replaces the default
    other = service.post_message(actor=user("parent1"), conversation=direct, text="冰毒")
    assert other.status == MessageStatus.DELIVERED
    assert safety.keyword_list(prefecture.id).match("房间123456号") is not None


def test_a_catastrophic_pattern_stops_in_time_and_holds_the_message(direct):
    """An admin's pattern that backtracks for ever ((a|aa)+$ on 60 a's: about 10¹² steps for
    Python's re) is stopped by its time limit, and the message waits for a reviewer rather than
    going out unchecked or hanging the web process."""
    prefecture = unit_by_code("DEMO")
    db.session.add(MessageKeyword(prefecture_id=prefecture.id, pattern="(a|aa)+$", is_regex=True))
    db.session.flush()
    held = service.post_message(actor=user("parent1"), conversation=direct, text="a" * 60 + "b")
    assert held.status == MessageStatus.HELD
    assert held.held_reason == "(a|aa)+$（检查超时）"


@pytest.mark.parametrize("text", ["", "   ", "字" * 2001])
def test_empty_and_overlong_messages_are_refused(direct, text):
    with pytest.raises(ServiceError) as refused:
        service.post_message(actor=user("teacher1"), conversation=direct, text=text)
    assert refused.value.status == 422
    assert queries.visible_messages(user("teacher1"), direct) == []
    assert not rooms_told()


def test_a_message_of_2000_characters_is_taken(direct):
    message = service.post_message(actor=user("teacher1"), conversation=direct, text="字" * 2000)
    assert len(message.text) == 2000


def test_recall_within_two_minutes_hides_the_text_from_recipients(direct):
    message = service.post_message(actor=user("teacher1"), conversation=direct, text="发错了")
    with pytest.raises(ServiceError):
        service.recall(actor=user("parent1"), message=message)
    service.recall(
        actor=user("teacher1"), message=message, now=message.created_at + timedelta(seconds=119)
    )
    assert message.status == MessageStatus.RECALLED
    assert message.text == "发错了"  # kept in the record
    told = dict((tuple(rooms), data) for rooms, data in rooms_told()[1:])
    assert told[(room("parent1"),)]["message"]["text"] is None
    assert told[(room("teacher1"),)]["message"]["text"] == "发错了"
    assert not delivery.shows_text(message, user("parent1"), is_reviewer=False)


def test_recall_after_two_minutes_is_refused(direct):
    message = service.post_message(
        actor=user("teacher1"),
        conversation=direct,
        text="通知",
        now=utcnow() - timedelta(minutes=3),
    )
    with pytest.raises(ServiceError) as refused:
        service.recall(actor=user("teacher1"), message=message)
    assert refused.value.status == 409
    assert message.status == MessageStatus.DELIVERED


def test_unread_counts_and_read_receipts(direct):
    teacher, parent = user("teacher1"), user("parent1")
    first = service.post_message(actor=teacher, conversation=direct, text="一")
    second = service.post_message(actor=teacher, conversation=direct, text="二")
    [row] = [r for r in queries.inbox(parent) if r.conversation.id == direct.id]
    assert row.unread == 2
    assert service.unread_total(teacher) == 0
    service.mark_read(actor=parent, message=first)
    assert service.unread_total(parent) == 1
    [(rooms, data)] = rooms_told("read")
    assert rooms == [room("teacher1")]
    assert data == {"conversation_id": direct.id, "user_id": parent.id, "message_id": first.id}
    service.mark_read(actor=parent, message=second)
    service.mark_read(actor=parent, message=first)  # never goes back
    assert service.unread_total(parent) == 0


def test_a_report_is_made_once_and_reaches_the_reviewers(direct):
    message = service.post_message(actor=user("teacher1"), conversation=direct, text="收费补课")
    made = service.report(actor=user("parent1"), message=message, reason="乱收费")
    assert service.report(actor=user("parent1"), message=message).id == made.id
    with pytest.raises(ServiceError):
        service.report(actor=user("teacher1"), message=message)
    assert (
        db.session.scalar(
            select(func.count(Notification.id)).where(
                Notification.kind == "parents.message_reported",
                Notification.user_id == user("school_admin").id,
            )
        )
        == 1
    )


def test_blocking_stops_the_others_messages(direct):
    service.block(actor=user("parent1"), conversation=direct)
    with pytest.raises(ServiceError) as refused:
        service.post_message(actor=user("teacher1"), conversation=direct, text="在吗")
    assert refused.value.status == 403


def test_a_class_broadcast_and_each_reply_a_private_thread(ctx):
    teacher, parent, other = user("teacher1"), user("parent1"), user("g_S0101_5_02")
    klass = unit_by_code("5-1")
    broadcast = service.start_class_broadcast(actor=teacher, klass=klass, title="五年级1班家长")
    members = {m.user_id for m in broadcast.members}
    assert parent.id in members and other.id in members
    assert len(members) == 27  # the teacher and the 26 guardians of the class (parent1 too)
    service.post_message(actor=teacher, conversation=broadcast, text="周五开家长会")
    [(rooms, _)] = rooms_told()
    assert len(rooms) == 27
    reply = service.post_message(actor=parent, conversation=broadcast, text="收到，会准时到")
    thread = reply.conversation
    assert thread.id != broadcast.id and thread.reply_to_id == broadcast.id
    assert {m.user_id for m in thread.members} == {teacher.id, parent.id}
    # many-to-one: the other family's reply is a thread of its own, and never seen by parent1
    answer = service.post_message(actor=other, conversation=broadcast, text="收到")
    assert answer.conversation_id not in (thread.id, broadcast.id)
    again = service.post_message(actor=parent, conversation=broadcast, text="还有一个问题")
    assert again.conversation_id == thread.id
    assert not any(r.conversation.id == answer.conversation_id for r in queries.inbox(parent))


def test_only_a_classs_teacher_or_school_admin_broadcasts_to_it(ctx):
    with pytest.raises(ServiceError):
        service.start_class_broadcast(actor=user("t_S0101_6"), klass=unit_by_code("5-1"))
    made = service.start_class_broadcast(actor=user("school_admin"), klass=unit_by_code("5-1"))
    assert made.kind == ConversationKind.CLASS_GUARDIANS


def test_a_guardian_sees_their_childs_conversations_in_the_inbox(ctx):
    thread = service.start_conversation(actor=user("teacher1"), participants=[user("student1")])
    [row] = [r for r in queries.inbox(user("parent1")) if r.conversation.id == thread.id]
    assert row.as_guardian
    assert not any(r.conversation.id == thread.id for r in queries.inbox(user("g_S0101_5_02")))


def test_who_left_the_class_no_longer_writes_to_its_families(ctx):
    from elearn.models import RoleAssignment
    from tests.parents.helpers import person

    teacher = person("t_new_5", "teacher", "5-1")
    conversation = service.start_conversation(actor=teacher, participants=[user("parent1")])
    broadcast = service.start_class_broadcast(actor=teacher, klass=unit_by_code("5-1"))
    service.post_message(actor=teacher, conversation=conversation, text="您好")
    for assignment in db.session.scalars(select(RoleAssignment).filter_by(user_id=teacher.id)):
        db.session.delete(assignment)
    db.session.flush()
    db.session.expire(teacher)
    for thread in (conversation, broadcast):
        with pytest.raises(ServiceError) as refused:
            service.post_message(actor=teacher, conversation=thread, text="还在吗")
        assert refused.value.status == 403
    # the families' replies to a teacher who left are refused too, and the record stays
    with pytest.raises(ServiceError):
        service.post_message(actor=user("parent1"), conversation=conversation, text="老师好")
    assert [m.text for m in queries.visible_messages(user("parent1"), conversation)] == ["您好"]
