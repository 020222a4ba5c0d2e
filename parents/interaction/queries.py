"""Read-only queries of messaging: a person's conversations with their unread counts, and the
messages of a conversation a viewer may see."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select

from elearn.extensions import db
from elearn.models import User
from parents.interaction import rules
from parents.interaction.models import Conversation, ConversationMember, Message, MessageStatus

#: the most messages one request answers (a client pages on with ``after``)
PAGE = 100


@dataclass(frozen=True)
class InboxRow:
    conversation: Conversation
    unread: int
    #: true when the viewer reads it as a guardian of a student in it, not as a member
    as_guardian: bool = False


def _unread_counts(user: User) -> dict[int, int]:
    rows = db.session.execute(
        select(ConversationMember.conversation_id, func.count(Message.id))
        .join(
            Message,
            and_(
                Message.conversation_id == ConversationMember.conversation_id,
                Message.id > ConversationMember.last_read_message_id,
                Message.sender_id != ConversationMember.user_id,
                Message.status == MessageStatus.DELIVERED,
            ),
        )
        .where(ConversationMember.user_id == user.id)
        .group_by(ConversationMember.conversation_id)
    ).all()
    return {conversation_id: count for conversation_id, count in rows}


def _newest_first(conversation: Conversation) -> tuple[float, int]:
    moment = conversation.last_message_at or conversation.created_at
    return (-moment.timestamp(), -conversation.id)


def inbox(user: User) -> list[InboxRow]:
    """The user's conversations (and, for a guardian, their children's), newest first."""
    mine = select(ConversationMember.conversation_id).where(ConversationMember.user_id == user.id)
    children = [c.id for c in rules.children_of(user)] if user.has_role("guardian") else []
    theirs = select(ConversationMember.conversation_id).where(
        ConversationMember.user_id.in_(children)
    )
    conversations = db.session.scalars(
        select(Conversation).where(or_(Conversation.id.in_(mine), Conversation.id.in_(theirs)))
    ).all()
    counts = _unread_counts(user)
    rows = [
        InboxRow(c, counts.get(c.id, 0), as_guardian=c.member(user) is None) for c in conversations
    ]
    return sorted(rows, key=lambda row: _newest_first(row.conversation))


def visible_messages(
    viewer: User, conversation: Conversation, *, after: int = 0, limit: int = PAGE
) -> list[Message]:
    """The messages after ``after`` the viewer may see, oldest first: a held one only by its
    sender and the reviewers, a waiting one by its sender only."""
    query = select(Message).where(Message.conversation_id == conversation.id, Message.id > after)
    hidden = [MessageStatus.WAITING]  # until its recipients' quiet hours end
    if not rules.is_reviewer(viewer, conversation):
        hidden.append(MessageStatus.HELD)
    query = query.where(or_(Message.status.not_in(hidden), Message.sender_id == viewer.id))
    return list(db.session.scalars(query.order_by(Message.id).limit(limit)))


def held_for_review(reviewer: User) -> list[Message]:
    """The held messages of the conversations this admin reviews, oldest first."""
    units = [
        u.id for u in rules.units_of(reviewer, "school_admin", "county_admin", "prefecture_admin")
    ]
    return list(
        db.session.scalars(
            select(Message)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(Message.status == MessageStatus.HELD, Conversation.unit_id.in_(units))
            .order_by(Message.id)
            .limit(PAGE)
        )
    )
