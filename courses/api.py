"""The network classroom's JSON API under /api/v1 (documented in /api/v1/openapi.json)."""

from __future__ import annotations

from typing import Any

from flask import abort
from flask_babel import gettext as _
from flask_login import current_user, login_required

from courses import queries, service
from courses.models import Course, CourseUnit, Lesson
from courses.schemas import (
    CourseCreate,
    CourseDetail,
    CourseOut,
    DetailQuery,
    Heartbeat,
    HeartbeatResult,
    LessonCreate,
    Library,
    LibraryQuery,
    Move,
    Moved,
    MyProgress,
    NewLesson,
    Removed,
    ReturnComment,
    ReviewComment,
)
from elearn import permissions
from elearn.api import ApiBlueprint, protect_cookie_sessions, refuses
from elearn.extensions import db
from elearn.models import Unit
from elearn.service.errors import ServiceError

bp = ApiBlueprint(
    "courses_api", __name__, url_prefix="/api/v1", description="the network classroom"
)


# bearer-token clients carry no ambient credentials; calls riding on the session cookie need CSRF
bp.before_request(protect_cookie_sessions)


def _load_course(course_id: int, action: str) -> Course:
    """Out of sight is a 404; in sight but not allowed is a 403."""
    course = permissions.get_or_404(Course, course_id, current_user, "view")
    if not permissions.can(current_user, action, course):
        abort(403)
    return course


@bp.route("/courses", tags=["courses"])
@login_required
@bp.arguments(LibraryQuery, location="query")
@bp.response(200, Library)
@refuses(401)
def course_list(args: dict[str, Any]) -> dict[str, Any]:
    """The course library: live courses within the caller's reach, searched and faceted."""
    filters = queries.LibraryFilters.from_args(args)
    result = queries.library(current_user, filters, page=args["page"])
    return {
        "total": result.total,
        "page": args["page"],
        "courses": result.courses,
        "facets": {
            name: [{"value": value, "count": count} for value, count in values]
            for name, values in result.facets.items()
        },
    }


@bp.route("/courses/<int:course_id>", tags=["courses"])
@login_required
@bp.arguments(DetailQuery, location="query")
@bp.response(200, CourseDetail)
@refuses(401, 404)
def course_detail(args: dict[str, bool], course_id: int) -> dict[str, Any]:
    """One course with its units and lessons (the live version; authors also get the draft)."""
    course = permissions.get_or_404(Course, course_id, current_user, "view")
    authoring = permissions.can(current_user, "edit", course) and (
        args.get("draft", False) or not course.is_live
    )
    data: dict[str, Any] = CourseOut().dump(course)
    data["units"] = queries.outline(course, user=current_user, authoring=authoring)
    if course.is_live:
        data["progress"] = queries.progress_of(current_user, course)
    return data


@bp.route("/lessons/<int:lesson_id>/heartbeats", methods=["POST"], tags=["courses"])
@login_required
@bp.arguments(Heartbeat)
@bp.response(200, HeartbeatResult, description="the learner's progress in the lesson")
@refuses(401, 404, 409)
def lesson_heartbeat(body: dict[str, Any], lesson_id: int) -> Any:
    """Report playback: the server credits what it saw watched, never faster than real time.

    409: the lesson is not playable yet.
    """
    lesson = permissions.get_or_404(Lesson, lesson_id, current_user, "learn")
    result = service.heartbeat(
        actor=current_user, lesson=lesson, position=body["position"], playing=body["playing"]
    )
    return result


@bp.route("/me/progress", tags=["courses"])
@login_required
@bp.response(200, MyProgress, description="progress per lesson and completed courses")
@refuses(401)
def my_progress() -> dict[str, Any]:
    """The caller's progress: each lesson started and each course completed."""
    return {
        "lessons": queries.my_lesson_progress(current_user),
        "courses": queries.my_courses(current_user),
    }


@bp.route("/courses", methods=["POST"], tags=["courses"])
@login_required
@bp.arguments(CourseCreate)
@bp.response(201, CourseOut)
@refuses(401, 403)
def course_create(body: dict[str, Any]) -> Course:
    """Create a draft course (authors: admins, teachers and experts, in their own scope)."""
    units = service.authoring_units(current_user)
    if not units:
        abort(403)
    unit: Unit | None = units[0]
    if body.get("unit_id") is not None:
        unit = next((u for u in units if u.id == body["unit_id"]), None)
        if unit is None:
            abort(403)
    assert unit is not None
    course = service.create_course(
        actor=current_user,
        unit=unit,
        title=body["title"],
        description=body.get("description") or "",
        audience=body["audience"],
        category=body["category"],
        grade_band=body.get("grade_band"),
        drug_type=body.get("drug_type"),
        subject=body.get("subject"),
    )
    return course


