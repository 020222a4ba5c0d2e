"""Who may use, author and take what: the permission rules this package registers.

A quiz is edited by its author and by the admins of its unit, nobody else: a teacher of the same
school is a stranger to it. Its results (and the grading of its hand-graded answers) reach, besides
them, the people its audience concerns, each for their part of it: the teachers of the classes in
its audience for their classes, and the admins of units inside it (a school of a county's term
exam) or above a part of it for that part (``results_scope``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from elearn.extensions import db
from elearn.models import GuardianLink, Role, Unit, User
from elearn.models.accounts import ADMIN_ROLES
from quizzes.models import QuestionBank, Quiz, QuizAttempt

STAFF_ROLES = frozenset({Role.TEACHER, Role.EXPERT, *ADMIN_ROLES})
#: audiences whose members sit in a class (a teacher of the class follows their results); a
#: teacher in a teachers' audience is a taker, and sees no colleague's result
CLASS_ROLES = frozenset({Role.STUDENT, Role.GUARDIAN})


def may_author_at(actor: User, unit: Unit) -> bool:
    """Admins author at or below their unit; teachers within their own school."""
    for assignment in actor.roles:
        if assignment.role in ADMIN_ROLES and unit.path.startswith(assignment.unit.path):
            return True
        if assignment.role == Role.TEACHER and unit.path.startswith(assignment.unit.school_path):
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


def _admin_at(actor: User, unit: Unit) -> bool:
    return any(a.role in ADMIN_ROLES and unit.path.startswith(a.unit.path) for a in actor.roles)


def may_edit_quiz(actor: User, quiz: Quiz) -> bool:
    """Its author (while they may still author there) and the admins of its unit."""
    if _admin_at(actor, quiz.unit):
        return True
    return quiz.created_by_id == actor.id and may_author_at(actor, quiz.unit)


def _outermost(paths: set[str]) -> tuple[str, ...]:
    """The paths not inside another of them (a subtree once)."""
    return tuple(sorted(p for p in paths if not any(p != q and p.startswith(q) for q in paths)))


@dataclass(frozen=True)
class ResultsScope:
    """Whose results of a quiz someone sees: everyone's (``whole``: its editors), or those of
    the audience members under ``paths`` (their classes, their school); nobody's when empty."""

    whole: bool = False
    paths: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return self.whole or bool(self.paths)

    def narrowed_to(self, unit: Unit) -> ResultsScope:
        """The part of this scope under ``unit`` (empty when they do not meet)."""
        if self.whole:
            return ResultsScope(paths=(unit.path,))
        if any(unit.path.startswith(p) for p in self.paths):
            return ResultsScope(paths=(unit.path,))
        return ResultsScope(paths=tuple(p for p in self.paths if p.startswith(unit.path)))

    def covers(self, person: User, quiz: Quiz) -> bool:
        """Whether ``person`` is one of the audience members this scope shows."""
        if self.whole:
            return True
        return any(
            a.role == audience.role
            and a.unit.path.startswith(audience.unit.path)
            and any(a.unit.path.startswith(p) for p in self.paths)
            for audience in quiz.audiences
            for a in person.roles
        )


def results_scope(actor: User, quiz: Quiz) -> ResultsScope:
    """Whose results of ``quiz`` the actor sees (see the module's docstring)."""
    if may_edit_quiz(actor, quiz):
        return ResultsScope(whole=True)
    paths: set[str] = set()
    for a in actor.roles:
        for audience in quiz.audiences:
            inside = a.unit.path.startswith(audience.unit.path)
            if a.role in ADMIN_ROLES:
                if inside:  # a school admin of a county's exam: their school
                    paths.add(a.unit.path)
                elif audience.unit.path.startswith(a.unit.path):  # a part under their unit
                    paths.add(audience.unit.path)
            elif a.role == Role.TEACHER and audience.role in CLASS_ROLES and inside:
                paths.add(a.unit.path)  # their class
    return ResultsScope(paths=_outermost(paths))


def may_take(actor: User, quiz: Quiz) -> bool:
    """Published, and the actor in its audience (``quizzes.rules.may_start``, whose SQL half
    the start lane checks)."""
    return quiz.is_published and in_audience(actor, quiz)


def quiz_rule(actor: User, action: str, quiz: Quiz) -> bool:
    if action == "take":
        return may_take(actor, quiz)
    if action == "view":
        return bool(results_scope(actor, quiz)) or may_take(actor, quiz)
    if action == "edit":
        return may_edit_quiz(actor, quiz)
    if action in {"results", "grade"}:
        return bool(results_scope(actor, quiz))
    return False


def attempt_rule(actor: User, action: str, attempt: QuizAttempt) -> bool:
    if action in {"view", "write"}:
        # only the owner: another student's attempt is a 404, not a 403
        return attempt.user_id == actor.id
    if action == "grade":
        # those who see the student's result grade it: editors, the class's teachers, admins
        return results_scope(actor, attempt.quiz).covers(attempt.user, attempt.quiz)
    return False


def _linked(actor: User, student: User) -> bool:
    return (
        db.session.scalar(
            select(GuardianLink.id).where(
                GuardianLink.guardian_id == actor.id, GuardianLink.student_id == student.id
            )
        )
        is not None
    )


def _staff_over(actor: User, student: User) -> bool:
    """A teacher of the student's school or an admin over their class."""
    classes = [a.unit for a in student.roles if a.role == Role.STUDENT]
    for a in actor.roles:
        if a.role in ADMIN_ROLES and any(c.path.startswith(a.unit.path) for c in classes):
            return True
        if a.role == Role.TEACHER and any(c.path.startswith(a.unit.school_path) for c in classes):
            return True
    return False


def may_view_record(actor: User, student: User) -> bool:
    """A student's assessment record: the student, their guardians, their school's teachers, admins."""
    if actor.id == student.id:
        return True
    return _linked(actor, student) or _staff_over(actor, student)


def views_as_guardian(actor: User, student: User) -> bool:
    """Whether ``actor`` reads the student's record only as their guardian: then each result is
    shown only as its quiz's review policy allows (never an answer)."""
    return actor.id != student.id and not _staff_over(actor, student) and _linked(actor, student)
