"""Read-only queries: the library with facets, course outlines, my courses, the review queue."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.sql import Select

from courses.models import (
    Audience,
    Course,
    CourseCompletion,
    CourseStatus,
    CourseUnit,
    Lesson,
    LessonProgress,
)
from courses.service import access, structure
from elearn.extensions import db
from elearn.models import User
from media.models import Asset, AssetKind, AssetStatus

#: the facets of the library, each a course column
FACETS = ("category", "audience", "grade_band", "drug_type", "format")
MAX_QUERY = 100


@dataclass
class LibraryFilters:
    q: str | None = None
    audience: str | None = None
    grade_band: str | None = None
    category: str | None = None
    drug_type: str | None = None
    format: str | None = None

    @classmethod
    def from_args(cls, args: Any) -> LibraryFilters:
        def value(name: str, *aliases: str) -> str | None:
            for key in (name, *aliases):
                raw = str(args.get(key) or "").replace("\x00", "").strip()
                if raw:
                    return raw[:MAX_QUERY]
            return None

        return cls(
            q=value("q"),
            audience=value("audience"),
            grade_band=value("grade_band", "grade"),
            category=value("category"),
            drug_type=value("drug_type"),
            format=value("format"),
        )

    def facet_values(self) -> dict[str, str | None]:
        return {name: getattr(self, name) for name in FACETS}


@dataclass
class LibraryPage:
    courses: list[Course]
    total: int
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)


def _apply(query: Select, filters: LibraryFilters, *, skip: str | None = None) -> Select:
    if filters.q:
        escaped = filters.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        like = f"%{escaped}%"
        query = query.where(
            or_(
                Course.title.ilike(like, escape="\\"),
                Course.description.ilike(like, escape="\\"),
            )
        )
    for name, value in filters.facet_values().items():
        if value and name != skip:
            query = query.where(getattr(Course, name) == value)
    return query


def library(
    actor: User, filters: LibraryFilters, *, page: int = 1, per_page: int = 24
) -> LibraryPage:
    """The live courses the actor may see, filtered and searched, with a count per facet value.

    Each facet counts with every other filter applied (but not its own), so choosing a category
    still shows how many courses the other categories hold.
    """
    visible = access.visible_condition(actor)
    base = select(Course).where(visible)
    query = _apply(base, filters).order_by(Course.published_at.desc(), Course.id.desc())
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    courses = list(db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)))
    facets: dict[str, list[tuple[str, int]]] = {}
    for name in FACETS:
        column = getattr(Course, name)
        counted = _apply(select(column, func.count()).where(visible), filters, skip=name)
        rows = db.session.execute(
            counted.where(column.is_not(None)).group_by(column).order_by(func.count().desc())
        )
        facets[name] = [(value, count) for value, count in rows]
    return LibraryPage(courses=courses, total=total or 0, facets=facets)


@dataclass
class OutlineLesson:
    lesson: Lesson
    title: str
    kind: str
    role: str
    subject: str | None
    is_live: bool
    has_draft: bool
    is_playable: bool
    duration_seconds: float | None
    watched_seconds: float = 0.0
    completed: bool = False

    @property
    def percent(self) -> int:
        if not self.duration_seconds:
            return 100 if self.completed else 0
        return min(100, round(100 * self.watched_seconds / self.duration_seconds))


@dataclass
class OutlineUnit:
    course_unit: CourseUnit
    lessons: list[OutlineLesson]


def outline(course: Course, *, user: User | None, authoring: bool) -> list[OutlineUnit]:
    """The course's units and lessons: the live revisions, or the working copy for authors."""
    progress: dict[int, LessonProgress] = {}
    if user is not None:
        progress = {
            p.lesson_id: p
            for p in db.session.scalars(
                select(LessonProgress).filter_by(user_id=user.id, course_id=course.id)
            )
        }
    units = []
    course_units = structure.working_units(course) if authoring else structure.live_order(course)
    for course_unit in course_units:
        rows = []
        lessons = (
            structure.working_lessons(course_unit)
            if authoring
            else structure.live_lessons(course_unit)
        )
        for lesson in lessons:
            revision = lesson.working_revision if authoring else lesson.published_revision
            if revision is None:
                continue
            mine = progress.get(lesson.id)
            rows.append(
                OutlineLesson(
                    lesson=lesson,
                    title=revision.title,
                    kind=revision.kind,
                    role=revision.role,
                    subject=revision.subject,
                    is_live=lesson.is_live,
                    has_draft=lesson.draft_revision_id is not None,
                    is_playable=revision.is_playable,
                    duration_seconds=revision.duration_seconds,
                    watched_seconds=mine.watched_seconds if mine else 0.0,
                    completed=bool(mine and mine.completed_at),
                )
            )
        if rows or authoring:
            units.append(OutlineUnit(course_unit=course_unit, lessons=rows))
    return units


@dataclass
class CourseProgress:
    course: Course
    lessons_total: int
    lessons_done: int
    completed: bool

    @property
    def percent(self) -> int:
        if not self.lessons_total:
            return 0
        return round(100 * self.lessons_done / self.lessons_total)


