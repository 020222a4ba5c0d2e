"""Live lectures' JSON API under /api/v1 (documented in /api/v1/openapi.json)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Flask, jsonify
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from elearn import localtime, permissions
from elearn.api import protect_cookie_sessions
from elearn.api.helpers import bad_request, json_body
from elearn.extensions import csrf, db
from elearn.models import User
from live import service
from live.models import Lecture

bp = Blueprint("live_api", __name__, url_prefix="/api/v1")
bp.before_request(protect_cookie_sessions)


def init_app(app: Flask) -> None:
    csrf.exempt(bp)
    app.register_blueprint(bp)


COMPONENTS: dict[str, dict[str, Any]] = {
    "Lecture": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "title": {"type": "string"},
            "lecturer": {"type": "object"},
            "starts_at": {"type": "string", "format": "date-time"},
            "status": {"type": "string", "enum": ["scheduled", "live", "ended"]},
            "is_training": {"type": "boolean"},
            "audience": {"type": "array", "items": {"type": "object"}},
            "cohost_ids": {"type": "array", "items": {"type": "integer"}},
            "is_host": {"type": "boolean"},
        },
    },
}


def _parse_starts_at(raw: Any) -> datetime:
    moment = localtime.parse_api_time(raw, "starts_at")
    if moment is None:
        bad_request(_("Give the start time with its time zone, e.g. 2025-03-01T09:00+08:00."))
    assert moment is not None
    return moment


def _cohosts(raw: Any) -> list[User]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(i, int) for i in raw):
        bad_request(_("cohost_ids must be a list of user ids."))
    users = list(db.session.scalars(select(User).where(User.id.in_(raw))))
    visible = [u for u in users if permissions.can(current_user, "view", u) or u.has_role("expert")]
    if len(visible) != len(set(raw)):
        bad_request(_("A co-host does not exist or is outside your scope."))
    return visible


@bp.route("/lectures", methods=["POST"])
@login_required
def create_lecture():
    """Schedule a live lecture (experts, teachers, admins).
    ---
    post:
      tags: [live]
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [title, starts_at, audience]
              properties:
                title: {type: string}
                starts_at: {type: string, format: date-time, description: 'ISO 8601 with its offset, e.g. 2030-03-01T20:43:00+08:00'}
                audience:
                  type: array
                  description: >
                    everyone under a unit, a role (students, teachers, guardians) within your
                    scope, or both in one entry
                  items:
                    type: object
                    properties:
                      unit_id: {type: integer}
                      role: {type: string, enum: [student, teacher, guardian]}
                is_training: {type: boolean, description: a teacher training (教师培训)}
                cohost_ids: {type: array, items: {type: integer}}
                lesson_id:
                  type: integer
                  description: >
                    a course lesson you can see that the lecture stands for: whoever attends
                    at least ELEARN_LIVE_LESSON_SHARE of it (and may learn the lesson) completes it
      responses:
        201:
          description: the new lecture's id
          content:
            application/json:
              schema: {type: object, properties: {id: {type: integer}}}
        400: {description: what is wrong with the request, in the user's language}
        403: {description: the caller may not schedule lectures}
        404: {description: the lesson is not one the caller can see}
        422: {description: starts_at without its offset (send +08:00 or Z) or outside 1900-9998}
    """
    data = json_body()
    lecture = service.create_lecture(
        actor=current_user,
        title=data.get("title"),  # type: ignore[arg-type]
        starts_at=_parse_starts_at(data.get("starts_at")),
        audience=data.get("audience"),
        is_training=bool(data.get("is_training", False)),
        cohosts=_cohosts(data.get("cohost_ids")),
        lesson_id=data.get("lesson_id"),
    )
    db.session.commit()
    return jsonify(id=lecture.id), 201


@bp.route("/lectures")
@login_required
def lectures():
    """The lectures the caller may watch or host (admins: those in their scope).
    ---
    get:
      tags: [live]
      responses:
        200:
          description: lectures, soonest first
          content:
            application/json:
              schema:
                type: array
                items: {$ref: '#/components/schemas/Lecture'}
    """
    rows = db.session.scalars(service.visible_lectures(current_user).limit(500))
    return jsonify([service.lecture_json(lecture, current_user) for lecture in rows])


@bp.route("/lectures/<int:lecture_id>")
@login_required
def lecture(lecture_id: int):
    """One lecture.
    ---
    get:
      tags: [live]
      parameters:
        - {name: lecture_id, in: path, required: true, schema: {type: integer}}
      responses:
        200:
          description: the lecture
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Lecture'}
        404: {description: no such lecture for the caller}
    """
    found = permissions.get_or_404(Lecture, lecture_id, current_user)
    return jsonify(service.lecture_json(found, current_user))


@bp.route("/lectures/<int:lecture_id>/attendance")
@login_required
def lecture_attendance(lecture_id: int):
    """Who watched and for how long (hosts, and admins for the part of the audience they oversee).
    ---
    get:
      tags: [live]
      parameters:
        - {name: lecture_id, in: path, required: true, schema: {type: integer}}
      responses:
        200:
          description: one row per person and per class screen, with totals
          content:
            application/json:
              schema:
                type: object
                properties:
                  lecture_id: {type: integer}
                  people: {type: integer}
                  class_screens: {type: integer}
                  class_headcount: {type: integer}
                  rows:
                    type: array
                    items:
                      type: object
                      properties:
                        user: {type: object}
                        class_screen: {type: boolean}
                        class: {type: object, nullable: true}
                        headcount: {type: integer, nullable: true}
                        watched_seconds: {type: integer}
                        watching_now: {type: boolean}
        404: {description: no such lecture for the caller}
    """
    found = permissions.get_or_404(Lecture, lecture_id, current_user, "view_attendance")
    return jsonify(service.attendance_report(actor=current_user, lecture=found))
