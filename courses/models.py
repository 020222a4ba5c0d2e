"""The network classroom (网络课堂): courses, their units and lessons, revisions, progress.

A lesson's content lives in revisions: learners see the lesson's *published* revision while
authors edit a *draft* revision; publishing the course through review swaps the draft in.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from elearn.extensions import Model
from elearn.models import Unit, User
from elearn.models._types import UTCDateTime, utcnow
from media.models import Asset


class Audience(enum.StrEnum):
    STUDENT = "student"
    #: the teachers' training track (教师培训)
    TEACHER = "teacher"
    #: the parent-school track (家长学校)
    PARENT = "parent"


class GradeBand(enum.StrEnum):
    KINDERGARTEN = "kindergarten"
    LOWER_PRIMARY = "lower_primary"  # grades 1–3
    UPPER_PRIMARY = "upper_primary"  # grades 4–6
    JUNIOR = "junior"  # grades 7–9
    SENIOR = "senior"  # grades 10–12
    VOCATIONAL = "vocational"


class Category(enum.StrEnum):
    """The categories of the 146 database (基础数据库)."""

    AUDIO_VIDEO = "audio_video"
    TEXT_PICTURES = "text_pictures"
    COURSEWARE = "courseware"
    TYPICAL_CASE = "typical_case"
    LECTURE_RECORDING = "lecture_recording"


class DrugType(enum.StrEnum):
    GENERAL = "general"
    METHAMPHETAMINE = "methamphetamine"
    HEROIN = "heroin"
    CANNABIS = "cannabis"
    KETAMINE = "ketamine"
    NEW_PSYCHOACTIVE = "new_psychoactive"


class Subject(enum.StrEnum):
    """School subjects a drug-prevention lesson can be infiltrated into ("1+N", 一课双讲)."""

    MORALITY_LAW = "morality_law"
    CHINESE = "chinese"
    BIOLOGY = "biology"
    CHEMISTRY = "chemistry"
    PHYSICAL_EDUCATION = "physical_education"
    MENTAL_HEALTH = "mental_health"
    CLASS_MEETING = "class_meeting"


class CourseStatus(enum.StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class LessonKind(enum.StrEnum):
    VIDEO = "video"
    AUDIO = "audio"
    DOCUMENT = "document"
    RICH_TEXT = "rich_text"


class LessonRole(enum.StrEnum):
    #: the "1" of "1+N": a dedicated drug-prevention lesson (专题课)
    DEDICATED = "dedicated"
    #: the "N": drug prevention taught inside another subject (学科渗透课)
    INFILTRATION = "infiltration"


#: the format facet of a course: the kind of its lessons, or "mixed"
MIXED_FORMAT = "mixed"


class Course(Model):
    """A course owned by an org unit (its scope) and visible to that unit's whole subtree.

    ``status`` is the state of the working copy (draft → in_review → published, or archived);
    ``version`` counts publications, so a course with ``version >= 1`` that is not archived is
    live for learners even while a new draft is being edited or reviewed.
    """

    __tablename__ = "courses"
    __table_args__ = (Index("ix_courses_listing", "status", "version", "audience"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    audience: Mapped[str] = mapped_column(String(16))
    #: for student courses only
    grade_band: Mapped[str | None] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(24))
    drug_type: Mapped[str | None] = mapped_column(String(24))
    subject: Mapped[str | None] = mapped_column(String(24))
    #: derived at publication from the live lessons: their kind, or "mixed"
    format: Mapped[str | None] = mapped_column(String(16))
    #: derived at publication: the live lessons' total length
    duration_seconds: Mapped[float | None] = mapped_column(Float)

    status: Mapped[str] = mapped_column(String(16), default=CourseStatus.DRAFT, index=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    review_comment: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    unit: Mapped[Unit] = relationship(lazy="joined")
    author: Mapped[User] = relationship(foreign_keys=[author_id], lazy="joined")
    course_units: Mapped[list[CourseUnit]] = relationship(
        back_populates="course", order_by="CourseUnit.position", cascade="all, delete-orphan"
    )

    @property
    def is_live(self) -> bool:
        """Learners can see it: published at least once and not archived."""
        return self.version >= 1 and self.status != CourseStatus.ARCHIVED

    def __repr__(self) -> str:
        return f"<Course {self.id} {self.status} v{self.version}>"


class CourseUnit(Model):
    """A chapter of a course (单元); lessons are ordered within it."""

    __tablename__ = "course_units"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    #: the authors' order; ``live_position`` is the order learners see, set at publication
    position: Mapped[int] = mapped_column(Integer, default=0)
    live_position: Mapped[int | None] = mapped_column(Integer)
    #: removed from the working copy; learners keep it until the next publication
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    course: Mapped[Course] = relationship(back_populates="course_units")
    lessons: Mapped[list[Lesson]] = relationship(
        back_populates="course_unit", order_by="Lesson.position", cascade="all, delete-orphan"
    )


class Lesson(Model):
    """A lesson's identity and place; what it shows lives in its revisions."""

    __tablename__ = "lessons"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    course_unit_id: Mapped[int] = mapped_column(
        ForeignKey("course_units.id", ondelete="CASCADE"), index=True
    )
    #: the authors' order; ``live_position`` is the order learners see, set at publication
    position: Mapped[int] = mapped_column(Integer, default=0)
    live_position: Mapped[int | None] = mapped_column(Integer)
    #: removed from the working copy; learners keep the published revision until the next
    #: publication, which retires the lesson (its learners' progress rows stay)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: what learners see; None until the course is first published with this lesson
    published_revision_id: Mapped[int | None] = mapped_column(
        ForeignKey("lesson_revisions.id", use_alter=True, ondelete="SET NULL")
    )
    #: the authors' working copy; None when nothing is being edited
    draft_revision_id: Mapped[int | None] = mapped_column(
        ForeignKey("lesson_revisions.id", use_alter=True, ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    course: Mapped[Course] = relationship()
    course_unit: Mapped[CourseUnit] = relationship(back_populates="lessons")
    published_revision: Mapped[LessonRevision | None] = relationship(
        foreign_keys=[published_revision_id], post_update=True
    )
    draft_revision: Mapped[LessonRevision | None] = relationship(
        foreign_keys=[draft_revision_id], post_update=True
    )

    @property
    def working_revision(self) -> LessonRevision | None:
        """What an author edits: the draft if any, else the published revision."""
        return self.draft_revision or self.published_revision

    @property
    def is_live(self) -> bool:
        return self.published_revision_id is not None


class LessonRevision(Model):
    """One version of a lesson's content. Published revisions are never edited in place."""

    __tablename__ = "lesson_revisions"
    __table_args__ = (UniqueConstraint("lesson_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    asset_id: Mapped[str | None] = mapped_column(
        ForeignKey("assets.id", ondelete="RESTRICT"), index=True
    )
    #: sanitised HTML (rich text lessons, or notes under a video)
    body_html: Mapped[str] = mapped_column(Text, default="")
    role: Mapped[str] = mapped_column(String(16), default=LessonRole.DEDICATED)
    #: the subject an infiltration lesson is taught in
    subject: Mapped[str | None] = mapped_column(String(24))
    #: the quiz that must be passed to complete the lesson; the quizzes package owns the table,
    #: so no foreign key yet (see ``courses.service.LESSON_COMPLETION``)
    quiz_id: Mapped[int | None] = mapped_column(Integer)
    #: reading time for rich text and documents; media lessons take the asset's duration
    reading_seconds: Mapped[float | None] = mapped_column(Float)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    asset: Mapped[Asset | None] = relationship(lazy="joined")

    @property
    def duration_seconds(self) -> float | None:
        """How long the lesson takes: the media's duration, or the reading time."""
        if self.kind in {LessonKind.VIDEO, LessonKind.AUDIO}:
            return self.asset.duration_seconds if self.asset is not None else None
        if self.kind == LessonKind.DOCUMENT:
            # half a minute a page, at least a minute
            pages = self.asset.page_count if self.asset is not None else None
            return float(max(60, 30 * (pages or 0)))
        return self.reading_seconds

    @property
    def is_playable(self) -> bool:
        if self.kind in {LessonKind.VIDEO, LessonKind.AUDIO, LessonKind.DOCUMENT}:
            return self.asset is not None and self.asset.is_ready
        return True


class LessonProgress(Model):
    """One learner's progress in one lesson: the intervals the server saw them watch."""

    __tablename__ = "lesson_progress"
    __table_args__ = (UniqueConstraint("user_id", "lesson_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    #: merged, sorted [start, end] pairs in seconds
    intervals: Mapped[list[list[float]]] = mapped_column(JSON, default=list)
    watched_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    last_position: Mapped[float] = mapped_column(Float, default=0.0)
    #: the previous heartbeat as the server saw it (its own clock, never the client's)
    last_heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    is_playing: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    lesson: Mapped[Lesson] = relationship()


class LearnerClock(Model):
    """One learner's watch-time credit, shared by every lesson and device (service.heartbeat).

    Credit is earned only by server time passing (``RATE_TOLERANCE`` seconds a second, up to one
    allowance) and spent by every lesson's heartbeats, so lessons "watched" side by side share it.
    """

    __tablename__ = "learner_clocks"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    #: seconds of credit earned and not yet spent
    allowance: Mapped[float] = mapped_column(Float, default=0.0)
    #: the server time the allowance was last topped up to
    refilled_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CourseCompletion(Model):
    """A learner completed every live lesson of a course (recorded once)."""

    __tablename__ = "course_completions"
    __table_args__ = (UniqueConstraint("user_id", "course_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    course_version: Mapped[int] = mapped_column(Integer)
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: the coverage fact it was reported as, if any ("student_course", …)
    fact_kind: Mapped[str | None] = mapped_column(String(32))
