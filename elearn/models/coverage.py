"""Coverage facts (evidence, written once) and their per-unit, per-term rollups."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from elearn.extensions import Model
from elearn.models._types import UTCDateTime, utcnow


class FactKind(enum.StrEnum):
    SCHOOL_CONNECTED = "school_connected"
    TEACHER_TRAINED = "teacher_trained"
    STUDENT_COURSE = "student_course"
    STUDENT_ASSESSED = "student_assessed"
    PARENT_ACTIVATED = "parent_activated"
    PARENT_LEARNING = "parent_learning"
    #: a guardian read an announcement addressed to them this term (notification reach)
    PARENT_REACHED = "parent_reached"


#: kinds that, once true, stay true in later terms (a school stays connected)
CUMULATIVE_KINDS = frozenset({FactKind.SCHOOL_CONNECTED, FactKind.PARENT_ACTIVATED})


class CoverageFact(Model):
    """One piece of evidence: this subject (a user or a school) did this thing in this term."""

    __tablename__ = "coverage_facts"
    __table_args__ = (UniqueConstraint("kind", "subject_id", "term_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[int] = mapped_column(Integer)
    #: the org node the subject belonged to when the fact was seen (a class, or a school)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    term_id: Mapped[int] = mapped_column(ForeignKey("terms.id"))
    #: rural or urban school, kept so targets can be weighted without a join
    is_rural: Mapped[bool] = mapped_column(default=False)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CoverageRollup(Model):
    """How many facts of a kind lie under a unit in a term; one row per unit × term × kind."""

    __tablename__ = "coverage_rollups"

    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    term_id: Mapped[int] = mapped_column(ForeignKey("terms.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class CoverageWeekly(Model):
    """How many facts of a kind were seen under a unit in one week of a term (the week's Monday
    on the installation's clock): the dashboards' trend within a term, read without the facts."""

    __tablename__ = "coverage_weekly"

    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    term_id: Mapped[int] = mapped_column(ForeignKey("terms.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    week: Mapped[date] = mapped_column(Date, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class UnitPopulation(Model):
    """The denominators under a unit, counted from the org tree when rosters change."""

    __tablename__ = "unit_populations"

    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    schools: Mapped[int] = mapped_column(Integer, default=0)
    rural_schools: Mapped[int] = mapped_column(Integer, default=0)
    teachers: Mapped[int] = mapped_column(Integer, default=0)
    students: Mapped[int] = mapped_column(Integer, default=0)
    guardians: Mapped[int] = mapped_column(Integer, default=0)
    rural_guardians: Mapped[int] = mapped_column(Integer, default=0)
    counted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
