"""The rows a scale seed writes, in PostgreSQL COPY text format: units, accounts, roles and links.

Names are Chinese and come from a generator seeded per school, so a school's people are the same
on every run.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

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
        school_path = f"{root_path}{county_id}/{school.id}/"
        lines.append(
            row(
                school.id,
                "school",
                school_name(county_name, school, serial, rng),
                county_id,
                school_path,
                f"{county_code}-{school.index + 1:04d}",
                school.kind,
                school.is_rural,
                None,
                now,
            )
        )
        grades = KIND_GRADES[school.kind]
        per_grade = len(school.class_sizes) // len(grades)
        for grade_code, level, grade_name in grades:
            grade_id = next(ids)
            grade_path = f"{school_path}{grade_id}/"
            lines.append(
                row(
                    grade_id,
                    "grade",
                    grade_name,
                    school.id,
                    grade_path,
                    grade_code,
                    None,
                    None,
                    level,
                    now,
                )
            )
            for n in range(1, per_grade + 1):
                class_id = next(ids)
                school.class_ids.append(class_id)
                if school.kind == "kindergarten":
                    class_name = f"{grade_name[0]}{CN_NUMBERS[n] if n <= 10 else n}班"
                else:
                    class_name = f"{grade_name}（{n}）班"
                lines.append(
                    row(
                        class_id,
                        "class",
                        class_name,
                        grade_id,
                        f"{grade_path}{class_id}/",
                        f"{grade_code}-{n}",
                        None,
                        None,
                        None,
                        now,
                    )
                )
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


def people_rows(
    spec: ScaleSpec, school: School, counters: Counters, ids: Iterator[int], now: str
) -> tuple[list[str], list[str], list[str]]:
    """Users, role assignments and guardian links of one school (deterministic per school)."""
    rng = random.Random(f"{spec.seed}:{school.index}")
    names = Names(rng)
    users: list[str] = []
    roles: list[str] = []
    links: list[str] = []
    p = spec.username_prefix

    for n in range(school.teachers):
        counters.teachers += 1
        serial = counters.teachers
        user_id = next(ids)
        users.append(
            row(
                user_id,
                f"{p}t{serial:06d}",
                f"{spec.teacher_phone_prefix}{serial:08d}",
                names.full(names.surname(school.is_rural)),
                UNUSABLE_PASSWORD,
                f"{spec.code}-T{serial:06d}",
                True,
                False,
                0,
                now,
            )
        )
        # head teachers (班主任) at their class, the rest of the staff at the school
        unit_id = school.class_ids[n] if n < len(school.class_ids) else school.id
        roles.append(row(user_id, "teacher", unit_id, now))

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
    for number, children in enumerate(families):
        surname = names.surname(school.is_rural)
        student_ids: list[int] = []
        for class_id in children:
            counters.students += 1
            serial = counters.students
            user_id = next(ids)
            student_ids.append(user_id)
            users.append(
                row(
                    user_id,
                    f"{p}s{serial:07d}",
                    None,
                    names.full(surname),
                    UNUSABLE_PASSWORD,
                    f"{spec.code}-S{serial:07d}",
                    True,
                    False,
                    0,
                    now,
                )
            )
            roles.append(row(user_id, "student", class_id, now))
        if number < school.single_guardian_families:
            if school.is_rural and rng.random() < 0.3:
                relations = ["祖母"]  # left-behind children live with a grandparent
            else:
                relations = ["母亲" if rng.random() < 0.6 else "父亲"]
        elif school.is_rural and rng.random() < 0.3:
            relations = ["祖父", "祖母"]
        else:
            relations = ["父亲", "母亲"]
        for relation in relations:
            counters.guardians += 1
            serial = counters.guardians
            user_id = next(ids)
            family_name = (
                surname if relation in {"父亲", "祖父"} else names.surname(school.is_rural)
            )
            users.append(
                row(
                    user_id,
                    f"{p}g{serial:07d}",
                    f"{spec.guardian_phone_prefix}{serial:08d}",
                    names.full(family_name),
                    UNUSABLE_PASSWORD,
                    None,
                    True,
                    False,
                    0,
                    now,
                )
            )
            # A guardian holds the role once, at the eldest child's class, so populations and
            # "parent activated" facts count each person once; the links reach every child.
            roles.append(row(user_id, "guardian", children[0], now))
            for student_id in student_ids:
                links.append(row(user_id, student_id, relation))
                counters.links += 1
    return users, roles, links
