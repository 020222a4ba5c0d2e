"""Who may use, author and take what: the permission rules this package registers."""

from __future__ import annotations

from elearn.models import Role, Unit, User
from elearn.models.accounts import ADMIN_ROLES
from quizzes.models import QuestionBank, Quiz, QuizAttempt

STAFF_ROLES = frozenset({Role.TEACHER, Role.EXPERT, *ADMIN_ROLES})


def _school_path(unit: Unit) -> str:
    ids = unit.ancestor_ids
    return "/" + "/".join(str(i) for i in ids[: min(len(ids), 3)]) + "/"


def may_author_at(actor: User, unit: Unit) -> bool:
    """Admins author at or below their unit; teachers within their own school."""
    for assignment in actor.roles:
        if assignment.role in ADMIN_ROLES and unit.path.startswith(assignment.unit.path):
            return True
        if assignment.role == Role.TEACHER and unit.path.startswith(_school_path(assignment.unit)):
            return True
        if assignment.role == Role.EXPERT and unit.path.startswith(assignment.unit.path):
            return True
    return False


def may_use_bank(actor: User, bank: QuestionBank) -> bool:
    """A bank is shared downward: staff at or below its unit use it; its authors too."""
    if may_author_at(actor, bank.unit):
        return True
    return any(
        a.role in STAFF_ROLES and a.unit.path.startswith(bank.unit.path) for a in actor.roles
    )


def in_audience(actor: User, quiz: Quiz) -> bool:
    return any(
        a.role == audience.role and a.unit.path.startswith(audience.unit.path)
        for audience in quiz.audiences
        for a in actor.roles
    )


def bank_rule(actor: User, action: str, bank: QuestionBank) -> bool:
    if action in {"view", "use"}:
        return may_use_bank(actor, bank)
    if action == "edit":
        return may_author_at(actor, bank.unit)
    return False


def quiz_rule(actor: User, action: str, quiz: Quiz) -> bool:
    if action == "take":
        return quiz.is_published and in_audience(actor, quiz)
    if action == "view":
        return may_author_at(actor, quiz.unit) or (quiz.is_published and in_audience(actor, quiz))
    if action in {"edit", "results", "grade"}:
        return may_author_at(actor, quiz.unit)
    return False


def attempt_rule(actor: User, action: str, attempt: QuizAttempt) -> bool:
    if action in {"view", "write"}:
        # only the owner: another student's attempt is a 404, not a 403
        return attempt.user_id == actor.id
    if action == "grade":
        return may_author_at(actor, attempt.quiz.unit)
    return False


def may_view_record(actor: User, student: User) -> bool:
    """A student's assessment record: the student, their guardians, their school's teachers, admins."""
    from sqlalchemy import select

    from elearn.extensions import db
    from elearn.models import GuardianLink

    if actor.id == student.id:
        return True
    linked = db.session.scalar(
        select(GuardianLink.id).where(
            GuardianLink.guardian_id == actor.id, GuardianLink.student_id == student.id
        )
    )
    if linked is not None:
        return True
    classes = [a.unit for a in student.roles if a.role == Role.STUDENT]
    for a in actor.roles:
        if a.role in ADMIN_ROLES and any(c.path.startswith(a.unit.path) for c in classes):
            return True
        if a.role == Role.TEACHER and any(c.path.startswith(_school_path(a.unit)) for c in classes):
            return True
    return False
