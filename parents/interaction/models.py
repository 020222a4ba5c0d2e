"""Messages between school and family (交流互动): conversations, their members, the messages, the
reports made about them, and each prefecture's keyword list for holding a message for review.

Nothing here is ever deleted: a recalled message keeps its text (hidden from recipients), a held
one waits for a reviewer, and a member who blocks a conversation stays a member.
"""

from __future__ import annotations

import enum
from datetime import datetime, time

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    select,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, object_session, relationship

from elearn.extensions import Model
from elearn.models import Unit, User
from elearn.models._types import UTCDateTime, utcnow
from media.models import Asset

#: the longest message, in characters
MAX_TEXT = 2000
MAX_TITLE = 120

#: messages have BIGINT ids (a class broadcast to 2,000 guardians, every term); SQLite's rowid
BIG_ID = BigInteger().with_variant(Integer(), "sqlite")


class ConversationKind(enum.StrEnum):
    DIRECT = "direct"
    #: a teacher (or school admin) to the guardians of one class; each reply a private thread back
    CLASS_GUARDIANS = "class_guardians"
    GROUP = "group"
    #: a family's urgent line to the school office (its admins): never waits for quiet hours
    OFFICE = "office"


class MessageStatus(enum.StrEnum):
    DELIVERED = "delivered"
    #: matched the keyword list: only its sender and the reviewers see it
    HELD = "held"
    #: taken back by its sender: recipients see that a message was recalled, not its text
    RECALLED = "recalled"
    #: its recipients are in their quiet hours: delivered at ``deliver_at``
    WAITING = "waiting"


class Conversation(Model):
    """A thread between people the rules of ``parents.interaction.rules`` let talk."""

    __tablename__ = "conversations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    title: Mapped[str | None] = mapped_column(String(MAX_TITLE))
    #: its scope: the school it lies in, or (admins downward) the upper admin's unit
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    #: for a class broadcast, the class
    class_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    #: a private reply thread opened from a class broadcast
    reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: the newest message's time, for the inbox's order
    last_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    unit: Mapped[Unit] = relationship(foreign_keys=[unit_id])
    created_by: Mapped[User] = relationship()
    members: Mapped[list[ConversationMember]] = relationship(
        back_populates="conversation", lazy="selectin", order_by="ConversationMember.id"
    )

    def member(self, user: User) -> ConversationMember | None:
        """The user's membership: from ``members`` if loaded, else one row (a class broadcast
        has thousands of members; posting to it never loads them all)."""
        if "members" in self.__dict__ or self.id is None:
            return next((m for m in self.members if m.user_id == user.id), None)
        session = object_session(self)
        if session is None:
            return next((m for m in self.members if m.user_id == user.id), None)
        return session.scalar(
            select(ConversationMember).where(
                ConversationMember.conversation_id == self.id,
                ConversationMember.user_id == user.id,
            )
        )

    def __repr__(self) -> str:
        return f"<Conversation {self.id} {self.kind}>"


class ConversationMember(Model):
    __tablename__ = "conversation_members"
    __table_args__ = (UniqueConstraint("conversation_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    #: the newest message this member's device has received (0: none): delivery receipts
    last_delivered_message_id: Mapped[int] = mapped_column(BIG_ID, default=0)
    #: the newest message this member has read (0: none)
    last_read_message_id: Mapped[int] = mapped_column(BIG_ID, default=0)
    #: this member refuses the conversation's messages from now on
    is_blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    conversation: Mapped[Conversation] = relationship(back_populates="members")
    user: Mapped[User] = relationship(lazy="joined")


class Message(Model):
    __tablename__ = "conversation_messages"
    __table_args__ = (
        Index("ix_conversation_messages_conversation_id_id", "conversation_id", "id"),
        #: the beat task's look-up of messages whose quiet hours are over
        Index(
            "ix_conversation_messages_waiting",
            "deliver_at",
            postgresql_where=text("status = 'waiting'"),
            sqlite_where=text("status = 'waiting'"),
        ),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    sender_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    text: Mapped[str] = mapped_column(Text, default="")
    #: a picture, file or voice message (media's asset, uploaded by the sender), sent once
    asset_id: Mapped[str | None] = mapped_column(ForeignKey("assets.id"), index=True, unique=True)
    status: Mapped[str] = mapped_column(String(16), default=MessageStatus.DELIVERED)
    #: what the keyword list matched, for the reviewer
    held_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    recalled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: a waiting message's delivery, when its recipients' quiet hours end
    deliver_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: the automatic reply of a recipient in their quiet hours (sent by nobody's hand)
    is_automatic: Mapped[bool] = mapped_column(Boolean, default=False)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    conversation: Mapped[Conversation] = relationship()
    sender: Mapped[User] = relationship(foreign_keys=[sender_id], lazy="joined")
    asset: Mapped[Asset | None] = relationship(lazy="selectin")


class MessageReport(Model):
    """Someone who saw a message reported it (abuse, contact with a stranger, drugs…)."""

    __tablename__ = "message_reports"
    __table_args__ = (UniqueConstraint("message_id", "reporter_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("conversation_messages.id"), index=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MessageKeyword(Model):
    """One entry of a prefecture's keyword list (a prefecture without entries uses the default)."""

    __tablename__ = "message_keywords"
    __table_args__ = (UniqueConstraint("prefecture_id", "pattern"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prefecture_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    #: a word (matched without regard to case, width or spaces) or a regular expression
    pattern: Mapped[str] = mapped_column(String(200))
    is_regex: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


#: quiet hours of a staff member without a row of their own: 21:00–07:00 local, on
DEFAULT_QUIET_START = time(21, 0)
DEFAULT_QUIET_END = time(7, 0)
MAX_AUTO_REPLY = 500


class QuietHours(Model):
    """A staff member's quiet hours: messages to them wait until the end, with an automatic
    reply. The times are wall-clock times of the installation's zone; a start after the end
    spans midnight."""

    __tablename__ = "quiet_hours"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    is_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    starts: Mapped[time] = mapped_column(Time, default=DEFAULT_QUIET_START)
    ends: Mapped[time] = mapped_column(Time, default=DEFAULT_QUIET_END)
    #: None: the default reply
    auto_reply: Mapped[str | None] = mapped_column(String(MAX_AUTO_REPLY))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