@bp.route("/courses/<int:course_id>/lessons", methods=["POST"], tags=["courses"])
@login_required
@bp.arguments(LessonCreate)
@bp.response(201, NewLesson, description="the lesson (a draft until the course is published again)")
@refuses(400, 401, 403, 404, 409)
def lesson_create(body: dict[str, Any], course_id: int) -> dict[str, Any]:
    """Add a lesson: a video, audio or document from the author's uploads, or rich text.

    400: the unit belongs to another course; 409: the course is in review or archived; 422 also
    when the asset is not the caller's or not usable.
    """
    course = _load_course(course_id, "edit")
    course_unit = None
    if body.get("unit_id") is not None:
        course_unit = db.session.get(CourseUnit, body["unit_id"])
        if course_unit is None or course_unit.course_id != course.id:
            raise ServiceError(_("That unit belongs to another course."))
    lesson = service.add_lesson(
        actor=current_user,
        course=course,
        course_unit=course_unit,
        title=body["title"],
        kind=body["kind"],
        asset_id=body.get("asset_id"),
        body_html=body.get("body_html") or "",
        role=body["role"],
        subject=body.get("subject"),
    )
    revision = lesson.draft_revision
    assert revision is not None
    return {
        "id": lesson.id,
        "title": revision.title,
        "kind": revision.kind,
        "role": revision.role,
        "subject": revision.subject,
        "is_live": lesson.is_live,
        "has_draft": True,
        "playable": revision.is_playable,
        "duration_seconds": revision.duration_seconds,
        "watched_seconds": 0.0,
        "completed": False,
    }


def _editable(model: type, ident: int) -> Any:
    """A lesson or unit the caller manages: out of sight 404, in sight but not theirs 403."""
    obj = permissions.get_or_404(model, ident, current_user, "view")
    if not permissions.can(current_user, "edit", obj) or getattr(obj, "removed_at", None):
        abort(403 if obj.removed_at is None else 404)
    return obj


@bp.route("/lessons/<int:lesson_id>/move", methods=["POST"], tags=["courses"])
@login_required
@bp.arguments(Move)
@bp.response(200, Moved)
@refuses(401, 403, 404, 409)
def lesson_move(body: dict[str, str], lesson_id: int) -> dict[str, bool]:
    """Move a lesson one place up or down in its unit (the working copy); learners see the new
    order once the course is published again.

    409: the course is in review or archived.
    """
    lesson = _editable(Lesson, lesson_id)
    moved = service.move_lesson(actor=current_user, lesson=lesson, direction=body["direction"])
    return {"moved": moved}


@bp.route("/course-units/<int:course_unit_id>/move", methods=["POST"], tags=["courses"])
@login_required
@bp.arguments(Move)
@bp.response(200, Moved)
@refuses(401, 403, 404, 409)
def unit_move(body: dict[str, str], course_unit_id: int) -> dict[str, bool]:
    """Move a unit one place up or down in its course (the working copy).

    409: the course is in review or archived.
    """
    course_unit = _editable(CourseUnit, course_unit_id)
    moved = service.move_course_unit(
        actor=current_user, course_unit=course_unit, direction=body["direction"]
    )
    return {"moved": moved}


@bp.route("/lessons/<int:lesson_id>", methods=["DELETE"], tags=["courses"])
@login_required
@bp.response(200, Removed)
@refuses(401, 403, 404, 409)
def lesson_delete(lesson_id: int) -> dict[str, bool]:
    """Remove a lesson from the working copy (the pages ask for confirmation first).

    A published lesson stays with learners until the course is published again (pending); a
    lesson never published is deleted at once. 409: the course is in review or archived.
    """
    lesson = _editable(Lesson, lesson_id)
    pending = service.remove_lesson(actor=current_user, lesson=lesson)
    return {"pending": pending}


@bp.route("/course-units/<int:course_unit_id>", methods=["DELETE"], tags=["courses"])
@login_required
@bp.response(200, Removed)
@refuses(401, 403, 404, 409)
def unit_delete(course_unit_id: int) -> dict[str, bool]:
    """Remove a unit and its lessons from the working copy.

    409: the course is in review or archived.
    """
    course_unit = _editable(CourseUnit, course_unit_id)
    pending = service.remove_course_unit(actor=current_user, course_unit=course_unit)
    return {"pending": pending}


@bp.route("/courses/<int:course_id>/submit", methods=["POST"], tags=["courses"])
@login_required
@bp.response(200, CourseOut, description="the course, now in review")
@refuses(401, 403, 404, 409)
def course_submit(course_id: int) -> Course:
    """Submit a draft course for review by the admins of its unit.

    409: the course is not a draft, or has no lessons.
    """
    course = _load_course(course_id, "submit")
    service.submit_for_review(actor=current_user, course=course)
    return course


@bp.route("/courses/<int:course_id>/publish", methods=["POST"], tags=["courses"])
@login_required
@bp.arguments(ReviewComment)
@bp.response(200, CourseOut, description="the published course")
@refuses(401, 403, 404, 409)
def course_publish(body: dict[str, Any], course_id: int) -> Course:
    """Publish a course in review (admins of its unit or above); drafts of lessons go live.

    409: the course is not in review.
    """
    course = _load_course(course_id, "publish")
    service.publish(actor=current_user, course=course, comment=body.get("comment"))
    return course


@bp.route("/courses/<int:course_id>/return", methods=["POST"], tags=["courses"])
@login_required
@bp.arguments(ReturnComment)
@bp.response(200, CourseOut, description="the course, a draft again")
@refuses(401, 403, 404, 409)
def course_return(body: dict[str, str], course_id: int) -> Course:
    """Return a course in review to its author with a comment (admins of its unit or above).

    409: the course is not in review.
    """
    course = _load_course(course_id, "return")
    service.return_for_changes(actor=current_user, course=course, comment=body["comment"])
    return course
