"""Authoring: courses, units and lessons (review and publication: ``courses.service.review``).

Lesson content is edited in a draft revision; learners keep the published revision until the
course is published again through review, when every draft revision is swapped in at once.
"""

from __future__ import annotations

import re
from enum import StrEnum

import nh3
from flask_babel import gettext as _
from sqlalchemy import func, select

from courses.models import (
    Audience,
    Category,
    Course,
    CourseStatus,
    CourseUnit,
    DrugType,
    GradeBand,
    Lesson,
    LessonKind,
    LessonRevision,
    LessonRole,
    Subject,
)
from courses.service import structure
from courses.service.access import authoring_units
from courses.service.drafts import now, require_editable, touch
from elearn.extensions import db
from elearn.models import Unit, User
from elearn.service import audit
from elearn.service.errors import ServiceError
from media.models import Asset, AssetKind, AssetStatus

#: the HTML a rich-text lesson may contain; everything else is stripped
ALLOWED_TAGS = frozenset(
    {
        "p",
        "br",
        "strong",
        "em",
        "b",
        "i",
        "u",
        "h2",
        "h3",
        "h4",
        "ul",
        "ol",
        "li",
        "blockquote",
        "a",
    }
)
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
#: reading speed used for a rich-text lesson's required time (characters a second), and bounds
READING_CHARS_PER_SECOND = 10
MIN_READING_SECONDS = 20.0
MAX_READING_SECONDS = 600.0
#: which asset kind each media lesson kind plays
ASSET_KIND_FOR = {
    LessonKind.VIDEO: AssetKind.VIDEO,
    LessonKind.AUDIO: AssetKind.AUDIO,
    LessonKind.DOCUMENT: AssetKind.DOCUMENT,
}
MAX_TITLE = 200


def sanitize_html(html: str) -> str:
    """Rich text as authors may write it: a small set of tags, safe links, no scripts or styles."""
    return nh3.clean(
        html or "",
        tags=set(ALLOWED_TAGS),
        attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
        url_schemes={"http", "https", "mailto"},
    )


#: a block-level tag: text with one of these is HTML (the editor's, or an API client's); text
#: without any was typed as text, and its line breaks are the author's paragraphs
_BLOCK_TAG = re.compile(r"<\s*/?\s*(?:p|br|div|h[1-6]|ul|ol|li|blockquote|pre|table)\b", re.I)


def text_to_html(text: str) -> str:
    """Typed text as paragraphs: a blank line starts a paragraph, a single line break stays one.

    The text is not escaped here: ``sanitize_html`` parses it next, so a stray ``<`` or ``&``
    becomes text and the inline markup authors typed before the editor (``<strong>``) is kept.
    """
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    paragraphs = [part.strip() for part in re.split(r"\n[ \t]*\n", text) if part.strip()]
    return "".join(
        "<p>" + "<br>".join(line.strip() for line in part.split("\n")) + "</p>"
        for part in paragraphs
    )


def lesson_html(body: str) -> str:
    """An author's lesson text as learners get it: the editor's HTML sanitised, text typed
    without markup (the page without script, an API client) with its paragraphs and breaks."""
    body = body or ""
    if not _BLOCK_TAG.search(body):
        body = text_to_html(body)
    return sanitize_html(body)


def reading_seconds(html: str) -> float:
    """How long a learner must spend on a rich-text lesson to complete it."""
    text = nh3.clean(html or "", tags=set()).strip()
    seconds = len(text) / READING_CHARS_PER_SECOND
    return float(min(MAX_READING_SECONDS, max(MIN_READING_SECONDS, round(seconds))))


def _choice(
    value: str | None, allowed: type[StrEnum], field: str, *, required: bool = True
) -> str | None:
    value = (value or "").strip() or None
    if value is None:
        if required:
            raise ServiceError(_("Choose a value for this field."), field=field, status=422)
        return None
    if value not in {member.value for member in allowed}:
        raise ServiceError(
            _("%(value)s is not a valid choice.", value=value), field=field, status=422
        )
    return value


def _title(value: str | None, field: str = "title") -> str:
    title = (value or "").strip()
    if not title:
        raise ServiceError(_("Give it a title."), field=field, status=422)
    if len(title) > MAX_TITLE:
        raise ServiceError(
            _("The title may be at most %(n)d characters long.", n=MAX_TITLE),
            field=field,
            status=422,
        )
    return title


