"""Question banks: owned at a unit and shared downward; questions keep every version."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from elearn.extensions import Model
from elearn.models import Unit, User
from elearn.models._types import UTCDateTime, utcnow


class QuestionBank(Model):
    """A bank of questions owned at an org node; everyone at or below it may use it."""

    __tablename__ = "quiz_question_banks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    unit: Mapped[Unit] = relationship(lazy="joined")
    created_by: Mapped[User | None] = relationship()


class QuestionCategory(Model):
    """A category inside a bank ("禁毒知识/毒品危害"); random draws take questions from one."""

    __tablename__ = "quiz_question_categories"
    __table_args__ = (UniqueConstraint("bank_id", "parent_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bank_id: Mapped[int] = mapped_column(
        ForeignKey("quiz_question_banks.id", ondelete="CASCADE"), index=True
    )
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("quiz_question_categories.id", ondelete="CASCADE")
    )
    name: Mapped[str] = mapped_column(String(120))

    bank: Mapped[QuestionBank] = relationship()


class Question(Model):
    """A question's identity and tags; its content lives in versions (editing adds one)."""

    __tablename__ = "quiz_questions"
    __table_args__ = (Index("ix_quiz_questions_strata", "category_id", "topic", "difficulty"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bank_id: Mapped[int] = mapped_column(
        ForeignKey("quiz_question_banks.id", ondelete="CASCADE"), index=True
    )
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("quiz_question_categories.id", ondelete="SET NULL")
    )
    #: the version served to new attempts (no FK: versions reference the question already)
    current_version_id: Mapped[int | None] = mapped_column(Integer)
    #: tags: the grade band (小学/初中/高中 or "5-6"), the topic, and difficulty 1 (easy) – 5 (hard)
    grade_band: Mapped[str | None] = mapped_column(String(32))
    topic: Mapped[str | None] = mapped_column(String(64))
    difficulty: Mapped[int | None] = mapped_column(Integer)
    is_archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    bank: Mapped[QuestionBank] = relationship()
    category: Mapped[QuestionCategory | None] = relationship()
    current_version: Mapped[QuestionVersion | None] = relationship(
        primaryjoin="foreign(Question.current_version_id) == QuestionVersion.id",
        lazy="joined",
        viewonly=True,
    )


class QuestionVersion(Model):
    """One immutable version of a question's content; attempts point at the version they served.

    ``data`` is what a student may see (options, prompts); ``grading`` (correct answers,
    fractions, accepted texts) never leaves the server before the review policy allows.
    """

    __tablename__ = "quiz_question_versions"
    __table_args__ = (
        UniqueConstraint("question_id", "number"),
        # what an attempt slot's (version, question) refers to
        UniqueConstraint("id", "question_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question_id: Mapped[int] = mapped_column(
        ForeignKey("quiz_questions.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(24))
    name: Mapped[str] = mapped_column(String(255), default="")
    #: HTML allowed; sanitised whenever it is sent to a browser
    stem: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    grading: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    default_mark: Mapped[float] = mapped_column(Float, default=1.0)
    general_feedback: Mapped[str] = mapped_column(Text, default="")
    #: an image or audio (a ready ``media`` asset) shown with the stem; part of the version
    media_asset_id: Mapped[str | None] = mapped_column(ForeignKey("assets.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    question: Mapped[Question] = relationship(foreign_keys=[question_id])
