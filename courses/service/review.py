"""Review: draft → in_review → published (or returned), and archiving.

Publishing swaps every lesson's draft revision in at once and applies the working structure, so
learners move from one published version to the next, never to a half-edited course.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from courses.models import MIXED_FORMAT, Course, CourseStatus, CourseUnit, Lesson
from courses.service import drafts, structure
from elearn.extensions import db
from elearn.models import RoleAssignment, User
from elearn.models.accounts import ADMIN_ROLES
from elearn.service import audit, notifications
from elearn.service.errors import ServiceError
from media.models import AssetStatus


def _lessons(course: Course) -> list[Lesson]:
    return list(
        db.session.scalars(
            select(Lesson)
            .join(CourseUnit, CourseUnit.id == Lesson.course_unit_id)
            .where(Lesson.course_id == course.id)
            .order_by(CourseUnit.position, Lesson.position)
        )
    )


def _active(lessons: list[Lesson]) -> list[Lesson]:
    """The lessons of the working copy (not removed, nor in a removed unit)."""
    return [
        lesson
        for lesson in lessons
        if lesson.removed_at is None and lesson.course_unit.removed_at is None
    ]


def _lock(course: Course) -> None:
    """Hold the course's row to the end of the unit of work and read its status again: two
    requests moving it at once (a double click) move it, and notify, once."""
    db.session.execute(select(Course.id).where(Course.id == course.id).with_for_update())
    db.session.refresh(course, attribute_names=["status"])


def reviewer_ids(course: Course) -> list[int]:
    """The admins who review the course: those of its unit, or of the nearest unit above it that
    has any (a school's course goes to its school admins, not to every admin of the county)."""
    for unit_id in reversed(course.unit.ancestor_ids):
        found = db.session.scalars(
            select(RoleAssignment.user_id)
            .join(User, User.id == RoleAssignment.user_id)
            .where(
                RoleAssignment.unit_id == unit_id,
                RoleAssignment.role.in_(ADMIN_ROLES),
                User.is_active_account.is_(True),
            )
        ).all()
        if found:
            return sorted(set(found))
    return []


def _tell_author(course: Course, *, kind: str, title: str, body: str, link: str) -> None:
    """A reviewer's decision reaches the course's author."""
    notifications.notify([course.author_id], kind=kind, title=title, body=body, link=link)


def submit_for_review(*, actor: User, course: Course) -> Course:
    """The author hands a draft to the admins of its unit for review (they are notified)."""
    _lock(course)
    if course.status != CourseStatus.DRAFT:
        raise ServiceError(_("Only a draft can be submitted for review."), status=409)
    lessons = _active(_lessons(course))
    if not any(lesson.working_revision is not None for lesson in lessons):
        raise ServiceError(_("Add at least one lesson before submitting."), status=409)
    changed = any(lesson.draft_revision is not None for lesson in lessons)
    if not changed and not structure.structure_changed(course) and course.version >= 1:
        raise ServiceError(_("Nothing has changed since the last publication."), status=409)
    _check_assets_usable(lessons)
    course.status = CourseStatus.IN_REVIEW
    course.submitted_at = drafts.now()
    course.review_comment = None
    audit.record(
        "course.submitted",
        actor=actor,
        unit_id=course.unit_id,
        target_type="course",
        target_id=course.id,
    )
    reviewers = [ident for ident in reviewer_ids(course) if ident != actor.id]
    if reviewers:
        notifications.notify(
            reviewers,
            kind="courses.review_requested",
            title=_("A course to review: %(title)s", title=course.title),
            body=_("%(author)s submitted it for review.", author=actor.display_name),
            link=notifications.path_for("courses.review_queue"),
        )
    db.session.flush()
    return course


def _check_assets_usable(lessons: list[Lesson]) -> None:
    for lesson in lessons:
        revision = lesson.working_revision
        asset = revision.asset if revision is not None else None
        if revision is not None and asset is not None and asset.status == AssetStatus.FAILED:
            raise ServiceError(
                _(
                    "The file of lesson %(title)s failed processing; choose another file.",
                    title=revision.title,
                ),
                status=409,
            )


def publish(*, actor: User, course: Course, comment: str | None = None) -> Course:
    """A reviewer publishes a course in review: every draft revision becomes the live one (its
    author is notified)."""
    _lock(course)
    if course.status != CourseStatus.IN_REVIEW:
        raise ServiceError(_("Only a course in review can be published."), status=409)
    lessons = _active(_lessons(course))
    _check_assets_usable(lessons)
    now = drafts.now()
    for lesson in lessons:
        draft = lesson.draft_revision
        if draft is not None:
            draft.published_at = now
            lesson.published_revision = draft
            lesson.draft_revision = None
    # the working order goes live; removed lessons and units retire
    structure.apply_structure(course)
    live = [lesson.published_revision for lesson in lessons if lesson.published_revision]
    kinds = {revision.kind for revision in live}
    course.format = kinds.pop() if len(kinds) == 1 else (MIXED_FORMAT if kinds else None)
    course.duration_seconds = sum(revision.duration_seconds or 0 for revision in live) or None
    course.version += 1
    course.status = CourseStatus.PUBLISHED
    course.published_at = now
    course.published_by_id = actor.id
    course.review_comment = (comment or "").strip() or None
    audit.record(
        "course.published",
        actor=actor,
        unit_id=course.unit_id,
        target_type="course",
        target_id=course.id,
        version=course.version,
        comment=course.review_comment,
    )
    if course.author_id != actor.id:  # not when admins publish their own course
        _tell_author(
            course,
            kind="courses.published",
            title=_("Your course was published: %(title)s", title=course.title),
            body=course.review_comment or "",
            link=notifications.path_for("courses.course_detail", course_id=course.id),
        )
    db.session.flush()
    return course


def return_for_changes(*, actor: User, course: Course, comment: str) -> Course:
    """A reviewer sends a course back to its author with a comment saying what to change (the
    author is notified)."""
    _lock(course)
    if course.status != CourseStatus.IN_REVIEW:
        raise ServiceError(_("Only a course in review can be returned."), status=409)
    comment = (comment or "").strip()
    if not comment:
        raise ServiceError(_("Say what the author should change."), field="comment", status=422)
    course.status = CourseStatus.DRAFT
    course.review_comment = comment
    audit.record(
        "course.returned",
        actor=actor,
        unit_id=course.unit_id,
        target_type="course",
        target_id=course.id,
        comment=comment,
    )
    if course.author_id != actor.id:
        _tell_author(
            course,
            kind="courses.returned",
            title=_("Your course was returned for changes: %(title)s", title=course.title),
            body=comment,
            link=notifications.path_for("courses.course_edit", course_id=course.id),
        )
    db.session.flush()
    return course


def archive(*, actor: User, course: Course) -> Course:
    """Take a course out of the library (progress and completions are kept)."""
    if course.status == CourseStatus.ARCHIVED:
        raise ServiceError(_("This course is archived."), status=409)
    course.status = CourseStatus.ARCHIVED
    audit.record(
        "course.archived",
        actor=actor,
        unit_id=course.unit_id,
        target_type="course",
        target_id=course.id,
    )
    db.session.flush()
    return course
