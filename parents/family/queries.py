"""Read-only queries: a guardian's children and what the child view shows of each.

Nothing here counts progress or grades anew: course progress comes from the courses package's
queries (``my_courses``, ``outline``: the server-credited watch time and completion), results from
the quizzes package's record as a guardian sees it (``assessment_record(policy_at=…)``: each
score only as its quiz's review policy allows), lectures from the ``elearn.person_agenda`` extension point.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select

from courses import queries as course_queries
from courses.models import Course
from elearn.extensions import db
from elearn.models import GuardianLink, Role, Unit, User
from elearn.models.accounts import ADMIN_ROLES
from elearn.service.agenda import AgendaItem, agenda_for
from parents.announcements.models import Announcement, AnnouncementReceipt
from parents.family.models import GuardianInvite, InviteStatus
from parents.family.service import may_manage, student_class
from quizzes import queries as quiz_queries
from quizzes.models import AttemptState, Quiz, QuizAttempt, QuizKind

MANAGING_ROLES = frozenset(ADMIN_ROLES | {Role.TEACHER})
#: how many of the school's announcements and due quizzes the child view lists
LIST_LIMIT = 10


def children(guardian: User) -> list[tuple[User, str]]:
    """The guardian's linked children (with the relation), by name."""
    rows = db.session.execute(
        select(User, GuardianLink.relation)
        .join(GuardianLink, GuardianLink.student_id == User.id)
        .where(GuardianLink.guardian_id == guardian.id)
        .order_by(User.display_name, User.id)
    )
    return [(user, relation) for user, relation in rows]


def children_for_course(viewer: User, course: Course) -> list[User]:
    """For the course page (``courses.progress_viewers``): the viewer's linked children."""
    return [child for child, _relation in children(viewer)]


def school_and_class(child: User) -> tuple[str, str]:
    klass = student_class(child)
    if klass is None:
        return "", ""
    school = db.session.scalar(select(Unit.name).where(Unit.path == klass.school_path))
    return school or "", klass.name


@dataclass
class Assessment:
    quiz_id: int
    title: str
    kind: str
    term: str
    finished_at: datetime
    #: False when the quiz's review policy does not let the result be shown (yet)
    shown: bool
    score: float | None = None
    max_score: float | None = None
    passed: bool | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "quiz_id": self.quiz_id,
            "title": self.title,
            "kind": self.kind,
            "term": self.term,
            "finished_at": self.finished_at,
            "result_shown": self.shown,
            "score": self.score,
            "max_score": self.max_score,
            "passed": self.passed,
        }


def assessments(child: User, now: datetime) -> list[Assessment]:
    """The child's quiz and exam results (the quizzes package's record, as a guardian sees it:
    each score only when the quiz's review policy allows its review now; never an answer)."""
    return [
        Assessment(
            quiz_id=row["quiz_id"],
            title=row["title"],
            kind=row["kind"],
            term=row["term"],
            finished_at=row["finished_at"],
            shown=row["result_shown"],
            score=row["score"],
            max_score=row["max_score"] if row["result_shown"] else None,
            passed=row["passed"],
        )
        for row in quiz_queries.assessment_record(child, policy_at=now)
        if row["kind"] != QuizKind.SURVEY
    ]


def due_quizzes(child: User, now: datetime) -> list[tuple[Quiz, bool]]:
    """Quizzes and exams open to the child and not closed yet, each with whether the child has
    finished an attempt."""
    quizzes = list(
        db.session.scalars(
            quiz_queries.quizzes_open_to(child, now)
            .where(Quiz.kind != QuizKind.SURVEY)
            .limit(LIST_LIMIT)
        )
    )
    done = set(
        db.session.scalars(
            select(QuizAttempt.quiz_id).where(
                QuizAttempt.user_id == child.id,
                QuizAttempt.state == AttemptState.FINISHED,
                QuizAttempt.quiz_id.in_([quiz.id for quiz in quizzes]),
            )
        )
    )
    return [(quiz, quiz.id in done) for quiz in quizzes]


def school_announcements(guardian: User, child: User) -> list[Announcement]:
    """Announcements to the guardian or the child from the child's class or a level above it
    (the class, school, county, prefecture), newest first."""
    klass = student_class(child)
    if klass is None:
        return []
    return list(
        db.session.scalars(
            select(Announcement)
            .where(
                Announcement.unit_id.in_(klass.ancestor_ids),
                Announcement.id.in_(
                    select(AnnouncementReceipt.announcement_id).where(
                        or_(
                            AnnouncementReceipt.user_id == guardian.id,
                            AnnouncementReceipt.user_id == child.id,
                        )
                    )
                ),
            )
            .order_by(Announcement.id.desc())
            .limit(LIST_LIMIT)
        )
    )


@dataclass
class CourseRow:
    progress: course_queries.CourseProgress
    units: list[course_queries.OutlineUnit] = field(default_factory=list)


@dataclass
class ChildView:
    child: User
    relation: str
    school: str
    klass: str
    courses: list[CourseRow]
    assessments: list[Assessment]
    due: list[tuple[Quiz, bool]]
    agenda: list[AgendaItem]
    announcements: list[Announcement]


def child_view(
    guardian: User, child: User, relation: str, now: datetime, *, lessons: bool = True
) -> ChildView:
    """Everything the child view shows of one child (``lessons``: each course's outline too)."""
    school, klass = school_and_class(child)
    courses = [
        CourseRow(
            progress=progress,
            units=course_queries.outline(progress.course, user=child, authoring=False)
            if lessons
            else [],
        )
        for progress in course_queries.my_courses(child)
    ]
    return ChildView(
        child=child,
        relation=relation,
        school=school,
        klass=klass,
        courses=courses,
        assessments=assessments(child, now),
        due=due_quizzes(child, now),
        agenda=agenda_for(child, now),
        announcements=school_announcements(guardian, child),
    )


def child_json(view: ChildView) -> dict[str, Any]:
    """A child as ``GET /api/v1/me/children`` gives it."""
    return {
        "id": view.child.id,
        "name": view.child.display_name,
        "relation": view.relation,
        "school": view.school,
        "class": view.klass,
        "courses": [
            {
                "course_id": row.progress.course.id,
                "title": row.progress.course.title,
                "lessons": row.progress.lessons_total,
                "completed_lessons": row.progress.lessons_done,
                "completed": row.progress.completed,
            }
            for row in view.courses
        ],
        "assessments": [item.as_dict() for item in view.assessments],
        "due_quizzes": [
            {"quiz_id": quiz.id, "title": quiz.title, "closes_at": quiz.closes_at, "done": done}
            for quiz, done in view.due
        ],
        "upcoming": [
            {"kind": item.kind, "title": item.title, "starts_at": item.starts_at}
            for item in view.agenda
        ],
        "announcements": [
            {"id": a.id, "title": a.title, "created_at": a.created_at} for a in view.announcements
        ],
    }


def pending_requests(actor: User) -> list[GuardianInvite]:
    """Redeemed codes waiting for the school's confirmation, in the classes the actor manages."""
    paths = sorted({a.unit.path for a in actor.roles if a.role in MANAGING_ROLES})
    if not paths:
        return []
    found = db.session.scalars(
        select(GuardianInvite)
        .join(Unit, Unit.id == GuardianInvite.unit_id)
        .where(
            GuardianInvite.status == InviteStatus.PENDING,
            or_(*[Unit.path.startswith(path, autoescape=False) for path in paths]),
        )
        .order_by(GuardianInvite.redeemed_at, GuardianInvite.id)
        .limit(200)
    )
    return [invite for invite in found if may_manage(actor, invite.unit)]
