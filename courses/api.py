"""The network classroom's JSON API under /api/v1 (documented in /api/v1/openapi.json)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, abort, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from courses import queries, service
from courses.models import Course, CourseUnit, Lesson
from elearn import permissions
from elearn.api import protect_cookie_sessions
from elearn.api.helpers import bad_request, json_body
from elearn.extensions import csrf, db
from elearn.models import Unit

bp = Blueprint("courses_api", __name__, url_prefix="/api/v1")


# bearer-token clients carry no ambient credentials; calls riding on the session cookie need CSRF
bp.before_request(protect_cookie_sessions)


def init_app(app: Flask) -> None:
    csrf.exempt(bp)
    app.register_blueprint(bp)


COMPONENTS: dict[str, dict] = {
    "Course": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "title": {"type": "string"},
            "description": {"type": "string"},
            "audience": {"type": "string", "enum": ["student", "teacher", "parent"]},
            "grade_band": {"type": "string", "nullable": True},
            "category": {"type": "string"},
            "drug_type": {"type": "string", "nullable": True},
            "subject": {"type": "string", "nullable": True},
            "format": {"type": "string", "nullable": True},
            "duration_seconds": {"type": "number", "nullable": True},
            "status": {"type": "string", "enum": ["draft", "in_review", "published", "archived"]},
            "version": {"type": "integer"},
            "is_live": {"type": "boolean"},
            "unit": {"type": "object"},
            "author": {"type": "object"},
            "review_comment": {"type": "string", "nullable": True},
        },
    },
    "Lesson": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "title": {"type": "string"},
            "kind": {"type": "string", "enum": ["video", "audio", "document", "rich_text"]},
            "role": {"type": "string", "enum": ["dedicated", "infiltration"]},
            "subject": {"type": "string", "nullable": True},
            "is_live": {"type": "boolean"},
            "has_draft": {"type": "boolean"},
            "playable": {"type": "boolean"},
            "duration_seconds": {"type": "number", "nullable": True},
            "watched_seconds": {"type": "number"},
            "completed": {"type": "boolean"},
        },
    },
    "Heartbeat": {
        "type": "object",
        "required": ["position"],
        "properties": {
            "position": {"type": "number", "description": "playback position in seconds"},
            "playing": {"type": "boolean"},
        },
    },
}


def course_json(course: Course) -> dict[str, Any]:
    return {
        "id": course.id,
        "title": course.title,
        "description": course.description,
        "audience": course.audience,
        "grade_band": course.grade_band,
        "category": course.category,
        "drug_type": course.drug_type,
        "subject": course.subject,
        "format": course.format,
        "duration_seconds": course.duration_seconds,
        "status": course.status,
        "version": course.version,
        "is_live": course.is_live,
        "unit": {"id": course.unit.id, "name": course.unit.name},
        "author": {"id": course.author.id, "name": course.author.display_name},
        "review_comment": course.review_comment,
        "published_at": course.published_at.isoformat() if course.published_at else None,
    }


def _lesson_json(row: queries.OutlineLesson) -> dict[str, Any]:
    return {
        "id": row.lesson.id,
        "title": row.title,
        "kind": row.kind,
        "role": row.role,
        "subject": row.subject,
        "is_live": row.is_live,
        "has_draft": row.has_draft,
        "playable": row.is_playable,
        "duration_seconds": row.duration_seconds,
        "watched_seconds": row.watched_seconds,
        "completed": row.completed,
    }


def _load_course(course_id: int, action: str) -> Course:
    """Out of sight is a 404; in sight but not allowed is a 403."""
    course = permissions.get_or_404(Course, course_id, current_user, "view")
    if not permissions.can(current_user, action, course):
        abort(403)
    return course


@bp.route("/courses")
@login_required
def course_list():
    """The course library: live courses within the caller's reach, searched and faceted.
    ---
    get:
      tags: [courses]
      parameters:
        - {name: q, in: query, schema: {type: string}, description: words in the title or description}
        - {name: audience, in: query, schema: {type: string, enum: [student, teacher, parent]}}
        - {name: grade, in: query, schema: {type: string}, description: grade band, e.g. upper_primary}
        - {name: category, in: query, schema: {type: string}}
        - {name: drug_type, in: query, schema: {type: string}}
        - {name: format, in: query, schema: {type: string}}
        - {name: page, in: query, schema: {type: integer}}
      responses:
        200:
          description: the courses and a count per facet value
          content:
            application/json:
              schema:
                type: object
                properties:
                  total: {type: integer}
                  courses: {type: array, items: {$ref: '#/components/schemas/Course'}}
                  facets:
                    type: object
                    additionalProperties:
                      type: array
                      items: {type: object, properties: {value: {type: string}, count: {type: integer}}}
    """
    filters = queries.LibraryFilters.from_args(request.args)
    page = max(1, request.args.get("page", 1, type=int))
    result = queries.library(current_user, filters, page=page)
    return jsonify(
        total=result.total,
        page=page,
        courses=[course_json(c) for c in result.courses],
        facets={
            name: [{"value": value, "count": count} for value, count in values]
            for name, values in result.facets.items()
        },
    )


@bp.route("/courses/<int:course_id>")
@login_required
def course_detail(course_id: int):
    """One course with its units and lessons (the live version; authors also get the draft).
    ---
    get:
      tags: [courses]
      parameters:
        - {name: course_id, in: path, required: true, schema: {type: integer}}
        - {name: draft, in: query, schema: {type: boolean}, description: authors only, the working copy}
      responses:
        200:
          description: the course
          content:
            application/json:
              schema:
                allOf:
                  - {$ref: '#/components/schemas/Course'}
                  - type: object
                    properties:
                      units:
                        type: array
                        items:
                          type: object
                          properties:
                            id: {type: integer}
                            title: {type: string}
                            lessons: {type: array, items: {$ref: '#/components/schemas/Lesson'}}
        404: {description: no such course within the caller's reach}
    """
    course = permissions.get_or_404(Course, course_id, current_user, "view")
    authoring = permissions.can(current_user, "edit", course) and (
        request.args.get("draft") in {"1", "true"} or not course.is_live
    )
    units = queries.outline(course, user=current_user, authoring=authoring)
    data = course_json(course)
    data["units"] = [
        {
            "id": u.course_unit.id,
            "title": u.course_unit.title,
            "lessons": [_lesson_json(row) for row in u.lessons],
        }
        for u in units
    ]
    if course.is_live:
        progress = queries.progress_of(current_user, course)
        data["progress"] = {
            "lessons_total": progress.lessons_total,
            "lessons_done": progress.lessons_done,
            "completed": progress.completed,
        }
    return jsonify(data)


@bp.route("/lessons/<int:lesson_id>/heartbeats", methods=["POST"])
@login_required
def lesson_heartbeat(lesson_id: int):
    """Report playback: the server credits what it saw watched, never faster than real time.
    ---
    post:
      tags: [courses]
      parameters:
        - {name: lesson_id, in: path, required: true, schema: {type: integer}}
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Heartbeat'}
      responses:
        200:
          description: the learner's progress in the lesson
          content:
            application/json:
              schema:
                type: object
                properties:
                  watched_seconds: {type: number}
                  completed: {type: boolean}
                  duration_seconds: {type: number}
                  course_completed: {type: boolean}
        404: {description: no such lesson within the caller's reach}
        409: {description: the lesson is not playable yet}
        422: {description: position is not a number}
    """
    lesson = permissions.get_or_404(Lesson, lesson_id, current_user, "learn")
    body = json_body()
    if "position" not in body or isinstance(body.get("position"), bool):
        bad_request(_("position must be a number."))
    result = service.heartbeat(
        actor=current_user,
        lesson=lesson,
        position=body["position"],
        playing=bool(body.get("playing", True)),
    )
    db.session.commit()
    return jsonify(
        watched_seconds=result.watched_seconds,
        completed=result.completed,
        duration_seconds=result.duration_seconds,
        course_completed=result.course_completed,
    )


@bp.route("/me/progress")
@login_required
def my_progress():
    """The caller's progress: each lesson started and each course completed.
    ---
    get:
      tags: [courses]
      responses:
        200:
          description: progress per lesson and completed courses
          content:
            application/json:
              schema:
                type: object
                properties:
                  lessons:
                    type: array
                    items:
                      type: object
                      properties:
                        lesson_id: {type: integer}
                        course_id: {type: integer}
                        watched_seconds: {type: number}
                        last_position: {type: number}
                        completed_at: {type: string, nullable: true}
                  courses:
                    type: array
                    items:
                      type: object
                      properties:
                        course_id: {type: integer}
                        lessons_total: {type: integer}
                        lessons_done: {type: integer}
                        completed: {type: boolean}
    """
    lessons = [
        {
            "lesson_id": p.lesson_id,
            "course_id": p.course_id,
            "watched_seconds": p.watched_seconds,
            "last_position": p.last_position,
            "completed_at": p.completed_at.isoformat() if p.completed_at else None,
        }
        for p in queries.my_lesson_progress(current_user)
    ]
    courses = [
        {
            "course_id": row.course.id,
            "title": row.course.title,
            "lessons_total": row.lessons_total,
            "lessons_done": row.lessons_done,
            "completed": row.completed,
        }
        for row in queries.my_courses(current_user)
    ]
    return jsonify(lessons=lessons, courses=courses)


def _text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        bad_request(_("%(name)s must be text.", name=name))
    return value


@bp.route("/courses", methods=["POST"])
@login_required
def course_create():
    """Create a draft course (authors: admins, teachers and experts, in their own scope).
    ---
    post:
      tags: [courses]
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [title, audience, category]
              properties:
                title: {type: string}
                description: {type: string}
                unit_id: {type: integer, description: the owner unit; defaults to the caller's highest}
                audience: {type: string, enum: [student, teacher, parent]}
                grade_band: {type: string}
                category: {type: string}
                drug_type: {type: string}
                subject: {type: string}
      responses:
        201:
          description: the new course
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Course'}
        403: {description: the caller may not author courses for that unit}
        422: {description: a field is missing or invalid}
    """
    body = json_body()
    units = service.authoring_units(current_user)
    if not units:
        abort(403)
    unit: Unit | None = units[0]
    if body.get("unit_id") is not None:
        unit = next((u for u in units if u.id == body.get("unit_id")), None)
        if unit is None:
            abort(403)
    assert unit is not None
    course = service.create_course(
        actor=current_user,
        unit=unit,
        title=_text(body, "title") or "",
        description=_text(body, "description") or "",
        audience=_text(body, "audience") or "",
        category=_text(body, "category") or "",
        grade_band=_text(body, "grade_band"),
        drug_type=_text(body, "drug_type"),
        subject=_text(body, "subject"),
    )
    db.session.commit()
    return jsonify(course_json(course)), 201


@bp.route("/courses/<int:course_id>/lessons", methods=["POST"])
@login_required
def lesson_create(course_id: int):
    """Add a lesson: a video, audio or document from the author's uploads, or rich text.
    ---
    post:
      tags: [courses]
      parameters:
        - {name: course_id, in: path, required: true, schema: {type: integer}}
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [title, kind]
              properties:
                title: {type: string}
                kind: {type: string, enum: [video, audio, document, rich_text]}
                asset_id: {type: string, description: "the author's asset, ready or processing"}
                body_html: {type: string, description: sanitised on the server}
                role: {type: string, enum: [dedicated, infiltration]}
                subject: {type: string, description: required for infiltration lessons}
                unit_id: {type: integer, description: the course unit; defaults to the last}
      responses:
        201:
          description: the lesson (as a draft until the course is published again)
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Lesson'}
        404: {description: no such course within the caller's reach}
        409: {description: the course is in review or archived}
        422: {description: a field is invalid, or the asset is not the caller's or not usable}
    """
    course = _load_course(course_id, "edit")
    body = json_body()
    course_unit = None
    if body.get("unit_id") is not None:
        course_unit = db.session.get(CourseUnit, body.get("unit_id"))
        if course_unit is None or course_unit.course_id != course.id:
            bad_request(_("That unit belongs to another course."))
    lesson = service.add_lesson(
        actor=current_user,
        course=course,
        course_unit=course_unit,
        title=_text(body, "title") or "",
        kind=_text(body, "kind") or "",
        asset_id=_text(body, "asset_id"),
        body_html=_text(body, "body_html") or "",
        role=_text(body, "role") or "dedicated",
        subject=_text(body, "subject"),
    )
    db.session.commit()
    revision = lesson.draft_revision
    assert revision is not None
    return jsonify(
        id=lesson.id,
        title=revision.title,
        kind=revision.kind,
        role=revision.role,
        subject=revision.subject,
        is_live=lesson.is_live,
        has_draft=True,
        playable=revision.is_playable,
        duration_seconds=revision.duration_seconds,
        watched_seconds=0.0,
        completed=False,
    ), 201


def _editable(model: type, ident: int) -> Any:
    """A lesson or unit the caller manages: out of sight 404, in sight but not theirs 403."""
    obj = permissions.get_or_404(model, ident, current_user, "view")
    if not permissions.can(current_user, "edit", obj) or getattr(obj, "removed_at", None):
        abort(403 if obj.removed_at is None else 404)
    return obj


def _direction() -> str:
    direction = _text(json_body(), "direction")
    if direction not in {"up", "down"}:
        bad_request(_("Move a lesson or unit up or down."))
    return str(direction)


@bp.route("/lessons/<int:lesson_id>/move", methods=["POST"])
@login_required
def lesson_move(lesson_id: int):
    """Move a lesson one place up or down in its unit (the working copy).
    ---
    post:
      tags: [courses]
      parameters:
        - {name: lesson_id, in: path, required: true, schema: {type: integer}}
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [direction]
              properties: {direction: {type: string, enum: [up, down]}}
      responses:
        200:
          description: >-
            moved is false when the lesson is already at that end; learners see the new order
            once the course is published again
          content:
            application/json:
              schema: {type: object, properties: {moved: {type: boolean}}}
        403: {description: the caller does not manage the course}
        404: {description: no such lesson within the caller's reach}
        409: {description: the course is in review or archived}
    """
    lesson = _editable(Lesson, lesson_id)
    moved = service.move_lesson(actor=current_user, lesson=lesson, direction=_direction())
    db.session.commit()
    return jsonify(moved=moved)


@bp.route("/course-units/<int:course_unit_id>/move", methods=["POST"])
@login_required
def unit_move(course_unit_id: int):
    """Move a unit one place up or down in its course (the working copy).
    ---
    post:
      tags: [courses]
      parameters:
        - {name: course_unit_id, in: path, required: true, schema: {type: integer}}
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [direction]
              properties: {direction: {type: string, enum: [up, down]}}
      responses:
        200:
          description: moved is false when the unit is already at that end
          content:
            application/json:
              schema: {type: object, properties: {moved: {type: boolean}}}
        403: {description: the caller does not manage the course}
        404: {description: no such unit within the caller's reach}
        409: {description: the course is in review or archived}
    """
    course_unit = _editable(CourseUnit, course_unit_id)
    moved = service.move_course_unit(
        actor=current_user, course_unit=course_unit, direction=_direction()
    )
    db.session.commit()
    return jsonify(moved=moved)


@bp.route("/lessons/<int:lesson_id>", methods=["DELETE"])
@login_required
def lesson_delete(lesson_id: int):
    """Remove a lesson from the working copy (the pages ask for confirmation first).
    ---
    delete:
      tags: [courses]
      parameters:
        - {name: lesson_id, in: path, required: true, schema: {type: integer}}
      responses:
        200:
          description: >-
            pending is true for a published lesson: learners keep it until the course is
            published again; a lesson never published is deleted at once
          content:
            application/json:
              schema: {type: object, properties: {pending: {type: boolean}}}
        403: {description: the caller does not manage the course}
        404: {description: no such lesson within the caller's reach}
        409: {description: the course is in review or archived}
    """
    lesson = _editable(Lesson, lesson_id)
    pending = service.remove_lesson(actor=current_user, lesson=lesson)
    db.session.commit()
    return jsonify(pending=pending)


@bp.route("/course-units/<int:course_unit_id>", methods=["DELETE"])
@login_required
def unit_delete(course_unit_id: int):
    """Remove a unit and its lessons from the working copy.
    ---
    delete:
      tags: [courses]
      parameters:
        - {name: course_unit_id, in: path, required: true, schema: {type: integer}}
      responses:
        200:
          description: pending is true when learners keep some of it until the next publication
          content:
            application/json:
              schema: {type: object, properties: {pending: {type: boolean}}}
        403: {description: the caller does not manage the course}
        404: {description: no such unit within the caller's reach}
        409: {description: the course is in review or archived}
    """
    course_unit = _editable(CourseUnit, course_unit_id)
    pending = service.remove_course_unit(actor=current_user, course_unit=course_unit)
    db.session.commit()
    return jsonify(pending=pending)


def _review_action(course_id: int, action: str):  # type: ignore[no-untyped-def]
    course = _load_course(course_id, action)
    body = request.get_json(silent=True) or {}
    comment = body.get("comment") if isinstance(body, dict) else None
    if comment is not None and not isinstance(comment, str):
        bad_request(_("%(name)s must be text.", name="comment"))
    if action == "submit":
        service.submit_for_review(actor=current_user, course=course)
    elif action == "publish":
        service.publish(actor=current_user, course=course, comment=comment)
    else:
        service.return_for_changes(actor=current_user, course=course, comment=comment or "")
    db.session.commit()
    return jsonify(course_json(course))


@bp.route("/courses/<int:course_id>/submit", methods=["POST"])
@login_required
def course_submit(course_id: int):
    """Submit a draft course for review by the admins of its unit.
    ---
    post:
      tags: [courses]
      parameters:
        - {name: course_id, in: path, required: true, schema: {type: integer}}
      responses:
        200:
          description: the course, now in review
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Course'}
        404: {description: no such course within the caller's reach}
        409: {description: the course is not a draft, or has no lessons}
    """
    return _review_action(course_id, "submit")


@bp.route("/courses/<int:course_id>/publish", methods=["POST"])
@login_required
def course_publish(course_id: int):
    """Publish a course in review (admins of its unit or above); drafts of lessons go live.
    ---
    post:
      tags: [courses]
      parameters:
        - {name: course_id, in: path, required: true, schema: {type: integer}}
      requestBody:
        content:
          application/json:
            schema: {type: object, properties: {comment: {type: string}}}
      responses:
        200:
          description: the published course
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Course'}
        403: {description: the caller may see the course but not review it}
        404: {description: no such course within the caller's reach}
        409: {description: the course is not in review}
    """
    return _review_action(course_id, "publish")


@bp.route("/courses/<int:course_id>/return", methods=["POST"])
@login_required
def course_return(course_id: int):
    """Return a course in review to its author with a comment (admins of its unit or above).
    ---
    post:
      tags: [courses]
      parameters:
        - {name: course_id, in: path, required: true, schema: {type: integer}}
      requestBody:
        required: true
        content:
          application/json:
            schema: {type: object, required: [comment], properties: {comment: {type: string}}}
      responses:
        200:
          description: the course, a draft again
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Course'}
        403: {description: the caller may see the course but not review it}
        404: {description: no such course within the caller's reach}
        409: {description: the course is not in review}
        422: {description: the comment is missing}
    """
    return _review_action(course_id, "return")
