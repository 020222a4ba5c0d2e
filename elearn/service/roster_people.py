"""Roster import: the words a roster file uses, the row errors and the plan of an import (what
``roster_validation`` finds and ``rosters`` carries out)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from elearn.models import Role, Unit, User
from elearn.service.roster_places import Place

ROLE_WORDS = {
    "学生": Role.STUDENT,
    "student": Role.STUDENT,
    "教师": Role.TEACHER,
    "老师": Role.TEACHER,
    "teacher": Role.TEACHER,
    "家长": Role.GUARDIAN,
    "监护人": Role.GUARDIAN,
    "parent": Role.GUARDIAN,
    "guardian": Role.GUARDIAN,
}
ROLE_NAMES = {Role.STUDENT: "学生", Role.TEACHER: "教师", Role.GUARDIAN: "家长"}
RELATIONS = ("父亲", "母亲", "祖父", "祖母", "外祖父", "外祖母", "其他监护人")
RELATION_WORDS = {
    "爸爸": "父亲",
    "妈妈": "母亲",
    "爷爷": "祖父",
    "奶奶": "祖母",
    "外公": "外祖父",
    "姥爷": "外祖父",
    "外婆": "外祖母",
    "姥姥": "外祖母",
    "其他": "其他监护人",
}
EXTERNAL_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
SCIENTIFIC_RE = re.compile(r"^\d(\.\d+)?[eE][+]?\d+$")
MAX_NAME = 64


@dataclass(frozen=True)
class RowError:
    row: int | None
    message: str

    def as_dict(self) -> dict[str, object]:
        return {"row": self.row, "message": self.message}


@dataclass(eq=False)
class Person:
    role: str
    key: str  # the 编号 of students and teachers, the phone of guardians
    name: str
    phone: str | None
    school: Unit
    first_row: int
    #: students: exactly one class; teachers: the classes/grades they teach (None: whole school)
    places: list[Place | None] = field(default_factory=list)
    #: guardians: student 编号 → (relation, row)
    children: dict[str, tuple[str, int]] = field(default_factory=dict)
    #: id() of each place → the row that gave it
    place_rows: dict[int, int] = field(default_factory=dict)
    existing: User | None = None
    #: an existing account outside this school (a parent with children in two schools): link it,
    #: but leave its name alone
    may_rename: bool = True


@dataclass
class Plan:
    schools: list[Unit]
    people: list[Person]
    places: list[Place]
    rows: int
    #: students already in the school (not in the file) whom a guardian row names
    school_students: dict[str, User] = field(default_factory=dict)