def _progress_for(user: User, courses: list[Course]) -> list[CourseProgress]:
    ids = [c.id for c in courses]
    if not ids:
        return []
    totals = dict(
        db.session.execute(
            select(Lesson.course_id, func.count())
            .where(Lesson.course_id.in_(ids), Lesson.published_revision_id.is_not(None))
            .group_by(Lesson.course_id)
        ).all()
    )
    done = dict(
        db.session.execute(
            select(LessonProgress.course_id, func.count())
            .join(Lesson, Lesson.id == LessonProgress.lesson_id)
            .where(
                LessonProgress.user_id == user.id,
                LessonProgress.course_id.in_(ids),
                LessonProgress.completed_at.is_not(None),
                Lesson.published_revision_id.is_not(None),
            )
            .group_by(LessonProgress.course_id)
        ).all()
    )
    completed = set(
        db.session.scalars(
            select(CourseCompletion.course_id).where(
                CourseCompletion.user_id == user.id, CourseCompletion.course_id.in_(ids)
            )
        )
    )
    return [
        CourseProgress(
            course=c,
            lessons_total=totals.get(c.id, 0),
            lessons_done=min(done.get(c.id, 0), totals.get(c.id, 0)),
            completed=c.id in completed,
        )
        for c in courses
    ]


def my_courses(user: User, *, limit: int = 50) -> list[CourseProgress]:
    """Courses the user has started, then the ones meant for them (their grade, their track)."""
    visible = access.visible_condition(user)
    started = select(LessonProgress.course_id).where(LessonProgress.user_id == user.id)
    suggested: list[ColumnElement[bool]] = []
    if user.has_role("student"):
        band = access.student_grade_band(user)
        # no band: a course for every grade (a recording of a lecture to several bands)
        for_all = Course.grade_band.is_(None)
        suggested.append(
            (Course.audience == Audience.STUDENT)
            & (or_(Course.grade_band == band, for_all) if band else for_all)
        )
    if user.has_role("teacher"):
        suggested.append(Course.audience == Audience.TEACHER)
    if user.has_role("guardian"):
        suggested.append(Course.audience == Audience.PARENT)
    query = (
        select(Course)
        .where(visible, or_(Course.id.in_(started.scalar_subquery()), *suggested))
        .order_by(Course.published_at.desc(), Course.id.desc())
        .limit(limit)
    )
    courses = list(db.session.scalars(query))
    return _progress_for(user, courses)


def next_lesson(units: list[OutlineUnit]) -> OutlineLesson | None:
    """The first live lesson the learner has not completed (where "continue" leads)."""
    for unit in units:
        for row in unit.lessons:
            if row.is_live and not row.completed:
                return row
    return None


def lesson_after(lesson: Lesson) -> OutlineLesson | None:
    """The lesson learners meet after ``lesson`` in the course's published order (where the
    lesson page's "next lesson" leads), or None after the last one."""
    rows = [
        row
        for unit in outline(lesson.course, user=None, authoring=False)
        for row in unit.lessons
        if row.is_live
    ]
    ids = [row.lesson.id for row in rows]
    if lesson.id not in ids:
        return None
    place = ids.index(lesson.id)
    return rows[place + 1] if place + 1 < len(rows) else None


def progress_of(user: User, course: Course) -> CourseProgress:
    return _progress_for(user, [course])[0]


def lesson_progress(user: User, lesson: Lesson) -> LessonProgress | None:
    return db.session.scalar(select(LessonProgress).filter_by(user_id=user.id, lesson_id=lesson.id))


def my_lesson_progress(user: User) -> list[LessonProgress]:
    return list(
        db.session.scalars(
            select(LessonProgress)
            .where(LessonProgress.user_id == user.id)
            .order_by(LessonProgress.last_heartbeat_at.desc().nulls_last(), LessonProgress.id)
        )
    )


def my_completions(user: User) -> list[CourseCompletion]:
    return list(
        db.session.scalars(
            select(CourseCompletion)
            .where(CourseCompletion.user_id == user.id)
            .order_by(CourseCompletion.completed_at.desc())
        )
    )


def authored(actor: User) -> list[Course]:
    """Courses the actor may edit: their own and those owned in the subtree they administer."""
    return list(
        db.session.scalars(
            select(Course)
            .where(access.manageable_condition(actor), Course.status != CourseStatus.ARCHIVED)
            .order_by(Course.updated_at.desc(), Course.id.desc())
            .limit(200)
        )
    )


def review_queue(actor: User) -> list[Course]:
    """Courses in review that the actor may publish or return."""
    return list(
        db.session.scalars(
            select(Course)
            .where(access.administered_condition(actor), Course.status == CourseStatus.IN_REVIEW)
            .order_by(Course.submitted_at, Course.id)
        )
    )


def my_assets(actor: User) -> list[Asset]:
    """The actor's uploads a lesson can use: media and documents, ready or still processing."""
    return list(
        db.session.scalars(
            select(Asset)
            .where(
                Asset.owner_id == actor.id,
                Asset.status.in_([AssetStatus.READY, AssetStatus.PROCESSING]),
                Asset.kind.in_([AssetKind.VIDEO, AssetKind.AUDIO, AssetKind.DOCUMENT]),
            )
            .order_by(Asset.created_at.desc())
            .limit(200)
        )
    )