def _course_fields(
    *,
    audience: str | None,
    grade_band: str | None,
    category: str | None,
    drug_type: str | None,
    subject: str | None,
) -> dict[str, str | None]:
    fields = {
        "audience": _choice(audience, Audience, "audience"),
        "category": _choice(category, Category, "category"),
        "drug_type": _choice(drug_type, DrugType, "drug_type", required=False),
        "subject": _choice(subject, Subject, "subject", required=False),
        "grade_band": _choice(grade_band, GradeBand, "grade_band", required=False),
    }
    if fields["audience"] == Audience.STUDENT and fields["grade_band"] is None:
        raise ServiceError(
            _("Choose the grade band of a course for students."), field="grade_band", status=422
        )
    if fields["audience"] != Audience.STUDENT:
        fields["grade_band"] = None
    return fields


def create_course(
    *,
    actor: User,
    unit: Unit,
    title: str,
    description: str = "",
    audience: str,
    category: str,
    grade_band: str | None = None,
    drug_type: str | None = None,
    subject: str | None = None,
) -> Course:
    """Create a draft course owned by ``unit`` (one of the units the actor may author at)."""
    if unit.id not in {u.id for u in authoring_units(actor)}:
        raise ServiceError(_("You cannot create courses for this unit."), status=403, field="unit")
    course = Course(
        title=_title(title),
        description=(description or "").strip(),
        unit=unit,
        author=actor,
        status=CourseStatus.DRAFT,
        version=0,
        **_course_fields(
            audience=audience,
            grade_band=grade_band,
            category=category,
            drug_type=drug_type,
            subject=subject,
        ),
    )
    db.session.add(course)
    db.session.flush()
    audit.record(
        "course.created", actor=actor, unit_id=unit.id, target_type="course", target_id=course.id
    )
    return course


def update_course(
    *,
    actor: User,
    course: Course,
    title: str,
    description: str,
    audience: str,
    category: str,
    grade_band: str | None = None,
    drug_type: str | None = None,
    subject: str | None = None,
) -> Course:
    """Change a course's description and tags (they apply at once; lessons go through review)."""
    require_editable(course)
    fields = _course_fields(
        audience=audience,
        grade_band=grade_band,
        category=category,
        drug_type=drug_type,
        subject=subject,
    )
    if course.version >= 1 and fields["audience"] != course.audience:
        raise ServiceError(
            _("The audience of a published course cannot change; create a new course instead."),
            field="audience",
            status=409,
        )
    course.title = _title(title)
    course.description = (description or "").strip()
    for name, value in fields.items():
        setattr(course, name, value)
    course.updated_at = now()
    audit.record(
        "course.updated",
        actor=actor,
        unit_id=course.unit_id,
        target_type="course",
        target_id=course.id,
    )
    db.session.flush()
    return course


def add_course_unit(*, actor: User, course: Course, title: str) -> CourseUnit:
    """Add a unit (chapter) at the end of the course."""
    require_editable(course)
    position = db.session.scalar(
        select(func.coalesce(func.max(CourseUnit.position), 0)).where(
            CourseUnit.course_id == course.id
        )
    )
    course_unit = CourseUnit(course=course, title=_title(title), position=(position or 0) + 1)
    db.session.add(course_unit)
    touch(course)
    db.session.flush()
    return course_unit


def _check_asset(
    *, actor: User, kind: str, asset_id: str | None, kept_asset_id: str | None = None
) -> Asset | None:
    if kind == LessonKind.RICH_TEXT:
        return None
    if not asset_id:
        raise ServiceError(_("Choose a file for this lesson."), field="asset_id", status=422)
    asset = db.session.get(Asset, str(asset_id))
    if asset is None or (asset.owner_id != actor.id and asset.id != kept_asset_id):
        # another person's asset is as good as missing
        raise ServiceError(_("No such file among your uploads."), field="asset_id", status=422)
    if asset.kind != ASSET_KIND_FOR[LessonKind(kind)]:
        raise ServiceError(
            _("This file does not fit this kind of lesson."), field="asset_id", status=422
        )
    if asset.status not in {AssetStatus.READY, AssetStatus.PROCESSING}:
        raise ServiceError(
            _("This file cannot be used: it is still uploading or its processing failed."),
            field="asset_id",
            status=422,
        )
    return asset


