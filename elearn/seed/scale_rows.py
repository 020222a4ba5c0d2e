"""The rows a scale seed writes, in PostgreSQL COPY text format: units, accounts, roles and links.

Names are Chinese and come from a generator seeded per school, so a school's people are the same
on every run.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from elearn.seed.scale_plan import (
    CN_NUMBERS,
    HAN_GIVEN,
    HAN_SURNAMES,
    KIND_GRADES,
    SCHOOL_SUFFIX,
    TOWNS,
    YI_GIVEN,
    YI_SURNAMES,
    ScaleSpec,
    School,
    counties_of,
)
from elearn.service.accounts import UNUSABLE_PASSWORD

UNIT_COPY = (
    "COPY units (id, type, name, parent_id, path, code, school_kind, is_rural, grade_level,"
    " created_at) FROM STDIN"
)
USER_COPY = (
    "COPY users (id, username, phone, display_name, password_hash, external_id,"
    " is_active_account, must_change_password, failed_login_count, created_at) FROM STDIN"
)
ROLE_COPY = "COPY role_assignments (user_id, role, unit_id, created_at) FROM STDIN"
LINK_COPY = "COPY guardian_links (guardian_id, student_id, relation) FROM STDIN"


def _field(value: object) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    return str(value)


def row(*values: object) -> str:
    """One line of COPY text format (our values never hold tabs, newlines or backslashes)."""
    return "\t".join(map(_field, values)) + "\n"


def school_name(spec_county: str, school: School, serial: int, rng: random.Random) -> str:
    suffix = SCHOOL_SUFFIX[school.kind]
    if school.kind == "university":
        return f"{spec_county.rstrip('市县区')}{'师范' if serial % 2 else '民族'}{suffix}"
    if school.is_rural:
        town = TOWNS[rng.randrange(len(TOWNS) - 1)] + TOWNS[rng.randrange(len(TOWNS))]
        place = f"{town}乡" if school.kind in {"kindergarten", "primary"} else f"{town}镇"
        village = (
            f"{rng.choice('新和平安民团结光明红星胜利')}村" if school.kind == "primary" else ""
        )
        return f"{spec_county}{place}{village}{suffix}（{serial}）"
    return f"{spec_county}第{serial}{suffix}"


def unit_count(spec: ScaleSpec, schools: list[School]) -> int:
    """How many units the plan makes: root, counties, schools, grades and classes."""
    return (
        1
        + len(counties_of(spec))
        + sum(1 + len(KIND_GRADES[s.kind]) + len(s.class_sizes) for s in schools)
    )


def unit_rows(
    spec: ScaleSpec, schools: list[School], ids: Iterator[int], rng: random.Random, now: str
) -> list[str]:
    """The root, its counties, schools, grades and classes, with their paths; fills in the
    schools' and classes' ids. The root is the first row."""
    counties = counties_of(spec)
    lines: list[str] = []
    root_id = next(ids)
    root_path = f"/{root_id}/"
    lines.append(
        row(root_id, "prefecture", spec.name, None, root_path, spec.code, None, None, None, now)
    )
    county_ids: list[int] = []
    for name, code, _, _ in counties:
        county_id = next(ids)
        county_ids.append(county_id)
        path = f"{root_path}{county_id}/"
        lines.append(row(county_id, "county", name, root_id, path, code, None, None, None, now))
    serials: dict[tuple[int, str], int] = {}
    for school in schools:
        county_name, county_code = counties[school.county_index][:2]
        county_id = county_ids[school.county_index]
        school.id = next(ids)
        serial = serials[(school.county_index, school.kind)] = (
            serials.get((school.county_index, school.kind), 0) + 1
        )
        name = school_name(county_name, school, serial, rng)
        code = f"{county_code}-{school.index + 1:04d}"
        county_path = f"{root_path}{county_id}/"
        lines += _school_rows(school, name, code, (county_id, county_path), ids, now)
    return lines


def _school_rows(
    school: School,
    name: str,
    code: str,
    county: tuple[int, str],
    ids: Iterator[int],
    now: str,
) -> list[str]:
    """A school (its id taken), its grades and classes; fills in the classes' ids. ``county``:
    the county's id and path."""
    county_id, county_path = county
    school_path = f"{county_path}{school.id}/"
    lines = [
        row(school.id, "school", name, county_id, school_path, code, school.kind,
            school.is_rural, None, now)
    ]  # fmt: skip
    grades = KIND_GRADES[school.kind]
    per_grade = len(school.class_sizes) // len(grades)
    for grade_code, level, grade_name in grades:
        grade_id = next(ids)
        grade_path = f"{school_path}{grade_id}/"
        lines.append(
            row(grade_id, "grade", grade_name, school.id, grade_path, grade_code, None, None,
                level, now)
        )  # fmt: skip
        for n in range(1, per_grade + 1):
            class_id = next(ids)
            school.class_ids.append(class_id)
            if school.kind == "kindergarten":
                class_name = f"{grade_name[0]}{CN_NUMBERS[n] if n <= 10 else n}班"
            else:
                class_name = f"{grade_name}（{n}）班"
            lines.append(
                row(class_id, "class", class_name, grade_id, f"{grade_path}{class_id}/",
                    f"{grade_code}-{n}", None, None, None, now)
            )  # fmt: skip
    return lines


