"""Roster import: grades and classes as people write them (七年级, 初一, 7; 1班, (3)班, 7-1).

Each is matched to an existing unit of the school by code or name, or planned for creation, so
that importing the same file twice finds what the first import created.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import or_, select

from elearn.extensions import db
from elearn.models import Unit

CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
GRADE_WORDS = {"初一": 7, "初二": 8, "初三": 9, "高一": 10, "高二": 11, "高三": 12}
KINDERGARTEN = {"小班": "K1", "中班": "K2", "大班": "K3"}


@dataclass(eq=False)
class Place:
    """A grade or class of a school: one that exists, or one the import will create."""

    school: Unit
    name: str
    code: str | None
    grade_level: int | None = None
    unit: Unit | None = None
    parent: Place | None = None  # a class's grade

    @property
    def is_new(self) -> bool:
        return self.unit is None


def _number(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    if text == "十":
        return 10
    if len(text) == 2 and text[0] == "十" and text[1] in CN_DIGITS:
        return 10 + CN_DIGITS[text[1]]
    if len(text) == 1 and text in CN_DIGITS:
        return CN_DIGITS[text]
    return None


def grade_name(level: int) -> str:
    if 1 <= level <= 9:
        return "一二三四五六七八九"[level - 1] + "年级"
    if 10 <= level <= 12:
        return ("高一", "高二", "高三")[level - 10]
    return f"{level}年级"


def parse_grade(text: str) -> tuple[int | None, str, str | None] | None:
    """(level, name, code) of a grade as people write it: 七年级, 7, G7, 初一; None if not a grade."""
    t = re.sub(r"\s+", "", text)
    if t in GRADE_WORDS:
        return GRADE_WORDS[t], t, f"G{GRADE_WORDS[t]}"
    if t in KINDERGARTEN:
        return 0, t, KINDERGARTEN[t]
    match = re.fullmatch(r"[Gg]?(\d{1,2})(?:年级)?|([一二三四五六七八九十]{1,2})年级", t)
    if match:
        level = _number(match.group(1) or match.group(2))
        if level is not None and 1 <= level <= 16:
            return level, grade_name(level), f"G{level}"
    return None


class Places:
    """Finds grades and classes of the schools by code or name, and plans the missing ones."""

    def __init__(self, schools: Iterable[Unit]):
        self.planned: list[Place] = []
        self._grades: dict[int, list[Unit]] = {}
        self._classes: dict[int, list[Unit]] = {}
        self._memo: dict[tuple, Place] = {}
        schools = list(schools)
        if not schools:
            return
        below = db.session.scalars(
            select(Unit).where(
                Unit.type.in_(["grade", "class"]),
                or_(*[Unit.path.startswith(s.path) for s in schools]),
            )
        ).all()
        for unit in below:
            bucket = self._grades if unit.type == "grade" else self._classes
            bucket.setdefault(unit.parent_id or 0, []).append(unit)

    def _existing(self, units: list[Unit], code: str | None, names: list[str]) -> Unit | None:
        if code:
            for unit in units:
                if unit.code == code:
                    return unit
        for name in names:
            for unit in units:
                if unit.name == name:
                    return unit
        return None

    def grade(self, school: Unit, text: str) -> Place | None:
        parsed = parse_grade(text)
        existing_grades = self._grades.get(school.id, [])
        if parsed is None:
            unit = self._existing(existing_grades, None, [text])
            if unit is None:
                return None
            parsed = (unit.grade_level, unit.name, unit.code)
        level, name, code = parsed
        unit = self._existing(existing_grades, code, [name, text])
        if unit is None and level:
            same_level = [g for g in existing_grades if g.grade_level == level]
            unit = same_level[0] if len(same_level) == 1 else None
        key = ("grade", school.id, unit.id if unit else code or name)
        if key not in self._memo:
            if unit is not None:
                place = Place(school, unit.name, unit.code, unit.grade_level, unit=unit)
            else:
                place = Place(school, name, code, level)
                self.planned.append(place)
            self._memo[key] = place
        return self._memo[key]

    def klass(self, grade: Place, text: str) -> Place | str:
        """The class, or a message saying why the text names none."""
        t = re.sub(r"\s+", "", text).removeprefix(grade.name)  # "七年级1班" → "1班"
        level = grade.grade_level
        number: int | None = None
        dashed = re.fullmatch(r"(\d{1,2})-(\d{1,3})", t)
        if dashed:
            if level is not None and int(dashed.group(1)) != level:
                return _("Class %(klass)s is not in grade %(grade)s.", klass=text, grade=grade.name)
            number = int(dashed.group(2))
        else:
            plain = re.fullmatch(r"第?[（(]?(\d{1,3}|[一二三四五六七八九十]{1,3})[)）]?班?", t)
            if plain:
                number = _number(plain.group(1))
        siblings = self._classes.get(grade.unit.id, []) if grade.unit else []
        if number is not None:
            code = f"{level}-{number}" if level is not None else None
            name = f"{grade.name}{number}班"
            unit = self._existing(siblings, code, [name, f"{number}班", t])
        else:
            code, name = None, t
            unit = self._existing(siblings, None, [t])
        if len(name) > 120:
            return _("The class name %(klass)s is too long.", klass=text[:40])
        key = ("class", id(grade), unit.id if unit else code or name)
        if key not in self._memo:
            if unit is not None:
                place = Place(grade.school, unit.name, unit.code, unit=unit, parent=grade)
            else:
                place = Place(grade.school, name, code, parent=grade)
                self.planned.append(place)
            self._memo[key] = place
        return self._memo[key]
