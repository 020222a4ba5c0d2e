"""Live lectures' JSON API under /api/v1 (documented in /api/v1/openapi.json)."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from marshmallow import fields, validate
from sqlalchemy import select

from elearn import permissions
from elearn.api import ApiBlueprint, protect_cookie_sessions, refuses
from elearn.api.schemas import Body, Choice, Out, RowId, RowIds, Text, When
from elearn.extensions import db
from elearn.models import User
from elearn.service.errors import ServiceError
from live import service
from live.models import Lecture

#: the most audience entries and co-hosts a lecture takes in one request
MAX_AUDIENCE = 200
MAX_COHOSTS = 20

bp = ApiBlueprint("live_api", __name__, url_prefix="/api/v1", description="live lectures")
bp.before_request(protect_cookie_sessions)


class AudienceEntry(Body):
    ONE_OF = ("unit_id", "role")
    ONE_OF_MESSAGE = _l("Each audience entry needs a unit_id or a role.")

    unit_id = RowId(metadata={"description": "everyone under this unit (within your scope)"})
    role = Choice(
        sorted(service.AUDIENCE_ROLES),
        allow_none=True,
        metadata={"description": "only this role (students, teachers, guardians)"},
    )


class LectureCreate(Body):
    title = Text(service.MAX_TITLE, min_length=1, required=True)
    starts_at = When(
        required=True,
        metadata={"description": "ISO 8601 with its offset, e.g. 2030-03-01T20:43:00+08:00"},
    )
    audience = fields.List(
        fields.Nested(AudienceEntry),
        required=True,
        validate=validate.Length(min=1, max=MAX_AUDIENCE),
        metadata={
            "description": "everyone under a unit, a role within your scope, or both in one entry"
        },
    )
    is_training = fields.Boolean(metadata={"description": "a teacher training (教师培训)"})
    cohost_ids = RowIds(max_items=MAX_COHOSTS)
    lesson_id = RowId(
        allow_none=True,
        metadata={
            "description": "a course lesson you can see that the lecture stands for: whoever "
            "attends at least ELEARN_LIVE_LESSON_SHARE of it (and may learn the lesson) completes it"
        },
    )


class LectureCreated(Out):
    id = fields.Integer()


class Person(Out):
    id = fields.Integer()
    name = fields.String()


class AudienceRow(Out):
    unit_id = fields.Integer(allow_none=True)
    unit_name = fields.String()
    role = fields.String(allow_none=True)


class LectureOut(Out):
    id = fields.Integer()
    title = fields.String()
    lecturer = fields.Nested(Person)
    starts_at = When()
    status = Choice(["scheduled", "live", "ended"])
    is_training = fields.Boolean()
    lesson_id = fields.Integer(allow_none=True)
    audience = fields.List(fields.Nested(AudienceRow))
    cohost_ids = fields.List(fields.Integer())
    chat_enabled = fields.Boolean()
    slow_mode_seconds = fields.Integer()
    is_host = fields.Boolean()


class AttendanceRow(Out):
    user = fields.Nested(Person)
    class_screen = fields.Boolean()
    class_ = fields.Nested(Person, data_key="class", attribute="class", allow_none=True)
    headcount = fields.Integer(allow_none=True)
    watched_seconds = fields.Float()
    watching_now = fields.Boolean()
    first_joined_at = When()


class Attendance(Out):
    lecture_id = fields.Integer()
    people = fields.Integer()
    class_screens = fields.Integer()
    class_headcount = fields.Integer()
    rows = fields.List(fields.Nested(AttendanceRow))


def _cohosts(ids: list[int]) -> list[User]:
    users = list(db.session.scalars(select(User).where(User.id.in_(ids))))
    visible = [u for u in users if permissions.can(current_user, "view", u) or u.has_role("expert")]
    if len(visible) != len(set(ids)):
        raise ServiceError(_("A co-host does not exist or is outside your scope."))
    return visible


@bp.route("/lectures", methods=["POST"], tags=["live"])
@login_required
@bp.arguments(LectureCreate)
@bp.response(201, LectureCreated)
@refuses(400, 401, 403, 404)
def create_lecture(body: dict[str, Any]) -> dict[str, int]:
    """Schedule a live lecture (experts, teachers, admins).

    400: an audience unit or co-host outside the caller's scope; 403: the caller may not
    schedule lectures; 404: the lesson is not one the caller can see; 422 (among the schema's
    refusals): starts_at without its offset, or a year outside 1900-9998.
    """
    lecture = service.create_lecture(
        actor=current_user,
        title=body["title"],
        starts_at=body["starts_at"],
        audience=body["audience"],
        is_training=body.get("is_training", False),
        cohosts=_cohosts(body.get("cohost_ids") or []),
        lesson_id=body.get("lesson_id"),
    )
    return {"id": lecture.id}


@bp.route("/lectures", tags=["live"])
@login_required
@bp.response(200, LectureOut(many=True), description="lectures, soonest first")
@refuses(401)
def lectures() -> list[dict[str, Any]]:
    """The lectures the caller may watch or host (admins: those in their scope)."""
    rows = db.session.scalars(service.visible_lectures(current_user).limit(500))
    return [service.lecture_json(lecture, current_user) for lecture in rows]


@bp.route("/lectures/<int:lecture_id>", tags=["live"])
@login_required
@bp.response(200, LectureOut)
@refuses(401, 404)
def lecture(lecture_id: int) -> dict[str, Any]:
    """One lecture."""
    found = permissions.get_or_404(Lecture, lecture_id, current_user)
    return service.lecture_json(found, current_user)


@bp.route("/lectures/<int:lecture_id>/attendance", tags=["live"])
@login_required
@bp.response(200, Attendance, description="one row per person and per class screen, with totals")
@refuses(401, 404)
def lecture_attendance(lecture_id: int) -> dict[str, Any]:
    """Who watched and for how long (hosts, and admins for the part of the audience they oversee)."""
    found = permissions.get_or_404(Lecture, lecture_id, current_user, "view_attendance")
    return service.attendance_report(actor=current_user, lecture=found)