class Names:
    """Chinese names from a seeded generator: Han names, and Yi names in part of the rural schools."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def surname(self, rural: bool) -> str:
        if rural and self.rng.random() < 0.35:
            return self.rng.choice(YI_SURNAMES)
        # Common surnames are much more common: a rough power law over the list.
        return HAN_SURNAMES[int(len(HAN_SURNAMES) * self.rng.random() ** 2.2)]

    def given(self, surname: str) -> str:
        pool = YI_GIVEN if surname in YI_SURNAMES else HAN_GIVEN
        if len(surname) == 1 and self.rng.random() < 0.2:
            return self.rng.choice(pool)
        return self.rng.choice(pool) + self.rng.choice(pool)

    def full(self, surname: str) -> str:
        return surname + self.given(surname)


@dataclass
class Counters:
    students: int = 0
    teachers: int = 0
    guardians: int = 0
    links: int = 0


def account_count(school: School) -> int:
    """Teachers, students and guardians of a planned school."""
    families = school.students - school.sibling_pairs
    return school.teachers + school.students + 2 * families - school.single_guardian_families


@dataclass
class _Rows:
    """The rows of one school's people, and what makes them (deterministic per school)."""

    spec: ScaleSpec
    school: School
    counters: Counters
    ids: Iterator[int]
    now: str
    rng: random.Random
    names: Names
    users: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)

    def user(self, user_id: int, username: str, phone: str | None, name: str,
             external_id: str | None) -> None:  # fmt: skip
        self.users.append(
            row(user_id, username, phone, name, UNUSABLE_PASSWORD, external_id, True, False, 0,
                self.now)
        )  # fmt: skip

    def teachers(self) -> None:
        spec, school, p = self.spec, self.school, self.spec.username_prefix
        for n in range(school.teachers):
            self.counters.teachers += 1
            serial = self.counters.teachers
            user_id = next(self.ids)
            self.user(
                user_id,
                f"{p}t{serial:06d}",
                f"{spec.teacher_phone_prefix}{serial:08d}",
                self.names.full(self.names.surname(school.is_rural)),
                f"{spec.code}-T{serial:06d}",
            )
            # head teachers (班主任) at their class, the rest of the staff at the school
            unit_id = school.class_ids[n] if n < len(school.class_ids) else school.id
            self.roles.append(row(user_id, "teacher", unit_id, self.now))

    def families(self) -> list[list[int]]:
        """The students' classes, grouped by family (siblings together), in a shuffled order."""
        school, rng = self.school, self.rng
        seats = [
            class_id
            for class_id, size in zip(school.class_ids, school.class_sizes, strict=True)
            for _ in range(size)
        ]
        rng.shuffle(seats)
        pairs = school.sibling_pairs
        families: list[list[int]] = [seats[2 * i : 2 * i + 2] for i in range(pairs)]
        families += [[class_id] for class_id in seats[2 * pairs :]]
        rng.shuffle(families)
        return families

    def students(self, children: list[int], surname: str) -> list[int]:
        spec, p = self.spec, self.spec.username_prefix
        student_ids: list[int] = []
        for class_id in children:
            self.counters.students += 1
            serial = self.counters.students
            user_id = next(self.ids)
            student_ids.append(user_id)
            self.user(
                user_id,
                f"{p}s{serial:07d}",
                None,
                self.names.full(surname),
                f"{spec.code}-S{serial:07d}",
            )
            self.roles.append(row(user_id, "student", class_id, self.now))
        return student_ids

    def relations(self, number: int) -> list[str]:
        """Who looks after the ``number``-th family."""
        school, rng = self.school, self.rng
        if number < school.single_guardian_families:
            if school.is_rural and rng.random() < 0.3:
                return ["祖母"]  # left-behind children live with a grandparent
            return ["母亲" if rng.random() < 0.6 else "父亲"]
        if school.is_rural and rng.random() < 0.3:
            return ["祖父", "祖母"]
        return ["父亲", "母亲"]

    def guardians(self, number: int, children: list[int], surname: str,
                  student_ids: list[int]) -> None:  # fmt: skip
        spec, p = self.spec, self.spec.username_prefix
        for relation in self.relations(number):
            self.counters.guardians += 1
            serial = self.counters.guardians
            user_id = next(self.ids)
            family_name = (
                surname
                if relation in {"父亲", "祖父"}
                else self.names.surname(self.school.is_rural)
            )
            self.user(
                user_id,
                f"{p}g{serial:07d}",
                f"{spec.guardian_phone_prefix}{serial:08d}",
                self.names.full(family_name),
                None,
            )
            # A guardian holds the role once, at the eldest child's class, so populations and
            # "parent activated" facts count each person once; the links reach every child.
            self.roles.append(row(user_id, "guardian", children[0], self.now))
            for student_id in student_ids:
                self.links.append(row(user_id, student_id, relation))
                self.counters.links += 1


def people_rows(
    spec: ScaleSpec, school: School, counters: Counters, ids: Iterator[int], now: str
) -> tuple[list[str], list[str], list[str]]:
    """Users, role assignments and guardian links of one school (deterministic per school)."""
    rng = random.Random(f"{spec.seed}:{school.index}")
    rows = _Rows(spec, school, counters, ids, now, rng, Names(rng))
    rows.teachers()
    for number, children in enumerate(rows.families()):
        surname = rows.names.surname(school.is_rural)
        student_ids = rows.students(children, surname)
        rows.guardians(number, children, surname, student_ids)
    return rows.users, rows.roles, rows.links
