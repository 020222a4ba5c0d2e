"""Roster import, phase 1 (``roster_validation``), its second half: the file's people against
the database (the children parents name, the accounts that already hold a 编号, phone or login
name). Writes nothing."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from elearn.extensions import db
from elearn.models import Role, Unit, User
from elearn.service.roster_people import ROLE_NAMES, Person, RowError


class AccountChecks:
    """What the row checks found (the people of the file by 编号 and phone, the errors), and the
    checks of it against the database."""

    def __init__(self) -> None:
        self.errors: list[RowError] = []
        self.students: dict[str, Person] = {}
        self.teachers: dict[str, Person] = {}
        self.guardians: dict[str, Person] = {}
        #: phone → (person, row), to find one number given for two people
        self.phones: dict[str, tuple[Person, int]] = {}
        #: students already in the school (not in the file) whom a guardian row names
        self.school_students: dict[str, User] = {}

    def error(self, row: int | None, message: str) -> None:
        self.errors.append(RowError(row, message))

    # --- guardians' children ---------------------------------------------------------------

    def check_children(self) -> None:
        """Each parent's child is a student of the file, or already a student of the school."""
        wanted = {
            sid for g in self.guardians.values() for sid in g.children if sid not in self.students
        }
        self.school_students = {}
        for chunk in _chunks(sorted(wanted)):
            for user in db.session.scalars(select(User).where(User.external_id.in_(chunk))):
                assert user.external_id is not None
                self.school_students[user.external_id] = user
        for guardian in self.guardians.values():
            for student_id, (_relation, n) in guardian.children.items():
                student = self.students.get(student_id)
                if student is not None:
                    if student.school is not guardian.school:
                        self.error(n, _("Student %(id)s is in another school.", id=student_id))
                    continue
                found = self.school_students.get(student_id)
                in_school = found is not None and any(
                    a.role == Role.STUDENT and a.unit.is_within(guardian.school)
                    for a in found.roles
                )
                if not in_school:
                    self.error(
                        n,
                        _(
                            "No student with 编号 %(id)s in this file or in %(school)s.",
                            id=student_id,
                            school=guardian.school.name,
                        ),
                    )

    # --- the accounts already in the database ------------------------------------------------

    def check_database(self) -> None:
        """The file's people against the accounts there are: the same 编号 is the same person
        (of this school, in the same role); a phone or login name belongs to one account."""
        keyed = [*self.students.values(), *self.teachers.values()]
        by_external = _load(User.external_id, [p.key for p in keyed])
        by_phone = _load(User.phone, list(self.phones))
        by_username = _load(
            User.username, [p.key for p in keyed] + [g.key for g in self.guardians.values()]
        )
        for person in keyed:
            found = by_external.get(person.key)
            if self._existing_keyed(person, found, by_username) and person.phone:
                holder = by_phone.get(person.phone)
                if holder is not None and holder is not person.existing:
                    self.phone_taken(person, holder)
        for guardian in self.guardians.values():
            self._existing_guardian(guardian, by_phone, by_username)

    def _existing_keyed(
        self, person: Person, user: User | None, by_username: dict[str, User]
    ) -> bool:
        """A student's or teacher's account by 编号 (``person.existing``); False when refused."""
        if user is None:
            if by_username.get(person.key) is not None:
                self.error(
                    person.first_row,
                    _(
                        "编号 %(id)s cannot be this person's login name: another account "
                        "already has it.",
                        id=person.key,
                    ),
                )
                return False
            return True
        if _outside(user, person.school):
            self.error(
                person.first_row,
                _(
                    "编号 %(id)s belongs to a person of another school. A person moving "
                    "school must first be removed there by its admin.",
                    id=person.key,
                ),
            )
            return False
        clash = Role.TEACHER if person.role == Role.STUDENT else Role.STUDENT
        if any(a.role == clash for a in user.roles):
            self.error(
                person.first_row,
                _(
                    "编号 %(id)s belongs to a %(role)s of this school, not a %(wanted)s.",
                    id=person.key,
                    role=ROLE_NAMES[clash],
                    wanted=ROLE_NAMES[Role(person.role)],
                ),
            )
            return False
        person.existing = user
        return True

    def _existing_guardian(
        self, guardian: Person, by_phone: dict[str, User], by_username: dict[str, User]
    ) -> None:
        user = by_phone.get(guardian.key)
        if user is None:
            if guardian.key in by_username:
                self.phone_taken(guardian, by_username[guardian.key])
            return
        # a parent's account may be a teacher's of this school, never a student's, nor anyone
        # else's outside it (a parent with children in two schools holds guardian roles only)
        if any(
            a.role == Role.STUDENT
            or (a.role != Role.GUARDIAN and not a.unit.is_within(guardian.school))
            for a in user.roles
        ):
            self.phone_taken(guardian, user)
            return
        guardian.existing = user
        guardian.may_rename = not _outside(user, guardian.school)

    def phone_taken(self, person: Person, holder: User) -> None:
        self.error(
            person.first_row,
            _(
                "Phone %(phone)s already belongs to another account%(where)s.",
                phone=person.phone,
                where=""
                if not _outside(holder, person.school)
                else _(" outside %(school)s", school=person.school.name),
            ),
        )


def _outside(user: User, school: Unit) -> bool:
    return any(not a.unit.is_within(school) for a in user.roles)


def _chunks(values: list[str], size: int = 1000) -> Iterable[list[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _load(column: Any, values: list[str]) -> dict[str, User]:
    found: dict[str, User] = {}
    for chunk in _chunks(sorted(set(values))):
        for user in db.session.scalars(select(User).where(column.in_(chunk))):
            found[getattr(user, column.key)] = user
    return found
