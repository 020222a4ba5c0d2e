"""Whom a person can start a conversation with, for the "new conversation" page: the people the
table of ``rules`` allows, found from where the person stands (a guardian's children's classes,
a teacher's classes and school, an admin's unit), each checked against the table again."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from elearn.extensions import db
from elearn.models import GuardianLink, Role, RoleAssignment, Unit, User
from elearn.models.accounts import ADMIN_ROLES
from elearn.models.org import path_ids
from parents.interaction import rules


@dataclass(frozen=True)
class Contact:
    user: User
    #: what they are to the viewer: "李老师 · 五年级1班", "王小明的家长"
    note: str


def _holders(unit_ids: list[int], roles: tuple[str, ...]) -> list[tuple[User, Unit]]:
    if not unit_ids:
        return []
    rows = db.session.execute(
        select(User, Unit)
        .join(RoleAssignment, RoleAssignment.user_id == User.id)
        .join(Unit, Unit.id == RoleAssignment.unit_id)
        .where(RoleAssignment.unit_id.in_(unit_ids), RoleAssignment.role.in_(roles))
        .order_by(Unit.path, User.display_name)
    ).all()
    return [(user, unit) for user, unit in rows]


def _under(paths: list[str], roles: tuple[str, ...]) -> list[tuple[User, Unit]]:
    found: list[tuple[User, Unit]] = []
    for path in paths:
        rows = db.session.execute(
            select(User, Unit)
            .join(RoleAssignment, RoleAssignment.user_id == User.id)
            .join(Unit, Unit.id == RoleAssignment.unit_id)
            .where(Unit.path.startswith(path, autoescape=True), RoleAssignment.role.in_(roles))
            .order_by(Unit.path, User.display_name)
        ).all()
        found += [(user, unit) for user, unit in rows]
    return found


def _families(classes: list[Unit]) -> list[Contact]:
    found: list[Contact] = []
    for klass in classes:
        rows = db.session.execute(
            select(User, GuardianLink.relation, GuardianLink.student_id)
            .join(GuardianLink, GuardianLink.guardian_id == User.id)
            .join(RoleAssignment, RoleAssignment.user_id == GuardianLink.student_id)
            .where(RoleAssignment.unit_id == klass.id, RoleAssignment.role == Role.STUDENT)
            .order_by(GuardianLink.student_id)
        ).all()
        names = {
            student_id: name
            for student_id, name in db.session.execute(
                select(User.id, User.display_name).where(User.id.in_([r[2] for r in rows]))
            ).all()
        }
        found += [
            Contact(user, f"{names.get(student_id, '')}（{relation}）· {klass.name}")
            for user, relation, student_id in rows
        ]
    return found


def candidates(viewer: User) -> list[Contact]:
    """Everyone the viewer may start a conversation with, by where they stand (not the whole
    school: a class's families for its teachers, the children's teachers for a guardian)."""
    found: list[Contact] = []
    classes = rules.units_of(viewer, Role.STUDENT)
    if viewer.has_role(Role.GUARDIAN):
        classes += [
            k for child in rules.children_of(viewer) for k in rules.units_of(child, "student")
        ]
    above = sorted({i for k in classes for i in path_ids(k.path)})
    found += [
        Contact(u, unit.name) for u, unit in _holders(above, (Role.TEACHER, Role.SCHOOL_ADMIN))
    ]
    teaching = rules.units_of(viewer, Role.TEACHER)
    taught = _classes_under([u.path for u in teaching])
    found += _families(taught)
    found += [Contact(u, k.name) for u, k in _holders([k.id for k in taught], (Role.STUDENT,))]
    schools = sorted({u.school_path for u in teaching}) + [
        u.path for u in rules.units_of(viewer, Role.SCHOOL_ADMIN)
    ]
    found += [Contact(u, unit.name) for u, unit in _under(schools, (Role.TEACHER,))]
    own_schools = sorted({u.school_id for u in teaching if u.school_id is not None})
    found += [Contact(u, unit.name) for u, unit in _holders(own_schools, (Role.SCHOOL_ADMIN,))]
    admin_units = rules.units_of(viewer, *ADMIN_ROLES)
    found += [
        Contact(u, unit.name)
        for u, unit in _under([u.path for u in admin_units], tuple(ADMIN_ROLES))
    ]
    found += [
        Contact(u, unit.name)
        for u, unit in _holders(
            sorted({i for u in admin_units for i in path_ids(u.path)}), tuple(ADMIN_ROLES)
        )
    ]
    seen: set[int] = set()
    allowed: list[Contact] = []
    for contact in found:
        if contact.user.id in seen or contact.user.id == viewer.id:
            continue
        seen.add(contact.user.id)
        if rules.may_message(viewer, contact.user):
            allowed.append(contact)
    return allowed


def _classes_under(paths: list[str]) -> list[Unit]:
    classes: list[Unit] = []
    for path in paths:
        classes += db.session.scalars(
            select(Unit).where(Unit.path.startswith(path, autoescape=True), Unit.type == "class")
        ).all()
    return classes


def broadcast_classes(viewer: User) -> list[Unit]:
    """The classes whose guardians the viewer may write to all at once."""
    paths = [u.path for u in rules.units_of(viewer, Role.TEACHER, Role.SCHOOL_ADMIN)]
    return [k for k in _classes_under(paths) if rules.may_broadcast(viewer, k)]
