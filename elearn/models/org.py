"""The org tree (prefecture → county → school → grade → class) and academic terms."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from elearn.extensions import Model
from elearn.models._types import UTCDateTime, utcnow


class UnitType(enum.StrEnum):
    PREFECTURE = "prefecture"
    COUNTY = "county"
    SCHOOL = "school"
    GRADE = "grade"
    CLASS = "class"


#: which child type each unit type holds
CHILD_TYPE: dict[UnitType, UnitType | None] = {
    UnitType.PREFECTURE: UnitType.COUNTY,
    UnitType.COUNTY: UnitType.SCHOOL,
    UnitType.SCHOOL: UnitType.GRADE,
    UnitType.GRADE: UnitType.CLASS,
    UnitType.CLASS: None,
}


#: the depth of each level in a unit's path ("/prefecture/county/school/grade/class/"), counted
#: from 1: the one statement of "a school is path level 3" (and a grade level 4)
SCHOOL_LEVEL = 3
GRADE_LEVEL = 4


def path_ids(path: str | None) -> list[int]:
    """The unit ids of a path ("/1/4/17/" → [1, 4, 17]), from the root down."""
    return [int(part) for part in (path or "").strip("/").split("/") if part]


class SchoolKind(enum.StrEnum):
    KINDERGARTEN = "kindergarten"
    PRIMARY = "primary"
    JUNIOR = "junior"
    SENIOR = "senior"
    VOCATIONAL = "vocational"
    UNIVERSITY = "university"


class Unit(Model):
    """A node of the org tree. ``path`` ("/1/4/17/") makes a subtree one indexed prefix match."""

    __tablename__ = "units"
    __table_args__ = (
        UniqueConstraint("parent_id", "code"),
        Index("ix_units_path_prefix", "path", postgresql_ops={"path": "varchar_pattern_ops"}),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[str] = mapped_column(String(16), index=True)
    name: Mapped[str] = mapped_column(String(120))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    path: Mapped[str] = mapped_column(String(255), default="")
    #: a stable code from the education bureau (school code, "7-2" for a class); roster imports key on it
    code: Mapped[str | None] = mapped_column(String(64))
    school_kind: Mapped[str | None] = mapped_column(String(16))
    is_rural: Mapped[bool | None] = mapped_column(Boolean)
    #: grades: 0 for kindergarten, 1–12 for school years, 13+ for vocational/university years
    grade_level: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    parent: Mapped[Unit | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Unit]] = relationship(back_populates="parent", order_by="Unit.name")

    @property
    def ancestor_ids(self) -> list[int]:
        """Ids from the root down to this unit itself."""
        return path_ids(self.path)

    @staticmethod
    def school_id_in(path: str | None) -> int | None:
        """The id of the school a unit path lies in (the school's own), None above school level."""
        ids = path_ids(path)
        return ids[SCHOOL_LEVEL - 1] if len(ids) >= SCHOOL_LEVEL else None

    @property
    def school_id(self) -> int | None:
        """The id of the school this unit lies in (its own for a school); None above school level."""
        return Unit.school_id_in(self.path)

    @property
    def grade_id(self) -> int | None:
        """The id of the grade this unit lies in (its own for a grade); None above grade level."""
        ids = self.ancestor_ids
        return ids[GRADE_LEVEL - 1] if len(ids) >= GRADE_LEVEL else None

    @property
    def school_path(self) -> str:
        """The path of the school this unit lies in (its subtree is the school's), or the unit's
        own path above school level."""
        return "/" + "/".join(str(i) for i in self.ancestor_ids[:SCHOOL_LEVEL]) + "/"

    @property
    def depth(self) -> int:
        return len(self.ancestor_ids) - 1

    def is_within(self, other: Unit) -> bool:
        """True when this unit is ``other`` or lies below it."""
        return self.path.startswith(other.path)

    def __repr__(self) -> str:
        return f"<Unit {self.id} {self.type} {self.name!r}>"


class Term(Model):
    """An academic term (学期); the current one is the term whose dates contain today."""

    __tablename__ = "terms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
