"""Who hears of a message, and what they get: the Socket.IO rooms of ``/messages`` (one per user,
shared across processes through Redis) and the payload each viewer sees.

A delivered message goes to every member's room; a held one to its sender and the reviewers
only; a recalled one (to those who saw it) without its text. The emits wait for the unit of work
to commit (``uow.emit``): nobody hears of a message that was rolled back.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select

from elearn import uow
from elearn.extensions import db
from elearn.models import User
from elearn.models._types import aware
from parents.interaction import attachments
from parents.interaction.models import Conversation, ConversationMember, Message, MessageStatus

NAMESPACE = "/messages"


def user_room(user_id: int) -> str:
    return f"user:{user_id}"


def payload(message: Message, *, show_text: bool) -> dict[str, Any]:
    """A message as a client sees it; ``show_text`` False for a recalled one's recipients, who
    get neither its text nor its attachment. The attachment's URL is signed and short-lived."""
    created = aware(message.created_at)
    shown = attachments.view(message.asset) if show_text and message.asset_id else None
    return {
        "id": message.id,
        "conversation_id": message.conversation_id,
        "sender_id": message.sender_id,
        "sender_name": message.sender.display_name,
        "text": message.text if show_text else None,
        "asset_id": message.asset_id if show_text else None,
        "attachment": shown,
        "status": message.status,
        "automatic": message.is_automatic,
        "deliver_at": _iso(message.deliver_at) if message.status == MessageStatus.WAITING else None,
        "created_at": created.isoformat() if created else None,
    }


def _iso(value: datetime | None) -> str | None:
    moment = aware(value)
    return moment.isoformat() if moment else None


def shows_text(message: Message, viewer: User, *, is_reviewer: bool) -> bool:
    return message.status != MessageStatus.RECALLED or message.sender_id == viewer.id or is_reviewer


def emit_to(user_ids: Iterable[int], conversation: Conversation, body: dict[str, Any]) -> None:
    rooms = sorted({user_room(user_id) for user_id in user_ids})
    if rooms:
        uow.emit(
            "message",
            {"conversation_id": conversation.id, "message": body},
            to=rooms,
            namespace=NAMESPACE,
        )


def announce(message: Message, conversation: Conversation, reviewer_ids: Iterable[int]) -> None:
    """Queue the ``message`` event for everyone who may see this message now."""
    full = payload(message, show_text=True)
    if message.status == MessageStatus.HELD:
        emit_to([message.sender_id, *reviewer_ids], conversation, full)
        return
    if message.status == MessageStatus.WAITING:
        emit_to([message.sender_id], conversation, full)
        return
    if message.status == MessageStatus.RECALLED:
        emit_to([message.sender_id], conversation, full)
        others = [m.user_id for m in conversation.members if m.user_id != message.sender_id]
        emit_to(others, conversation, payload(message, show_text=False))
        return
    # a member who blocked the conversation hears no more of it (the record keeps the message);
    # their ids only: a class broadcast's thousands of members are never loaded as objects
    hearing = db.session.scalars(
        select(ConversationMember.user_id).where(
            ConversationMember.conversation_id == conversation.id,
            or_(
                ConversationMember.is_blocked.is_(False),
                ConversationMember.user_id == message.sender_id,
            ),
        )
    )
    emit_to(hearing, conversation, full)


def announce_receipt(conversation: Conversation, member: User, kind: str, message_id: int) -> None:
    """A receipt (``delivered`` or ``read``), to the conversation's other members."""
    others = [m.user_id for m in conversation.members if m.user_id != member.id]
    if others:
        uow.emit(
            kind,
            {"conversation_id": conversation.id, "user_id": member.id, "message_id": message_id},
            to=sorted(user_room(i) for i in set(others)),
            namespace=NAMESPACE,
        )


def announce_read(conversation: Conversation, reader: User, message_id: int) -> None:
    """A read receipt, to the conversation's other members."""
    announce_receipt(conversation, reader, "read", message_id)
