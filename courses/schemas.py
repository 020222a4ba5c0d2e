"""The network classroom's API schemas: they validate the input, render the output and are the
OpenAPI document (``courses.api`` uses them)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar

from marshmallow import fields, validate

from courses.models import (
    Audience,
    Category,
    CourseStatus,
    DrugType,
    GradeBand,
    LessonKind,
    LessonRole,
    Subject,
)
from elearn.api.schemas import Body, Choice, Out, Query, RowId, Text, When
from elearn.models._types import INT_MAX


def _values(enum: type[StrEnum]) -> list[str]:
    return [member.value for member in enum]


class UnitRef(Out):
    id = fields.Integer()
    name = fields.String()


class UserRef(Out):
    id = fields.Integer()
    name = fields.String(attribute="display_name")


class CourseOut(Out):
    id = fields.Integer()
    title = fields.String()
    description = fields.String()
    audience = Choice(_values(Audience))
    grade_band = fields.String(allow_none=True)
    category = fields.String()
    drug_type = fields.String(allow_none=True)
    subject = fields.String(allow_none=True)
    format = fields.String(allow_none=True)
    duration_seconds = fields.Float(allow_none=True)
    status = Choice(_values(CourseStatus))
    version = fields.Integer()
    is_live = fields.Boolean()
    unit = fields.Nested(UnitRef)
    author = fields.Nested(UserRef)
    review_comment = fields.String(allow_none=True)
    published_at = When(allow_none=True)


class LessonOut(Out):
    id = fields.Integer(attribute="lesson.id")
    title = fields.String()
    kind = Choice(_values(LessonKind))
    role = Choice(_values(LessonRole))
    subject = fields.String(allow_none=True)
    is_live = fields.Boolean()
    has_draft = fields.Boolean()
    playable = fields.Boolean(attribute="is_playable")
    duration_seconds = fields.Float(allow_none=True)
    watched_seconds = fields.Float()
    completed = fields.Boolean()


class OutlineUnitOut(Out):
    id = fields.Integer(attribute="course_unit.id")
    title = fields.String(attribute="course_unit.title")
    lessons = fields.List(fields.Nested(LessonOut))


class CourseProgressOut(Out):
    lessons_total = fields.Integer()
    lessons_done = fields.Integer()
    completed = fields.Boolean()


class CourseDetail(CourseOut):
    units = fields.List(fields.Nested(OutlineUnitOut))
    progress = fields.Nested(CourseProgressOut, metadata={"description": "live courses only"})


class Facet(Out):
    value = fields.String()
    count = fields.Integer()


class Library(Out):
    total = fields.Integer()
    page = fields.Integer()
    courses = fields.List(fields.Nested(CourseOut))
    facets = fields.Dict(keys=fields.String(), values=fields.List(fields.Nested(Facet)))


class LibraryQuery(Query):
    q = Text(metadata={"description": "words in the title or description"})
    audience = Choice(_values(Audience))
    grade_band = Choice(_values(GradeBand))
    grade = Choice(_values(GradeBand), metadata={"description": "the same as grade_band"})
    category = Choice(_values(Category))
    drug_type = Choice(_values(DrugType))
    format = Text(metadata={"description": "a lesson kind, or mixed"})
    page = fields.Integer(validate=validate.Range(min=1, max=INT_MAX), load_default=1)


class DetailQuery(Query):
    draft = fields.Boolean(metadata={"description": "authors only, the working copy"})


class Heartbeat(Body):
    position = fields.Float(
        required=True,
        validate=validate.Range(min=0),
        metadata={"description": "playback position in seconds"},
    )
    playing = fields.Boolean(load_default=True)


class HeartbeatResult(Out):
    watched_seconds = fields.Float()
    completed = fields.Boolean()
    duration_seconds = fields.Float(allow_none=True)
    course_completed = fields.Boolean()


class LessonProgressOut(Out):
    lesson_id = fields.Integer()
    course_id = fields.Integer()
    watched_seconds = fields.Float()
    last_position = fields.Float()
    completed_at = When(allow_none=True)


class StartedCourse(Out):
    course_id = fields.Integer(attribute="course.id")
    title = fields.String(attribute="course.title")
    lessons_total = fields.Integer()
    lessons_done = fields.Integer()
    completed = fields.Boolean()


class MyProgress(Out):
    lessons = fields.List(fields.Nested(LessonProgressOut))
    courses = fields.List(fields.Nested(StartedCourse))


class CourseCreate(Body):
    #: a course for students names its grade band (the service says so with a 422)
    OPENAPI: ClassVar[dict[str, Any]] = {
        "anyOf": [
            {"properties": {"audience": {"enum": ["teacher", "parent"]}}},
            {"required": ["grade_band"], "properties": {"grade_band": {"type": "string"}}},
        ]
    }

    title = Text(200, min_length=1, required=True)
    description = Text()
    unit_id = RowId(metadata={"description": "the owner unit; defaults to the caller's highest"})
    audience = Choice(_values(Audience), required=True)
    grade_band = Choice(_values(GradeBand), allow_none=True)
    category = Choice(_values(Category), required=True)
    drug_type = Choice(_values(DrugType), allow_none=True)
    subject = Choice(_values(Subject), allow_none=True)


class LessonCreate(Body):
    title = Text(200, min_length=1, required=True)
    kind = Choice(_values(LessonKind), required=True)
    asset_id = Text(
        64, allow_none=True, metadata={"description": "the author's asset, ready or processing"}
    )
    body_html = Text(metadata={"description": "sanitised on the server"})
    role = Choice(_values(LessonRole), load_default=LessonRole.DEDICATED.value)
    subject = Choice(
        _values(Subject),
        allow_none=True,
        metadata={"description": "required for infiltration lessons"},
    )
    unit_id = RowId(
        allow_none=True, metadata={"description": "the course unit; defaults to the last"}
    )


class NewLesson(Out):
    id = fields.Integer()
    title = fields.String()
    kind = Choice(_values(LessonKind))
    role = Choice(_values(LessonRole))
    subject = fields.String(allow_none=True)
    is_live = fields.Boolean()
    has_draft = fields.Boolean()
    playable = fields.Boolean()
    duration_seconds = fields.Float(allow_none=True)
    watched_seconds = fields.Float()
    completed = fields.Boolean()


class Move(Body):
    direction = Choice(["up", "down"], required=True)


class Moved(Out):
    moved = fields.Boolean(metadata={"description": "false when already at that end"})


class Removed(Out):
    pending = fields.Boolean(
        metadata={"description": "true: learners keep it until the course is published again"}
    )


class ReviewComment(Body):
    comment = Text(allow_none=True)


class ReturnComment(Body):
    comment = Text(required=True)
