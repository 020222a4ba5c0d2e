"""Roster import, phase 1: check every row against the file and the database; write nothing.

The result is either a list of row errors (the job fails, nothing is imported) or a ``Plan``:
who to create or update, at which grade and class, which guardian belongs to which student.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from elearn.extensions import db
from elearn.models import Role, Unit
from elearn.service.accounts import normalise_phone, validate_phone
from elearn.service.errors import ServiceError
from elearn.service.roster_accounts import AccountChecks
from elearn.service.roster_files import (
    CLASS,
    EXTERNAL_ID,
    GRADE,
    NAME,
    PHONE,
    RELATION,
    ROLE,
    SCHOOL_CODE,
    STUDENT_ID,
    RosterRow,
    RosterTable,
)
from elearn.service.roster_people import (
    EXTERNAL_ID_RE,
    MAX_NAME,
    RELATION_WORDS,
    RELATIONS,
    ROLE_NAMES,
    ROLE_WORDS,
    SCIENTIFIC_RE,
    Person,
    Plan,
    RowError,
)
from elearn.service.roster_places import Place, Places


class _Checker(AccountChecks):
    def __init__(self, unit: Unit, table: RosterTable):
        super().__init__()
        self.unit = unit
        self.table = table
        self.schools: dict[int, Unit] = {}
        self.student_rows: dict[str, tuple[str, Place | None, int]] = {}

    # --- schools -----------------------------------------------------------------------------

    def school_of(self, row: RosterRow) -> Unit | None:
        code = row.get(SCHOOL_CODE)
        if self.unit.type == "school":
            if code and code != (self.unit.code or ""):
                self.error(
                    row.number,
                    _(
                        "学校代码 %(code)s is not the code of %(school)s (%(own)s). Leave it empty "
                        "or correct it.",
                        code=code,
                        school=self.unit.name,
                        own=self.unit.code or "-",
                    ),
                )
                return None
            return self.unit
        if not code:
            self.error(
                row.number,
                _("学校代码 is empty: when a county imports, every row names its school."),
            )
            return None
        school = self._county_schools.get(code)
        if school is None:
            self.error(
                row.number,
                _("No school with code %(code)s in %(county)s.", code=code, county=self.unit.name),
            )
        return school

    # --- the rows ------------------------------------------------------------------------------

    def run(self) -> Plan | list[RowError]:
        self._county_schools = {}
        if self.unit.type == "county":
            self._county_schools = {
                s.code: s
                for s in db.session.scalars(
                    select(Unit).where(Unit.parent_id == self.unit.id, Unit.type == "school")
                )
                if s.code
            }
        parsed = []
        for row in self.table.rows:
            school = self.school_of(row)
            if school is not None:
                self.schools[school.id] = school
            parsed.append((row, school))
        self.places = Places(self.schools.values())
        for row, school in parsed:
            self.check_row(row, school)
        self.check_children()
        self.check_database()
        if self.errors:
            return sorted(self.errors, key=lambda e: e.row or 0)
        people = [*self.students.values(), *self.teachers.values(), *self.guardians.values()]
        return Plan(
            schools=sorted(self.schools.values(), key=lambda s: s.id),
            people=people,
            places=self.places.planned,
            rows=len(self.table.rows),
            school_students=self.school_students,
        )

    def check_row(self, row: RosterRow, school: Unit | None) -> None:
        n = row.number
        role_text = row.get(ROLE)
        role = ROLE_WORDS.get(role_text.lower())
        if role is None:
            if role_text:
                self.error(
                    n, _("Role %(role)s is unknown: write 学生, 教师 or 家长.", role=role_text)
                )
            else:
                self.error(n, _("角色 is empty: write 学生, 教师 or 家长."))
        name = row.get(NAME)
        if not name:
            self.error(n, _("姓名 (name) is empty."))
        elif len(name) > MAX_NAME:
            self.error(n, _("The name is longer than %(n)d characters.", n=MAX_NAME))
        phone = self.phone(row)
        if role is None or school is None or not name or len(name) > MAX_NAME:
            return
        if role == Role.GUARDIAN:
            self.guardian_row(row, school, name, phone)
            return
        external_id = self.external_id(row)
        place = self.place(row, school, role)
        if external_id is None or isinstance(place, bool):
            return
        self.person_row(row, school, role, external_id, name, phone, place)

    def phone(self, row: RosterRow) -> str | None | bool:
        raw = row.get(PHONE)
        if not raw:
            return None
        try:
            return validate_phone(raw)
        except ServiceError as error:
            self.error(row.number, error.message)
            return False

    def external_id(self, row: RosterRow) -> str | None:
        value = row.get(EXTERNAL_ID)
        if not value:
            self.error(row.number, _("编号 is empty: students and teachers need their number."))
            return None
        if SCIENTIFIC_RE.match(value):
            self.error(
                row.number,
                _(
                    "编号 %(id)s was turned into a number by Excel. Format the 编号 column as Text, "
                    "type the numbers again and save.",
                    id=value,
                ),
            )
            return None
        if not EXTERNAL_ID_RE.match(value):
            self.error(
                row.number,
                _(
                    "编号 %(id)s may contain only letters, digits, “-”, “_” and “.” (at most 64).",
                    id=value,
                ),
            )
            return None
        return value

    def place(self, row: RosterRow, school: Unit, role: str) -> Place | None | bool:
        grade_text, class_text = row.get(GRADE), row.get(CLASS)
        if not grade_text:
            if role == Role.TEACHER and not class_text:
                return None  # a teacher of the whole school
            self.error(
                row.number,
                _("年级 is empty.")
                if role == Role.TEACHER
                else _("A student needs a grade (年级) and a class (班级)."),
            )
            return False
        grade = self.places.grade(school, grade_text)
        if grade is None:
            self.error(
                row.number,
                _(
                    "Grade %(grade)s is not understood: write it like 七年级, 初一 or 7, or use the "
                    "name of an existing grade.",
                    grade=grade_text,
                ),
            )
            return False
        if not class_text:
            if role == Role.TEACHER:
                return grade
            self.error(row.number, _("A student needs a grade (年级) and a class (班级)."))
            return False
        klass = self.places.klass(grade, class_text)
        if isinstance(klass, str):
            self.error(row.number, klass)
            return False
        return klass

    def claim_phone(self, person: Person, phone: str | None | bool, row: int) -> None:
        if not isinstance(phone, str):
            return
        holder = self.phones.get(phone)
        if holder is None:
            self.phones[phone] = (person, row)
        elif holder[0] is not person:
            self.error(
                row,
                _(
                    "Phone %(phone)s is also given for %(name)s in row %(other)d; two people "
                    "cannot share a phone number.",
                    phone=phone,
                    name=holder[0].name,
                    other=holder[1],
                ),
            )

    def person_row(
        self,
        row: RosterRow,
        school: Unit,
        role: str,
        external_id: str,
        name: str,
        phone: str | None | bool,
        place: Place | None,
    ) -> None:
        n = row.number
        mine = self.students if role == Role.STUDENT else self.teachers
        other = self.teachers if role == Role.STUDENT else self.students
        if external_id in other:
            first = other[external_id]
            self.error(
                n,
                _(
                    "编号 %(id)s is a %(role)s here but a %(other_role)s in row %(other)d.",
                    id=external_id,
                    role=ROLE_NAMES[Role(role)],
                    other_role=ROLE_NAMES[Role(first.role)],
                    other=first.first_row,
                ),
            )
            return
        person = mine.get(external_id)
        phone_value = phone if isinstance(phone, str) else None
        if person is None:
            person = Person(role, external_id, name, phone_value, school, n, places=[place])
            mine[external_id] = person
        else:
            same_place = (
                place in person.places if role == Role.TEACHER else person.places == [place]
            )
            if (
                person.name != name
                or person.school is not school
                or (phone_value or None) != person.phone
                or (role == Role.STUDENT and not same_place)
            ):
                self.error(
                    n,
                    _(
                        "编号 %(id)s also appears in row %(other)d with a different name, school, "
                        "class or phone. Keep one row per person (teachers: the same name and phone "
                        "on each of their classes).",
                        id=external_id,
                        other=person.first_row,
                    ),
                )
                return
            if same_place:
                # the same person at the same class again: the file has a stray copy
                self.repeated(n, person.place_rows.get(id(place), person.first_row))
                return
            person.places.append(place)
        person.place_rows.setdefault(id(place), n)
        self.claim_phone(person, phone, n)

    def repeated(self, row: int, other: int) -> None:
        self.error(row, _("This row repeats row %(other)d. Delete one of them.", other=other))

    def guardian_row(
        self, row: RosterRow, school: Unit, name: str, phone: str | None | bool
    ) -> None:
        n = row.number
        student_id = row.get(STUDENT_ID)
        relation_text = row.get(RELATION)
        relation = RELATION_WORDS.get(relation_text, relation_text)
        ok = self._guardian_fields(n, phone, student_id, relation, relation_text)
        if not ok or not isinstance(phone, str):
            return
        person = self._guardian(n, school, name, phone)
        if person is None:
            return
        known = person.children.get(student_id)
        if known is not None and known[0] == relation:
            self.repeated(n, known[1])
            return
        if known is not None:
            self.error(
                n,
                _(
                    "Row %(other)d gives another relation between this parent and student %(id)s.",
                    other=known[1],
                    id=student_id,
                ),
            )
            return
        person.children.setdefault(student_id, (relation, n))
        self.claim_phone(person, phone, n)

    def _guardian_fields(
        self, n: int, phone: str | None | bool, student_id: str, relation: str, relation_text: str
    ) -> bool:
        """A guardian row's phone, child and relation are given (each missing one reported)."""
        ok = True
        if phone is None:
            self.error(n, _("A parent needs a phone number (手机号): it is their login name."))
            ok = False
        if not student_id:
            self.error(n, _("A parent needs the 编号 of their child (关联学生编号)."))
            ok = False
        if relation not in RELATIONS:
            self.error(
                n,
                _(
                    "关系 %(relation)s is unknown: write one of %(choices)s.",
                    relation=relation_text or "-",
                    choices="、".join(RELATIONS),
                ),
            )
            ok = False
        return ok

    def _guardian(self, n: int, school: Unit, name: str, phone: str) -> Person | None:
        """The guardian of this phone (new, or the same one of an earlier row); None when an
        earlier row gives the phone to someone else or puts them in another school."""
        person = self.guardians.get(phone)
        if person is None:
            person = Person(Role.GUARDIAN, phone, name, phone, school, n)
            self.guardians[phone] = person
        elif person.name != name:
            self.error(
                n,
                _(
                    "Phone %(phone)s is also given for %(name)s in row %(other)d; two people "
                    "cannot share a phone number.",
                    phone=phone,
                    name=person.name,
                    other=person.first_row,
                ),
            )
            return None
        elif person.school is not school:
            self.error(
                n,
                _(
                    "Row %(other)d puts this parent in another school; import each school's "
                    "parents with that school.",
                    other=person.first_row,
                ),
            )
            return None
        return person


def check(unit: Unit, table: RosterTable) -> Plan | list[RowError]:
    """Check every row; return the plan of the import, or every problem found (by row)."""
    return _Checker(unit, table).run()


__all__ = ["Person", "Place", "Plan", "RowError", "check", "normalise_phone"]
