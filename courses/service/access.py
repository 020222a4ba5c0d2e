"""Who sees and who manages which course: audiences per role, scopes, and the permission rules.

A live course is visible to every signed-in person below its owning unit (a prefecture course
prefecture-wide, a school course in that school) whose role the course's audience serves; admins
also see every course owned inside the subtree they administer. Authors and admins at or above
the course's unit manage it; another scope's course is a 404.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_, select

from courses.models import Audience, Course, CourseStatus, CourseUnit, GradeBand, Lesson
from elearn import permissions
from elearn.extensions import db
from elearn.features import ExtensionPoint, hooks
from elearn.models import Role, Unit, User
from elearn.models.accounts import ADMIN_ROLES

#: which audiences each role is served; a person with several roles gets the union
ROLE_AUDIENCES: dict[str, frozenset[str]] = {
    Role.STUDENT: frozenset({Audience.STUDENT}),
    # a guardian follows the parent-school track and what their child learns
    Role.GUARDIAN: frozenset({Audience.PARENT, Audience.STUDENT}),
    Role.TEACHER: frozenset({Audience.TEACHER, Audience.STUDENT}),
    Role.EXPERT: frozenset(Audience),
    Role.SCHOOL_ADMIN: frozenset(Audience),
    Role.COUNTY_ADMIN: frozenset(Audience),
    Role.PREFECTURE_ADMIN: frozenset(Audience),
}

#: roles that may author courses (at the units returned by ``authoring_units``)
AUTHOR_ROLES = frozenset(ADMIN_ROLES | {Role.TEACHER, Role.EXPERT})


#: learners whose progress a viewer may read on a course's page, read-only; parents contributes
#: "a guardian's linked children" (courses knows no guardians)
PROGRESS_VIEWERS = ExtensionPoint(
    "courses.progress_viewers",
    "(viewer, course) -> [User]: learners whose progress the viewer may read on the course page",
)


def learners_shown(viewer: User, course: Course) -> list[User]:
    """The learners (not the viewer) whose progress ``viewer`` may read on ``course``'s page."""
    found: dict[int, User] = {}
    for hook in hooks(PROGRESS_VIEWERS.name):
        for learner in hook(viewer, course):
            if learner.id != viewer.id:
                found.setdefault(learner.id, learner)
    return list(found.values())


def audiences_for(actor: User) -> set[str]:
    audiences: set[str] = set()
    for assignment in actor.roles:
        audiences |= ROLE_AUDIENCES.get(assignment.role, frozenset())
    return audiences


def _ancestor_unit_ids(actor: User) -> set[int]:
    """Every unit at or above one of the actor's role units: courses owned there reach them."""
    ids: set[int] = set()
    for assignment in actor.roles:
        ids.update(assignment.unit.ancestor_ids)
    return ids


def live_condition() -> ColumnElement[bool]:
    return and_(Course.version >= 1, Course.status != CourseStatus.ARCHIVED)


def visible_condition(actor: User) -> ColumnElement[bool]:
    """SQL: the live courses this actor may see in the library."""
    ancestors = _ancestor_unit_ids(actor)
    audiences = audiences_for(actor)
    reach = (
        and_(Course.unit_id.in_(ancestors), Course.audience.in_(audiences))
        if ancestors and audiences
        else false()
    )
    oversight = administered_condition(actor)
    return and_(live_condition(), or_(reach, oversight))


def administered_condition(actor: User) -> ColumnElement[bool]:
    """SQL: courses owned inside a subtree the actor administers (any status)."""
    paths = permissions.admin_paths(actor)
    if not paths:
        return false()
    inside = select(Unit.id).where(or_(*[Unit.path.startswith(path) for path in paths]))
    return Course.unit_id.in_(inside.scalar_subquery())


def manageable_condition(actor: User) -> ColumnElement[bool]:
    """SQL: courses the actor may edit: their own, and those in a subtree they administer."""
    return or_(Course.author_id == actor.id, administered_condition(actor))


def administers(actor: User, unit: Unit) -> bool:
    return any(unit.path.startswith(path) for path in permissions.admin_paths(actor))


def can_see_live(actor: User, course: Course) -> bool:
    if not course.is_live:
        return False
    if administers(actor, course.unit):
        return True
    return course.unit_id in _ancestor_unit_ids(actor) and course.audience in audiences_for(actor)


def can_manage(actor: User, course: Course) -> bool:
    return course.author_id == actor.id or administers(actor, course.unit)


def authoring_units(actor: User) -> list[Unit]:
    """The units the actor may own courses at: where they administer or lecture, a teacher's school."""
    units: dict[int, Unit] = {}
    for assignment in actor.roles:
        unit = assignment.unit
        if assignment.role == Role.TEACHER:
            if unit.school_id is not None:
                school = db.session.get(Unit, unit.school_id)
                if school is not None:
                    units[school.id] = school
        elif assignment.role in AUTHOR_ROLES:
            units[unit.id] = unit
    return sorted(units.values(), key=lambda u: (len(u.path), u.name))


def can_author(actor: User) -> bool:
    return any(a.role in AUTHOR_ROLES for a in actor.roles)


def can_review_any(actor: User) -> bool:
    return bool(permissions.admin_paths(actor))


def grade_band_of(level: int | None, school_kind: str | None = None) -> str | None:
    """The grade band of a grade level (0 kindergarten, 1–12 school years)."""
    if school_kind == "vocational":
        return GradeBand.VOCATIONAL
    if level is None:
        return None
    if level <= 0:
        return GradeBand.KINDERGARTEN
    if level <= 3:
        return GradeBand.LOWER_PRIMARY
    if level <= 6:
        return GradeBand.UPPER_PRIMARY
    if level <= 9:
        return GradeBand.JUNIOR
    if level <= 12:
        return GradeBand.SENIOR
    return GradeBand.VOCATIONAL


def student_grade_band(actor: User) -> str | None:
    """The grade band of the class a student sits in (None for other roles)."""
    for assignment in actor.roles:
        if assignment.role != Role.STUDENT:
            continue
        unit = assignment.unit
        grade = db.session.get(Unit, unit.grade_id) if unit.grade_id is not None else None
        school = db.session.get(Unit, unit.school_id) if unit.school_id is not None else None
        if grade is not None:
            return grade_band_of(grade.grade_level, school.school_kind if school else None)
    return None


# --- permission rules (registered in courses.init_app) -----------------------------------------


def course_rule(actor: User, action: str, course: Course) -> bool:
    if action == "view":
        return can_see_live(actor, course) or can_manage(actor, course)
    if action == "learn":
        return can_see_live(actor, course)
    if action in {"edit", "submit"}:
        return can_manage(actor, course)
    if action in {"review", "publish", "return", "archive"}:
        return administers(actor, course.unit)
    return False


def lesson_rule(actor: User, action: str, lesson: Lesson) -> bool:
    course = lesson.course
    if action == "view":
        return (lesson.is_live and can_see_live(actor, course)) or can_manage(actor, course)
    if action == "learn":
        return lesson.is_live and can_see_live(actor, course)
    if action == "edit":
        return can_manage(actor, course)
    return False


def course_unit_rule(actor: User, action: str, course_unit: CourseUnit) -> bool:
    return course_rule(actor, "edit" if action == "edit" else action, course_unit.course)


RULES: dict[type, Any] = {Course: course_rule, Lesson: lesson_rule, CourseUnit: course_unit_rule}
