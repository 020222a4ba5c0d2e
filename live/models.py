"""Live lectures (直播课): schedule and audience, the room's messages, polls, sanctions, attendance."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from elearn.extensions import Model
from elearn.models import Unit, User
from elearn.models._types import UTCDateTime
from quizzes.models import QuestionVersion


def utcnow() -> datetime:
    return datetime.now(UTC)


class LectureStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    LIVE = "live"
    ENDED = "ended"


class MessageKind(enum.StrEnum):
    CHAT = "chat"
    QUESTION = "question"
    HAND = "hand"
    POLL = "poll"
    QUIZ = "quiz"
    SYSTEM = "system"


class SanctionKind(enum.StrEnum):
    MUTE = "mute"
    BAN = "ban"


class Lecture(Model):
    """One live lecture: a lecturer (and co-hosts) speaking to an audience of units and roles."""

    __tablename__ = "lectures"
    __table_args__ = (Index("ix_lectures_status_starts_at", "status", "starts_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    lecturer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    #: the unit the lecture was scheduled from (the lecturer's highest); admins above it see it
    owner_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default=LectureStatus.SCHEDULED)
    is_training: Mapped[bool] = mapped_column(Boolean, default=False)
    chat_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    slow_mode_seconds: Mapped[int] = mapped_column(Integer, default=0)
    #: words masked in chat and questions (lower-cased)
    word_filter: Mapped[list[str]] = mapped_column(JSON, default=list)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: when the audience was reminded (once per lecture, by the beat task)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: set when the recording has been handed to media/courses (no FK: those tables are theirs)
    recording_asset_id: Mapped[str | None] = mapped_column(String(64))
    recording_lesson_id: Mapped[int | None] = mapped_column(Integer)
    #: the course lesson this lecture stands for: students who attend enough of it complete it
    lesson_id: Mapped[int | None] = mapped_column(ForeignKey("lessons.id", ondelete="SET NULL"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    # loaded when used: a chat line in the room needs none of them but the co-host ids
    lecturer: Mapped[User] = relationship(foreign_keys=[lecturer_id])
    owner_unit: Mapped[Unit] = relationship()
    audience: Mapped[list[LectureAudience]] = relationship(
        back_populates="lecture", cascade="all, delete-orphan"
    )
    cohosts: Mapped[list[LectureCohost]] = relationship(
        back_populates="lecture", cascade="all, delete-orphan", lazy="selectin"
    )

    def __repr__(self) -> str:
        return f"<Lecture {self.id} {self.title!r} {self.status}>"


class LectureAudience(Model):
    """One audience row: everyone under ``unit`` (or only those holding ``role`` there)."""

    __tablename__ = "lecture_audiences"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lecture_id: Mapped[int] = mapped_column(
        ForeignKey("lectures.id", ondelete="CASCADE"), index=True
    )
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    #: student, teacher or guardian; None means every role under the unit
    role: Mapped[str | None] = mapped_column(String(24))

    lecture: Mapped[Lecture] = relationship(back_populates="audience")
    unit: Mapped[Unit] = relationship(lazy="joined")


class LectureCohost(Model):
    __tablename__ = "lecture_cohosts"
    __table_args__ = (UniqueConstraint("lecture_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lecture_id: Mapped[int] = mapped_column(ForeignKey("lectures.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)

    lecture: Mapped[Lecture] = relationship(back_populates="cohosts")
    user: Mapped[User] = relationship()


class LectureMessage(Model):
    """Everything said in the room, in order; the id is what a reconnecting client resumes from."""

    __tablename__ = "lecture_messages"
    __table_args__ = (Index("ix_lecture_messages_lecture_id_id", "lecture_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    lecture_id: Mapped[int] = mapped_column(ForeignKey("lectures.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: stored raw; every page renders it escaped
    text: Mapped[str] = mapped_column(Text, default="")
    poll_id: Mapped[int | None] = mapped_column(Integer)
    quiz_id: Mapped[int | None] = mapped_column(Integer)
    is_deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    upvotes: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    author: Mapped[User | None] = relationship(lazy="joined")


class QuestionUpvote(Model):
    __tablename__ = "lecture_question_upvotes"
    __table_args__ = (UniqueConstraint("message_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("lecture_messages.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))


class Poll(Model):
    """A poll or quick quiz run by a host; ``correct_choice`` makes it a quiz."""

    __tablename__ = "lecture_polls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lecture_id: Mapped[int] = mapped_column(
        ForeignKey("lectures.id", ondelete="CASCADE"), index=True
    )
    question: Mapped[str] = mapped_column(String(500))
    choices: Mapped[list[str]] = mapped_column(JSON)
    correct_choice: Mapped[int | None] = mapped_column(Integer)
    is_open: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "question": self.question,
            "choices": list(self.choices),
            "is_open": self.is_open,
        }


class PollVote(Model):
    __tablename__ = "lecture_poll_votes"
    __table_args__ = (UniqueConstraint("poll_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("lecture_polls.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    choice: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LectureQuiz(Model):
    """A quick quiz during a lecture: question-bank questions graded on the server by the
    assessment package; answers and keys reach clients only after the host closes it."""

    __tablename__ = "lecture_quizzes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lecture_id: Mapped[int] = mapped_column(
        ForeignKey("lectures.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    is_open: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    items: Mapped[list[LectureQuizItem]] = relationship(
        back_populates="quiz",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="LectureQuizItem.position",
    )


class LectureQuizItem(Model):
    """One question of a quick quiz, pinned to the version the host chose."""

    __tablename__ = "lecture_quiz_items"
    __table_args__ = (UniqueConstraint("quiz_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("lecture_quizzes.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    question_version_id: Mapped[int] = mapped_column(ForeignKey("quiz_question_versions.id"))

    quiz: Mapped[LectureQuiz] = relationship(back_populates="items")
    version: Mapped[QuestionVersion] = relationship(lazy="joined")


class LectureQuizAnswer(Model):
    """One person's answer to one question of a quick quiz, graded when it arrives."""

    __tablename__ = "lecture_quiz_answers"
    __table_args__ = (UniqueConstraint("item_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    quiz_id: Mapped[int] = mapped_column(
        ForeignKey("lecture_quizzes.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("lecture_quiz_items.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    answer: Mapped[Any] = mapped_column(JSON)
    fraction: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Sanction(Model):
    """A mute (may watch, may not speak) or a ban (may not join) in one lecture."""

    __tablename__ = "lecture_sanctions"
    __table_args__ = (UniqueConstraint("lecture_id", "user_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lecture_id: Mapped[int] = mapped_column(ForeignKey("lectures.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Attendance(Model):
    """Who watched a lecture, and for how long, decided on the server from connection time.

    A class screen (班班通) is a teacher's connection on behalf of a class, with a headcount.
    """

    __tablename__ = "lecture_attendances"
    __table_args__ = (
        # one row per person, and one per class screen: NULLs must collide too
        UniqueConstraint(
            "lecture_id", "user_id", "class_unit_id", postgresql_nulls_not_distinct=True
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lecture_id: Mapped[int] = mapped_column(
        ForeignKey("lectures.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: set for a class screen: the class watching together
    class_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    headcount: Mapped[int | None] = mapped_column(Integer)
    #: seconds of closed intervals, merged so two tabs don't count twice
    watched_seconds: Mapped[int] = mapped_column(Integer, default=0)
    first_joined_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship(lazy="joined")
    class_unit: Mapped[Unit | None] = relationship(lazy="joined")
    intervals: Mapped[list[AttendanceInterval]] = relationship(
        back_populates="attendance", cascade="all, delete-orphan", order_by="AttendanceInterval.id"
    )


class AttendanceInterval(Model):
    """One connection's time in the room: opened on join, closed on disconnect."""

    __tablename__ = "lecture_attendance_intervals"
    __table_args__ = (
        # the sweep looks for the open intervals of a dead process: a small partial index
        Index(
            "ix_lecture_attendance_intervals_open_process",
            "process",
            postgresql_where=text("left_at IS NULL"),
            sqlite_where=text("left_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    attendance_id: Mapped[int] = mapped_column(
        ForeignKey("lecture_attendances.id", ondelete="CASCADE"), index=True
    )
    #: the Socket.IO sid that opened it, so its disconnect closes exactly this one
    sid: Mapped[str] = mapped_column(String(64), index=True)
    #: the web process that holds the socket (``WebProcess.id``): if it dies without running
    #: the disconnect, the sweep closes the interval at its last heartbeat
    process: Mapped[str | None] = mapped_column(String(128))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    attendance: Mapped[Attendance] = relationship(back_populates="intervals")


class WebProcess(Model):
    """A Socket.IO web process, as its heartbeat tells: it writes ``beat_at`` every few seconds
    while it runs (``live/heartbeat.py``). One whose beat is older than the expiry is dead (a
    SIGKILL, a lost machine): its sockets' disconnect handlers never ran, and the sweep closes
    the attendance intervals it held at ``beat_at``, the last moment it was known alive."""

    __tablename__ = "live_web_processes"

    #: ``host:pid:random`` (the random part tells apart two runs that reuse a pid)
    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    #: when a sweep found it dead and closed its intervals
    swept_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
