"""Who may message whom: one table (``CONTACT_RULES``), read from the top; the first row that
applies to a pair of people decides, and a pair no row allows may not talk.

Each row is named, says what it decides, and has a test of its own
(``tests/parents/test_rules.py``). The rows are symmetric: what lets a teacher write to a guardian
lets the guardian write back. A school's people talk within their school only; only admins reach
across schools, and then only downward (a county admin and the school admins of the county). A
student (a minor) talks with their own class's teachers and nobody else, and a guardian of that
student may read every such conversation (``conversation_rule``).

The table sits in the permission registry through ``Contact``: ``permissions.can(actor,
"message", Contact(user))``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import select

from elearn.extensions import db
from elearn.models import GuardianLink, Role, Unit, User
from elearn.models.accounts import ADMIN_ROLES
from parents.interaction.models import Conversation, Message, MessageStatus

STAFF_ROLES = frozenset({Role.TEACHER, *ADMIN_ROLES})


@dataclass(frozen=True)
class Contact:
    """Someone the actor would write to (the object of the "message" permission)."""

    user: User


@dataclass(frozen=True)
class ContactRule:
    """One row of the table: when ``applies(a, b)``, ``allows`` decides."""

    name: str
    description: str
    applies: Callable[[User, User], bool]
    allows: bool


# --- what the rows ask of people -------------------------------------------------------------------


def units_of(user: User, *roles: str) -> list[Unit]:
    return [a.unit for a in user.roles if a.role in roles]


def children_of(guardian: User) -> list[User]:
    """The students this guardian is linked to."""
    return list(
        db.session.scalars(
            select(User)
            .join(GuardianLink, GuardianLink.student_id == User.id)
            .where(GuardianLink.guardian_id == guardian.id)
        )
    )


def guardians_of(student_ids: Iterable[int]) -> list[int]:
    """The ids of the guardians of these students."""
    ids = list(student_ids)
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(GuardianLink.guardian_id).where(GuardianLink.student_id.in_(ids)).distinct()
        )
    )


def teaches(teacher: User, klass: Unit) -> bool:
    """Does ``teacher`` teach ``klass`` (a teacher role at the class or above it)?"""
    return any(klass.is_within(unit) for unit in units_of(teacher, Role.TEACHER))


def _family_classes(guardian: User) -> list[Unit]:
    return [k for child in children_of(guardian) for k in units_of(child, Role.STUDENT)]


def _is_staff(user: User) -> bool:
    return user.has_role(*STAFF_ROLES)


def _is_minor(user: User) -> bool:
    return user.has_role(Role.STUDENT) and not _is_staff(user)


def _is_only_guardian(user: User) -> bool:
    return user.has_role(Role.GUARDIAN) and not _is_staff(user)


def _both_ways(one_way: Callable[[User, User], bool]) -> Callable[[User, User], bool]:
    return lambda a, b: one_way(a, b) or one_way(b, a)


def _student_and_own_teacher(student: User, teacher: User) -> bool:
    return any(teaches(teacher, k) for k in units_of(student, Role.STUDENT))


def _teacher_and_family(teacher: User, guardian: User) -> bool:
    if not teacher.has_role(Role.TEACHER) or not guardian.has_role(Role.GUARDIAN):
        return False
    return any(teaches(teacher, k) for k in _family_classes(guardian))


def _school_admin_and_school_people(admin: User, person: User) -> bool:
    schools = units_of(admin, Role.SCHOOL_ADMIN)
    if not schools:
        return False
    places = units_of(person, Role.TEACHER)
    if person.has_role(Role.GUARDIAN):
        places += units_of(person, Role.GUARDIAN) + _family_classes(person)
    return any(place.is_within(school) for place in places for school in schools)


def _colleagues(a: User, b: User) -> bool:
    mine = {u.school_id for u in units_of(a, Role.TEACHER)}
    return bool(mine - {None}) and any(u.school_id in mine for u in units_of(b, Role.TEACHER))


def _admin_and_admin_below(upper: User, lower: User) -> bool:
    return any(
        below.path != above.path and below.is_within(above)
        for above in units_of(upper, Role.COUNTY_ADMIN, Role.PREFECTURE_ADMIN)
        for below in units_of(lower, *ADMIN_ROLES)
    )


#: the table: read from the top, the first row that applies decides; no row: refused
CONTACT_RULES: list[ContactRule] = [
    ContactRule(
        "student_own_class_teacher",
        "a student and the teachers of their own class",
        _both_ways(_student_and_own_teacher),
        True,
    ),
    ContactRule(
        "no_other_adult_with_a_minor",
        "nobody else starts a conversation with a student",
        lambda a, b: _is_minor(a) or _is_minor(b),
        False,
    ),
    ContactRule(
        "guardians_not_each_other",
        "guardians do not message each other privately",
        lambda a, b: _is_only_guardian(a) and _is_only_guardian(b),
        False,
    ),
    ContactRule(
        "teacher_class_guardians",
        "a teacher and the guardians of students in classes they teach",
        _both_ways(_teacher_and_family),
        True,
    ),
    ContactRule(
        "school_admin_school_people",
        "a school admin and their school's teachers and guardians",
        _both_ways(_school_admin_and_school_people),
        True,
    ),
    ContactRule(
        "school_colleagues",
        "teachers of the same school (a class's teachers as a group)",
        _colleagues,
        True,
    ),
    ContactRule(
        "admins_downward",
        "county and prefecture admins and the admins below them",
        _both_ways(_admin_and_admin_below),
        True,
    ),
]


def deciding_rule(a: User, b: User) -> ContactRule | None:
    """The row that decides whether ``a`` and ``b`` may talk (None: no row; refused)."""
    return next((rule for rule in CONTACT_RULES if rule.applies(a, b)), None)


def may_message(a: User, b: User) -> bool:
    """May ``a`` and ``b`` talk (the table, for a pair of different people)?"""
    if a.id == b.id:
        return False
    rule = deciding_rule(a, b)
    return rule is not None and rule.allows


def may_broadcast(actor: User, klass: Unit) -> bool:
    """May ``actor`` write to every guardian of ``klass`` (its teacher, or its school's admin)?"""
    if klass.type != "class":
        return False
    schools = units_of(actor, Role.SCHOOL_ADMIN)
    return teaches(actor, klass) or any(klass.is_within(s) for s in schools)


def contact_rule(actor: User, action: str, contact: Contact) -> bool:
    return action == "message" and may_message(actor, contact.user)


def is_reviewer(actor: User, conversation: Conversation) -> bool:
    """An admin over the conversation's scope: sees its held messages, and decides on them."""
    return any(conversation.unit.is_within(u) for u in units_of(actor, *ADMIN_ROLES))


def _reads_as_guardian(actor: User, conversation: Conversation) -> bool:
    """A guardian reads every conversation their child is in (with the child's teachers)."""
    if not actor.has_role(Role.GUARDIAN):
        return False
    member_ids = {m.user_id for m in conversation.members}
    return any(child.id in member_ids for child in children_of(actor))


def conversation_rule(actor: User, action: str, conversation: Conversation) -> bool:
    member = conversation.member(actor)
    if action == "view":
        return member is not None or _reads_as_guardian(actor, conversation)
    if action == "post":
        return member is not None
    if action == "review":
        return is_reviewer(actor, conversation)
    return False


def message_rule(actor: User, action: str, message: Message) -> bool:
    """A message is seen by those who see its conversation, a held one by its sender only; the
    reviewers see every message of the conversations they review."""
    if action != "view":
        return False
    conversation = message.conversation
    if message.sender_id == actor.id:
        return True
    if message.status == MessageStatus.WAITING:  # its recipients' quiet hours are not over
        return False
    if is_reviewer(actor, conversation):
        return True
    if not conversation_rule(actor, "view", conversation):
        return False
    return message.status != MessageStatus.HELD
