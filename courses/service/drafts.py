"""The working copy's rules shared by authoring and structure: what may be edited, and what an
edit does to a published course (it becomes a draft again; learners keep the published version)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask_babel import gettext as _

from courses.models import Course, CourseStatus
from elearn.service.errors import ServiceError


def now() -> datetime:
    return datetime.now(UTC)


def require_editable(course: Course) -> None:
    if course.status == CourseStatus.IN_REVIEW:
        raise ServiceError(
            _(
                "This course is waiting for review; it can be edited once it is published or returned."
            ),
            status=409,
        )
    if course.status == CourseStatus.ARCHIVED:
        raise ServiceError(_("This course is archived."), status=409)


def touch(course: Course) -> None:
    """An edit to a published course starts a new draft; learners keep the published version."""
    if course.status == CourseStatus.PUBLISHED:
        course.status = CourseStatus.DRAFT
        # the publication's comment (kept in the audit log) is no reviewer's request to change
        course.review_comment = None
    course.updated_at = now()
