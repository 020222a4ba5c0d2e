"""Quizzes (fixed questions or random draws), their audiences, and attempts decided by the server."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from elearn.extensions import Model
from elearn.models import Unit, User
from elearn.models._types import UTCDateTime, utcnow
from quizzes.models.bank import Question, QuestionCategory, QuestionVersion


class QuizMode(enum.StrEnum):
    #: students on their own devices: shuffled as configured
    SELF_PACED = "self_paced"
    #: a teacher leads the class through the questions: fixed order, no shuffling
    CLASS = "class"


class ReviewPolicy(enum.StrEnum):
    IMMEDIATELY = "immediately"
    AFTER_CLOSE = "after_close"
    NEVER = "never"


class AttemptState(enum.StrEnum):
    IN_PROGRESS = "in_progress"
    FINISHED = "finished"


class Quiz(Model):
    __tablename__ = "quizzes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    #: the owning unit: who may edit it and see its results
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    mode: Mapped[str] = mapped_column(String(16), default=QuizMode.SELF_PACED)
    shuffle_questions: Mapped[bool] = mapped_column(Boolean, default=True)
    shuffle_options: Mapped[bool] = mapped_column(Boolean, default=True)
    one_per_page: Mapped[bool] = mapped_column(Boolean, default=True)
    time_limit_seconds: Mapped[int | None] = mapped_column(Integer)
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: 0 means unlimited
    attempts_allowed: Mapped[int] = mapped_column(Integer, default=1)
    #: percent of the maximum score needed to pass
    pass_mark: Mapped[float] = mapped_column(Float, default=60.0)
    review_policy: Mapped[str] = mapped_column(String(16), default=ReviewPolicy.IMMEDIATELY)
    is_published: Mapped[bool] = mapped_column(Boolean, default=False)
    #: quiz | exam (a term exam: records the assessment coverage) | survey
    kind: Mapped[str] = mapped_column(String(16), default="quiz", server_default="quiz")
    #: surveys only: answers are kept without any link to the person (see SurveyResponse)
    is_anonymous: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    unit: Mapped[Unit] = relationship(lazy="joined")
    items: Mapped[list[QuizItem]] = relationship(
        back_populates="quiz", order_by="QuizItem.position", cascade="all, delete-orphan"
    )
    audiences: Mapped[list[QuizAudience]] = relationship(
        back_populates="quiz", cascade="all, delete-orphan", lazy="selectin"
    )


class QuizItem(Model):
    """One slot of a quiz: a fixed question, or ``draw_count`` questions drawn from a category."""

    __tablename__ = "quiz_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    question_id: Mapped[int | None] = mapped_column(ForeignKey("quiz_questions.id"))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("quiz_question_categories.id"))
    draw_count: Mapped[int] = mapped_column(Integer, default=1)
    #: the mark each question of this item is worth
    mark: Mapped[float] = mapped_column(Float, default=1.0)

    quiz: Mapped[Quiz] = relationship(back_populates="items")
    question: Mapped[Question | None] = relationship()
    category: Mapped[QuestionCategory | None] = relationship()


class QuizAudience(Model):
    """Who may take a quiz: people holding ``role`` at or below ``unit``."""

    __tablename__ = "quiz_audiences"
    __table_args__ = (UniqueConstraint("quiz_id", "unit_id", "role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    role: Mapped[str] = mapped_column(String(24), default="student")

    quiz: Mapped[Quiz] = relationship(back_populates="audiences")
    unit: Mapped[Unit] = relationship(lazy="joined")


class QuizAttempt(Model):
    """One try at a quiz. Times come from the server clock; the client's clock is never asked."""

    __tablename__ = "quiz_attempts"
    __table_args__ = (
        UniqueConstraint("quiz_id", "user_id", "number"),
        Index("ix_quiz_attempts_open_deadline", "state", "deadline_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: no index of its own: the unique (quiz, user, number) serves lookups by quiz
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer, default=1)
    state: Mapped[str] = mapped_column(String(16), default=AttemptState.IN_PROGRESS)
    #: shuffles questions and options; stored so a reload shows the same order
    seed: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: min(start + time limit, close); None when neither bounds the attempt
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: submitted | late | expired | abandoned
    closed_reason: Mapped[str | None] = mapped_column(String(16))
    score: Mapped[float | None] = mapped_column(Float)
    max_score: Mapped[float] = mapped_column(Float, default=0.0)
    passed: Mapped[bool | None] = mapped_column(Boolean)
    needs_manual_grading: Mapped[bool] = mapped_column(Boolean, default=False)
    #: SHA-256 of the key the attempt page was last given: the page's autosaves carry it, so
    #: the autosave lane knows them for the owner's without the session (quizzes.lanes.save)
    save_key_hash: Mapped[str | None] = mapped_column(String(64))

    quiz: Mapped[Quiz] = relationship()
    user: Mapped[User] = relationship()
    slots: Mapped[list[AttemptSlot]] = relationship(
        back_populates="attempt", order_by="AttemptSlot.position", cascade="all, delete-orphan"
    )


class AttemptSlot(Model):
    """A question served in an attempt (the exact version), the saved answer and its grade."""

    __tablename__ = "quiz_attempt_slots"
    __table_args__ = (
        UniqueConstraint("attempt_id", "question_id"),
        # one key for both: the version exists and is the question's (a start writes a slot per
        # question, and each foreign key is a lookup per row)
        ForeignKeyConstraint(
            ["version_id", "question_id"],
            ["quiz_question_versions.id", "quiz_question_versions.question_id"],
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: no index of its own: the unique (attempt, question) serves lookups by attempt
    attempt_id: Mapped[int] = mapped_column(ForeignKey("quiz_attempts.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    question_id: Mapped[int] = mapped_column(Integer)
    version_id: Mapped[int] = mapped_column(Integer)
    mark: Mapped[float] = mapped_column(Float, default=1.0)
    answer: Mapped[Any | None] = mapped_column(JSON)
    #: the client's sequence number of the saved answer; a save must carry a higher one
    seq: Mapped[int] = mapped_column(Integer, default=0)
    saved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: 0..1 of the mark; None until graded (short answers wait for a teacher)
    fraction: Mapped[float | None] = mapped_column(Float)
    graded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    attempt: Mapped[QuizAttempt] = relationship(back_populates="slots")
    version: Mapped[QuestionVersion] = relationship(lazy="joined")
