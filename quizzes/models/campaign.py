"""Campaigns (调度): a term exam or survey sent to many units; anonymous survey responses."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from elearn.extensions import Model
from elearn.models import Unit
from elearn.models._types import UTCDateTime, utcnow
from quizzes.models.quiz import Quiz


class QuizKind(enum.StrEnum):
    QUIZ = "quiz"
    #: a term exam: completing it records the assessment coverage fact
    EXAM = "exam"
    SURVEY = "survey"


class Campaign(Model):
    """Who sent which exam or survey to whom; the audience lives on the quiz."""

    __tablename__ = "quiz_campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    #: the sending unit (a prefecture or county); its admins follow the campaign
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"), unique=True)
    term_id: Mapped[int | None] = mapped_column(ForeignKey("terms.id"))
    #: percent of the maximum score that counts as excellent (优秀)
    excellent_mark: Mapped[float] = mapped_column(Float, default=85.0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    unit: Mapped[Unit] = relationship(lazy="joined")
    quiz: Mapped[Quiz] = relationship(lazy="joined")


def _random_id() -> str:
    # random, not serial: the order of responses must not line up with the order of participants
    return uuid.uuid4().hex


class SurveyResponse(Model):
    """An anonymous survey's answers. No user, no attempt, no time of day: nothing links it back."""

    __tablename__ = "quiz_survey_responses"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=_random_id)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"), index=True)
    #: the respondent's school, for results by school (groups under 5 are never shown)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    #: {question_id: answer}
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    submitted_on: Mapped[date] = mapped_column(Date)


class SurveyParticipation(Model):
    """That someone answered an anonymous survey (for participation rates); not what they said."""

    __tablename__ = "quiz_survey_participations"

    quiz_id: Mapped[int] = mapped_column(
        ForeignKey("quizzes.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
