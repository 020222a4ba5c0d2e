"""The messaging tables: what a conversation, its members and its messages hold."""

from __future__ import annotations

from datetime import UTC

from sqlalchemy import inspect

from elearn.extensions import db
from parents.interaction.models import (
    Conversation,
    ConversationKind,
    ConversationMember,
    Message,
    MessageReport,
    MessageStatus,
)
from tests.conftest import unit_by_code, user


def test_a_conversation_keeps_its_members_messages_and_reports(ctx):
    teacher, parent = user("teacher1"), user("parent1")
    conversation = Conversation(
        kind=ConversationKind.DIRECT,
        unit_id=unit_by_code("S0101").id,
        created_by_id=teacher.id,
    )
    db.session.add(conversation)
    db.session.flush()
    for person in (teacher, parent):
        db.session.add(ConversationMember(conversation_id=conversation.id, user_id=person.id))
    message = Message(conversation_id=conversation.id, sender_id=teacher.id, text="您好")
    db.session.add(message)
    db.session.flush()
    db.session.add(MessageReport(message_id=message.id, reporter_id=parent.id, reason="spam"))
    db.session.flush()
    db.session.expire_all()

    found = db.session.get(Conversation, conversation.id)
    assert [m.user.username for m in found.members] == ["teacher1", "parent1"]
    assert found.member(parent).last_read_message_id == 0
    assert found.member(parent).is_blocked is False
    stored = db.session.get(Message, message.id)
    assert stored.status == MessageStatus.DELIVERED
    assert stored.created_at.tzinfo is not None
    assert stored.created_at.utcoffset() == UTC.utcoffset(None)


def test_nothing_is_deleted_in_cascade_from_a_conversation(ctx):
    # a message outlives anything a careless delete could take with it: no ON DELETE CASCADE
    for table in ("conversation_members", "conversation_messages", "message_reports"):
        for key in inspect(db.engine).get_foreign_keys(table):
            assert (key.get("options") or {}).get("ondelete") is None, (table, key)