def _revision_fields(
    *,
    actor: User,
    title: str,
    kind: str,
    asset_id: str | None,
    body_html: str,
    role: str,
    subject: str | None,
    quiz_id: int | None,
    kept_asset_id: str | None = None,
) -> dict[str, object]:
    kind_value = _choice(kind, LessonKind, "kind")
    assert kind_value is not None
    role_value = _choice(role or LessonRole.DEDICATED, LessonRole, "role")
    subject_value = _choice(subject, Subject, "subject", required=False)
    if role_value == LessonRole.INFILTRATION and subject_value is None:
        raise ServiceError(
            _("Choose the subject an infiltration lesson is taught in."),
            field="subject",
            status=422,
        )
    asset = _check_asset(
        actor=actor, kind=kind_value, asset_id=asset_id, kept_asset_id=kept_asset_id
    )
    body = lesson_html(body_html)
    if kind_value == LessonKind.RICH_TEXT and not nh3.clean(body, tags=set()).strip():
        raise ServiceError(_("Write the text of the lesson."), field="body_html", status=422)
    return {
        "title": _title(title),
        "kind": kind_value,
        "asset_id": asset.id if asset is not None else None,
        "body_html": body,
        "role": role_value,
        "subject": subject_value,
        "quiz_id": quiz_id,
        "reading_seconds": reading_seconds(body) if kind_value == LessonKind.RICH_TEXT else None,
    }


def add_lesson(
    *,
    actor: User,
    course: Course,
    title: str,
    kind: str,
    course_unit: CourseUnit | None = None,
    asset_id: str | None = None,
    body_html: str = "",
    role: str = LessonRole.DEDICATED,
    subject: str | None = None,
    quiz_id: int | None = None,
) -> Lesson:
    """Add a lesson at the end of a unit (the course's last, or a first one made for it)."""
    require_editable(course)
    fields = _revision_fields(
        actor=actor,
        title=title,
        kind=kind,
        asset_id=asset_id,
        body_html=body_html,
        role=role,
        subject=subject,
        quiz_id=quiz_id,
    )
    units = structure.working_units(course)
    if course_unit is None:
        course_unit = units[-1] if units else None
    elif course_unit.removed_at is not None:
        raise ServiceError(_("That unit has been removed."), field="unit", status=422)
    if course_unit is None:
        # the first unit is named after the course; authors rename or add units as they go
        course_unit = add_course_unit(actor=actor, course=course, title=course.title)
    elif course_unit.course_id != course.id:
        raise ServiceError(_("That unit belongs to another course."), field="unit", status=422)
    position = db.session.scalar(
        select(func.coalesce(func.max(Lesson.position), 0)).where(
            Lesson.course_unit_id == course_unit.id
        )
    )
    lesson = Lesson(course=course, course_unit=course_unit, position=(position or 0) + 1)
    db.session.add(lesson)
    db.session.flush()
    revision = LessonRevision(lesson_id=lesson.id, number=1, created_by_id=actor.id, **fields)
    db.session.add(revision)
    db.session.flush()
    lesson.draft_revision = revision
    touch(course)
    db.session.flush()
    return lesson


def update_lesson(
    *,
    actor: User,
    lesson: Lesson,
    title: str,
    kind: str,
    asset_id: str | None = None,
    body_html: str = "",
    role: str = LessonRole.DEDICATED,
    subject: str | None = None,
    quiz_id: int | None = None,
) -> LessonRevision:
    """Edit a lesson. The change goes into its draft revision; the published one stays watchable."""
    course = lesson.course
    require_editable(course)
    current = lesson.working_revision
    fields = _revision_fields(
        actor=actor,
        title=title,
        kind=kind,
        asset_id=asset_id,
        body_html=body_html,
        role=role,
        subject=subject,
        quiz_id=quiz_id,
        # a co-editor may keep the file another author put in the lesson
        kept_asset_id=current.asset_id if current is not None else None,
    )
    draft = lesson.draft_revision
    if draft is None:
        number = db.session.scalar(
            select(func.max(LessonRevision.number)).where(LessonRevision.lesson_id == lesson.id)
        )
        draft = LessonRevision(lesson_id=lesson.id, number=(number or 0) + 1)
        db.session.add(draft)
    for name, value in fields.items():
        setattr(draft, name, value)
    draft.created_by_id = actor.id
    db.session.flush()
    lesson.draft_revision = draft
    touch(course)
    db.session.flush()
    return draft
