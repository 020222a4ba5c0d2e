"""The assessment JSON API under /api/v1 (OpenAPI in each view's docstring)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Flask, Response, abort, g, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

from elearn import localtime, permissions
from elearn.api import protect_cookie_sessions
from elearn.api.helpers import bad_request, json_body, require_int
from elearn.api.openapi import EXTRA_COMPONENTS
from elearn.auth import checks_bearer_itself, refuse, request_actor
from elearn.extensions import csrf, db
from elearn.models import Unit
from elearn.service.errors import ServiceError
from elearn.web import error_response
from quizzes import figures, queries, richtext, service
from quizzes.models import Question, QuestionBank, Quiz, QuizAttempt
from quizzes.qtypes import get_type

bp = Blueprint("quizzes_api", __name__, url_prefix="/api/v1")
#: the same API; routes registered below share the blueprint
campaigns_bp = bp


@bp.before_request
def _csrf_for_cookie_sessions():
    protect_cookie_sessions()
    g.api = True


@bp.errorhandler(service.TimeUp)
def _time_up(error: service.TimeUp):  # type: ignore[no-untyped-def]
    """A save refused because time is up says so in a field too: the attempt page then
    submits what was saved (the grace is for that), whatever the message's language."""
    db.session.rollback()
    return error_response(error.status, error.message, time_up=True)


def _datetime(value: Any, name: str) -> datetime | None:
    return localtime.parse_api_time(value, name)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@bp.route("/question-banks")
@login_required
def banks():
    """The question banks the caller may use.
    ---
    get:
      tags: [quizzes]
      responses:
        200:
          description: the banks
          content:
            application/json:
              schema: {type: array, items: {$ref: '#/components/schemas/QuestionBank'}}
    """
    found = queries.banks_for(current_user)
    counts = queries.question_counts([b.id for b in found])
    return jsonify(
        [
            {
                "id": b.id,
                "name": b.name,
                "unit_id": b.unit_id,
                "unit_name": b.unit.name,
                "questions": counts.get(b.id, 0),
                "can_edit": permissions.can(current_user, "edit", b),
            }
            for b in found
        ]
    )


@bp.route("/question-banks", methods=["POST"])
@login_required
def create_bank():
    """Create a question bank owned at a unit.
    ---
    post:
      tags: [quizzes]
      requestBody:
        content:
          application/json:
            schema:
              type: object
              required: [name, unit_id]
              properties: {name: {type: string}, unit_id: {type: integer}}
      responses:
        201: {description: 'created: {"id"}'}
        403: {description: the caller cannot author at that unit}
        404: {description: no such unit within the caller's scope}
    """
    body = json_body()
    unit = permissions.get_or_404(Unit, require_int(body.get("unit_id"), "unit_id"), current_user)
    bank = service.create_bank(actor=current_user, name=str(body.get("name") or ""), unit=unit)
    db.session.commit()
    return jsonify({"id": bank.id}), 201


@bp.route("/question-banks/<int:bank_id>/questions")
@login_required
def bank_questions(bank_id: int):
    """The current questions of a bank (without answers).

    With ``quick=1``: only the questions a live lecture's quick quiz takes (graded automatically
    with a right answer), each with its stem as plain text; still no answers.
    ---
    get:
      tags: [quizzes]
      parameters:
        - {name: bank_id, in: path, required: true, schema: {type: integer}}
        - {name: quick, in: query, required: false, schema: {type: integer, enum: [0, 1]},
           description: 'only quick-quiz questions, with "stem" (plain text) and "type_label"'}
        - {name: q, in: query, required: false, schema: {type: string},
           description: words in the name, stem or topic}
        - {name: type, in: query, required: false, schema: {type: string}}
        - {name: category, in: query, required: false, schema: {type: integer}}
        - {name: difficulty, in: query, required: false, schema: {type: integer}}
        - {name: archived, in: query, required: false, schema: {type: integer, enum: [0, 1]},
           description: the questions taken out of the bank instead}
      responses:
        200: {description: the questions}
        404: {description: no such bank within the caller's reach}
    """
    bank = permissions.get_or_404(QuestionBank, bank_id, current_user, "use")
    filters = queries.question_filters(request.args)
    questions = db.session.scalars(queries.bank_questions(bank, **filters)).all()
    if request.args.get("quick") == "1":
        quick = [
            q
            for q in questions
            if q.current_version is not None
            and get_type(q.current_version.type).auto_graded
            and get_type(q.current_version.type).scored
        ]
        return jsonify(
            [
                {
                    "id": q.id,
                    "type": q.current_version.type,
                    "type_label": str(get_type(q.current_version.type).label),
                    "name": q.current_version.name,
                    "stem": richtext.plain(q.current_version.stem)[:300],
                }
                for q in quick
                if q.current_version is not None
            ]
        )
    return jsonify(
        [
            {
                "id": q.id,
                "type": q.current_version.type if q.current_version else None,
                "name": q.current_version.name if q.current_version else "",
                "version": q.current_version.number if q.current_version else None,
                "category_id": q.category_id,
                "topic": q.topic,
                "grade_band": q.grade_band,
                "difficulty": q.difficulty,
            }
            for q in questions
        ]
    )


def _bank_question(question_id: int) -> Question:
    """A question of a bank the caller edits; out of reach is a 404."""
    question = db.session.get(Question, question_id)
    if question is None:
        abort(404)
    permissions.get_or_404(QuestionBank, question.bank_id, current_user, "edit")
    return question


@bp.route("/questions/<int:question_id>", methods=["DELETE"])
@login_required
def archive_question(question_id: int):
    """Take a question out of its bank; nothing is deleted (attempts keep its versions).
    ---
    delete:
      tags: [quizzes]
      responses:
        204: {description: taken out (or was already)}
        404: {description: no such question in a bank the caller edits}
    """
    from quizzes.service import bank as bank_service

    question = _bank_question(question_id)
    bank_service.set_archived(actor=current_user, question=question, archived=True)
    db.session.commit()
    return "", 204


@bp.route("/questions/<int:question_id>/restore", methods=["POST"])
@login_required
def restore_question(question_id: int):
    """Put a question taken out of its bank back.
    ---
    post:
      tags: [quizzes]
      responses:
        200: {description: 'back in the bank: {"id", "archived": false}'}
        404: {description: no such question in a bank the caller edits}
    """
    from quizzes.service import bank as bank_service

    question = _bank_question(question_id)
    bank_service.set_archived(actor=current_user, question=question, archived=False)
    db.session.commit()
    return jsonify({"id": question.id, "archived": False})


@bp.route("/question-banks/<int:bank_id>/imports", methods=["POST"])
@login_required
def import_questions(bank_id: int):
    """Import a GIFT, Moodle XML or .xlsx file: all its questions, or none.
    ---
    post:
      tags: [quizzes]
      parameters:
        - {name: bank_id, in: path, required: true, schema: {type: integer}}
      requestBody:
        content:
          multipart/form-data:
            schema:
              type: object
              properties:
                file: {type: string, format: binary}
                format: {type: string, enum: [gift, moodlexml, xlsx]}
      responses:
        200:
          description: imported
          content:
            application/json:
              schema: {$ref: '#/components/schemas/ImportResult'}
        422:
          description: the file was rejected whole; nothing was imported
          content:
            application/json:
              schema: {$ref: '#/components/schemas/ImportResult'}
    """
    bank = permissions.get_or_404(QuestionBank, bank_id, current_user, "use")
    permissions.require(current_user, "edit", bank)
    upload = request.files.get("file")
    if upload is None:
        bad_request(_("Choose a file to import."))
    assert upload is not None
    fmt = (request.form.get("format") or "").strip().lower()
    if fmt not in service.bank.FORMATS:
        bad_request(_("Choose a format: gift, moodlexml or xlsx."))
    result = service.import_questions(actor=current_user, bank=bank, fmt=fmt, payload=upload.read())
    if result.errors:
        db.session.rollback()
        body = result.as_dict()
        body["message"] = _(
            "The file was rejected; nothing was imported. Fix the errors and try again."
        )
        return jsonify(body), 422
    db.session.commit()
    return jsonify(result.as_dict())


@bp.route("/question-banks/<int:bank_id>/export")
@login_required
def export_questions(bank_id: int):
    """Export a bank as GIFT, Moodle XML or .xlsx (with answers: authors only).
    ---
    get:
      tags: [quizzes]
      parameters:
        - {name: bank_id, in: path, required: true, schema: {type: integer}}
        - {name: format, in: query, required: true, schema: {type: string, enum: [gift, moodlexml, xlsx]}}
      responses:
        200: {description: the file}
        404: {description: no such bank within the caller's reach}
    """
    bank = permissions.get_or_404(QuestionBank, bank_id, current_user, "use")
    permissions.require(current_user, "edit", bank)
    content, mimetype, extension = service.export_questions(
        actor=current_user, bank=bank, fmt=request.args.get("format", "")
    )
    db.session.commit()  # the audit row of the export
    response = Response(content, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="bank-{bank.id}.{extension}"'
    return response


@bp.route("/quizzes")
@login_required
def quizzes():
    """The quizzes open to the caller.
    ---
    get:
      tags: [quizzes]
      responses:
        200:
          description: the quizzes
          content:
            application/json:
              schema: {type: array, items: {$ref: '#/components/schemas/QuizSummary'}}
    """
    now = datetime.now(UTC)
    found = db.session.scalars(queries.quizzes_open_to(current_user, now)).all()
    return jsonify(
        [
            {
                "id": quiz.id,
                "title": quiz.title,
                "opens_at": _iso(quiz.opens_at),
                "closes_at": _iso(quiz.closes_at),
                "time_limit": quiz.time_limit_seconds,
                "attempts_left": service.attempts_left(quiz, current_user),
            }
            for quiz in found
        ]
    )


@bp.route("/quizzes", methods=["POST"])
@login_required
def create_quiz():
    """Create a quiz from bank questions or random draws, with its settings and audience.
    ---
    post:
      tags: [quizzes]
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/QuizCreate'}
      responses:
        201: {description: 'created: {"id"}'}
        400: {description: a setting is not valid (the message says which)}
        403: {description: the caller cannot author at that unit}
        422: {description: a time without its offset (ISO 8601 with +08:00 or Z) or outside 1900-9998}
    """
    body = json_body()
    unit = permissions.get_or_404(Unit, require_int(body.get("unit_id"), "unit_id"), current_user)
    audience = []
    for entry in body.get("audience") or []:
        if not isinstance(entry, dict):
            bad_request(_('Each audience entry is {"unit_id", "role"}.'))
        target = permissions.get_or_404(
            Unit, require_int(entry.get("unit_id"), "unit_id"), current_user
        )
        audience.append((target, str(entry.get("role") or "student")))
    items = body.get("items") or []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        bad_request(_('items is a list of {"question_id"} or {"category_id", "count"}.'))
    quiz = service.create_quiz(
        actor=current_user,
        unit=unit,
        title=str(body.get("title") or ""),
        description=str(body.get("description") or ""),
        items=items,
        audience=audience,
        opens_at=_datetime(body.get("opens_at"), "opens_at"),
        closes_at=_datetime(body.get("closes_at"), "closes_at"),
        time_limit_seconds=body.get("time_limit"),
        attempts_allowed=body.get("attempts_allowed", 1),
        pass_mark=body.get("pass_mark", 60),
        review_policy=str(body.get("review_policy") or "immediately"),
        mode=str(body.get("mode") or "self_paced"),
        shuffle_questions=bool(body.get("shuffle_questions", True)),
        shuffle_options=bool(body.get("shuffle_options", True)),
        one_per_page=bool(body.get("one_per_page", True)),
        publish=bool(body.get("publish", False)),
    )
    db.session.commit()
    return jsonify({"id": quiz.id}), 201


def quiz_settings(quiz: Quiz) -> dict[str, Any]:
    """A quiz's settings as its authors see them, with what has been done with it."""
    taken = service.times_taken(quiz)
    return {
        "id": quiz.id,
        "title": quiz.title,
        "description": quiz.description,
        "unit_id": quiz.unit_id,
        "kind": quiz.kind,
        "published": quiz.is_published,
        "opens_at": _iso(quiz.opens_at),
        "closes_at": _iso(quiz.closes_at),
        "time_limit": quiz.time_limit_seconds,
        "attempts_allowed": quiz.attempts_allowed,
        "pass_mark": quiz.pass_mark,
        "review_policy": quiz.review_policy,
        "mode": quiz.mode,
        "one_per_page": quiz.one_per_page,
        "taken": taken,
        "in_progress": service.in_progress_count(quiz),
        "deletion_blockers": service.deletion_blockers(quiz, taken=taken),
    }


#: the PATCH body's names → the service's setting names
_PATCHABLE = {
    "title": "title",
    "description": "description",
    "opens_at": "opens_at",
    "closes_at": "closes_at",
    "time_limit": "time_limit_seconds",
    "attempts_allowed": "attempts_allowed",
    "pass_mark": "pass_mark",
    "review_policy": "review_policy",
    "mode": "mode",
    "one_per_page": "one_per_page",
    "published": "publish",
}


@bp.route("/quizzes/<int:quiz_id>")
@login_required
def quiz_detail(quiz_id: int):
    """A quiz's settings, for its authors.
    ---
    get:
      tags: [quizzes]
      responses:
        200:
          description: the settings, how many took it, what stops it being deleted
          content:
            application/json:
              schema: {$ref: '#/components/schemas/QuizSettings'}
        404: {description: no such quiz, or the caller is not among its authors}
    """
    quiz = permissions.get_or_404(Quiz, quiz_id, current_user, "edit")
    return jsonify(quiz_settings(quiz))


@bp.route("/quizzes/<int:quiz_id>", methods=["PATCH"])
@login_required
def update_quiz(quiz_id: int):
    """Change some of a quiz's settings; the others stay.
    ---
    patch:
      tags: [quizzes]
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/QuizSettings'}
      responses:
        200: {description: 'the settings after the change, and "changed": the names that changed'}
        400: {description: a setting is not valid (the message says which)}
        409: {description: 'taken already: the pass mark and mode are fixed; close, not withdraw'}
        422: {description: a time without its offset (ISO 8601 with +08:00 or Z) or outside 1900-9998}
    """
    quiz = permissions.get_or_404(Quiz, quiz_id, current_user, "edit")
    body = json_body()
    unknown = sorted(set(body) - set(_PATCHABLE))
    if unknown:
        bad_request(_("Unknown setting '%(name)s'.", name=unknown[0]))
    changes = {
        _PATCHABLE[name]: _datetime(value, name) if name.endswith("_at") else value
        for name, value in body.items()
    }
    changed = service.update_quiz(actor=current_user, quiz=quiz, changes=changes)
    db.session.commit()
    return jsonify({**quiz_settings(quiz), "changed": changed})


@bp.route("/quizzes/<int:quiz_id>", methods=["DELETE"])
@login_required
def delete_quiz(quiz_id: int):
    """Delete a quiz nobody has taken and nothing uses.
    ---
    delete:
      tags: [quizzes]
      responses:
        204: {description: deleted}
        409: {description: "taken, or used by a campaign or a lesson: the message says why"}
    """
    quiz = permissions.get_or_404(Quiz, quiz_id, current_user, "edit")
    service.delete_quiz(actor=current_user, quiz=quiz)
    db.session.commit()
    return "", 204


@bp.route("/quizzes/<int:quiz_id>/attempts", methods=["POST"])
@login_required
def start_attempt(quiz_id: int):
    """Start an attempt (or resume the one in progress); the clock is the server's.
    ---
    post:
      tags: [quizzes]
      parameters:
        - {name: quiz_id, in: path, required: true, schema: {type: integer}}
      responses:
        201:
          description: the attempt, its deadline and its questions (no answers, no grading data)
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Attempt'}
        404: {description: no such quiz open to the caller}
        409: {description: not open yet, closed, or no attempts left}
    """
    # the quiz with its audiences in one query (5,000 students may start at once)
    quiz = db.session.get(Quiz, quiz_id, options=[joinedload(Quiz.audiences)])
    if quiz is None:
        abort(404)
    permissions.require(current_user, "take", quiz)
    if quiz.is_anonymous:  # no attempt row: see quizzes.survey_api
        from quizzes.survey_api import start_anonymous

        return start_anonymous(quiz)
    attempt = service.start_attempt(actor=current_user, quiz=quiz)
    view = service.attempt_view(attempt)  # before the commit expires what it reads
    db.session.commit()
    return jsonify(view), 201


@bp.route("/attempts/<int:attempt_id>")
@login_required
def attempt(attempt_id: int):
    """One's own attempt: the questions and saved answers (resume), or the result when finished.
    ---
    get:
      tags: [quizzes]
      parameters:
        - {name: attempt_id, in: path, required: true, schema: {type: integer}}
      responses:
        200: {description: the attempt}
        404: {description: not the caller's attempt}
    """
    found = permissions.get_or_404(QuizAttempt, attempt_id, current_user, "view")
    if found.state == "in_progress":
        return jsonify(service.attempt_view(found))
    return jsonify(service.review_view(found))


@bp.route("/attempts/<int:attempt_id>/answers/<int:question_id>", methods=["PUT"])
@checks_bearer_itself
def save_answer(attempt_id: int, question_id: int):
    """Autosave one answer; ``seq`` must be higher than the saved one's.

    Signed in or with a bearer token; the token is checked by the statement that saves (the
    hottest write of an exam: one statement, no separate lookup of the token).
    ---
    put:
      tags: [quizzes]
      parameters:
        - {name: attempt_id, in: path, required: true, schema: {type: integer}}
        - {name: question_id, in: path, required: true, schema: {type: integer}}
      requestBody:
        content:
          application/json:
            schema:
              type: object
              required: [seq]
              properties: {answer: {}, seq: {type: integer}}
      responses:
        200: {description: saved}
        404: {description: not the caller's attempt, or not its question}
        409:
          description: >-
            a newer answer is saved, the attempt is finished, or time is up (then `time_up`
            is true: the deadline and its few seconds of slack have passed; submit what was
            saved)
    """
    actor = request_actor()
    if actor is None:
        return refuse()
    body = json_body()
    if "seq" not in body:
        bad_request(_("seq must be a positive whole number."))
    saved = service.save_answer(
        actor=actor,
        attempt_id=attempt_id,
        question_id=question_id,
        answer=body.get("answer"),
        seq=body.get("seq"),
    )
    db.session.commit()
    return jsonify(saved.view())


@bp.route("/attempts/<int:attempt_id>/clock")
@login_required
def attempt_clock(attempt_id: int):
    """One's own attempt's state and time left, by the server's clock (the page asks now and
    then: a quiz closed early ends the attempts in progress sooner).
    ---
    get:
      tags: [quizzes]
      parameters:
        - {name: attempt_id, in: path, required: true, schema: {type: integer}}
      responses:
        200:
          description: the state, the deadline, the server's time and the seconds left
        404: {description: not the caller's attempt}
    """
    found = permissions.get_or_404(QuizAttempt, attempt_id, current_user, "view")
    return jsonify(service.attempt_clock(found))


@bp.route("/attempts/<int:attempt_id>/submit", methods=["POST"])
@login_required
def submit(attempt_id: int):
    """Submit: the attempt is graded from what the server saved.
    ---
    post:
      tags: [quizzes]
      parameters:
        - {name: attempt_id, in: path, required: true, schema: {type: integer}}
      responses:
        200:
          description: the result, with the review as the policy allows
          content:
            application/json:
              schema: {$ref: '#/components/schemas/AttemptResult'}
        404: {description: not the caller's attempt}
        409: {description: already submitted, or too late (then closed and graded from saved answers)}
    """
    result = service.submit_attempt(actor=current_user, attempt_id=attempt_id)
    db.session.commit()
    body = service.review_view(result.attempt)
    if result.late:
        body["error"] = 409
        body["message"] = _(
            "Time was up before you submitted. Your attempt was closed and graded from the answers saved in time."
        )
        return jsonify(body), 409
    return jsonify(body)


@bp.route("/attempts/<int:attempt_id>/review")
@login_required
def review(attempt_id: int):
    """The result of one's finished attempt, with what the review policy allows.
    ---
    get:
      tags: [quizzes]
      parameters:
        - {name: attempt_id, in: path, required: true, schema: {type: integer}}
      responses:
        200: {description: the result}
        404: {description: not the caller's attempt}
    """
    found = permissions.get_or_404(QuizAttempt, attempt_id, current_user, "view")
    if found.state == "in_progress":
        abort(409)
    return jsonify(service.review_view(found))


@bp.route("/attempts/<int:attempt_id>/grades/<int:question_id>", methods=["PUT"])
@login_required
def grade_answer(attempt_id: int, question_id: int):
    """Grade a hand-graded answer in points (0 to the question's mark).
    ---
    put:
      tags: [quizzes]
      parameters:
        - {name: attempt_id, in: path, required: true, schema: {type: integer}}
        - {name: question_id, in: path, required: true, schema: {type: integer}}
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/GradeIn'}
      responses:
        200:
          description: the attempt's score after the grade
          content:
            application/json:
              schema: {$ref: '#/components/schemas/GradeOut'}
        400: {description: the points are not a number from 0 to the mark}
        404: {description: no such attempt within the caller's grading or no such hand-graded answer}
        409: {description: the attempt is still in progress}
    """
    found = permissions.get_or_404(QuizAttempt, attempt_id, current_user, "grade")
    body = json_body()
    if "points" not in body:
        bad_request(_("Send the points: a number from 0 to the question's mark."))
    service.grade_points(actor=current_user, attempt=found, points={question_id: body["points"]})
    db.session.commit()
    slot = next(s for s in found.slots if s.question_id == question_id)
    return jsonify(
        {
            "attempt_id": found.id,
            "question_id": question_id,
            "points": figures.score((slot.fraction or 0) * slot.mark),
            "mark": slot.mark,
            "score": found.score,
            "max_score": found.max_score,
            "passed": found.passed,
            "needs_manual_grading": found.needs_manual_grading,
        }
    )


COMPONENTS = {
    "GradeIn": {
        "type": "object",
        "required": ["points"],
        "properties": {
            "points": {
                "type": "number",
                "minimum": 0,
                "description": "points given, from 0 to the question's mark",
            }
        },
    },
    "GradeOut": {
        "type": "object",
        "properties": {
            "attempt_id": {"type": "integer"},
            "question_id": {"type": "integer"},
            "points": {"type": "number"},
            "mark": {"type": "number"},
            "score": {"type": "number", "nullable": True},
            "max_score": {"type": "number"},
            "passed": {"type": "boolean", "nullable": True},
            "needs_manual_grading": {"type": "boolean"},
        },
    },
    "QuestionBank": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "unit_id": {"type": "integer"},
            "unit_name": {"type": "string"},
            "questions": {"type": "integer"},
            "can_edit": {"type": "boolean"},
        },
    },
    "ImportResult": {
        "type": "object",
        "properties": {
            "imported": {"type": "integer"},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"line": {"type": "integer"}, "message": {"type": "string"}},
                },
            },
            "skipped": {"type": "array", "items": {"type": "object"}},
        },
    },
    "QuizSummary": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "title": {"type": "string"},
            "opens_at": {"type": "string", "format": "date-time", "nullable": True},
            "closes_at": {"type": "string", "format": "date-time", "nullable": True},
            "time_limit": {"type": "integer", "nullable": True},
            "attempts_left": {"type": "integer", "nullable": True},
        },
    },
    "QuizCreate": {
        "type": "object",
        "required": ["title", "unit_id", "items", "audience"],
        "properties": {
            "title": {"type": "string"},
            "unit_id": {"type": "integer"},
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "question_id": {"type": "integer"},
                        "category_id": {"type": "integer"},
                        "count": {"type": "integer"},
                        "mark": {"type": "number"},
                    },
                },
            },
            "audience": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"unit_id": {"type": "integer"}, "role": {"type": "string"}},
                },
            },
            "opens_at": {"type": "string", "format": "date-time"},
            "closes_at": {"type": "string", "format": "date-time"},
            "time_limit": {"type": "integer", "description": "seconds"},
            "attempts_allowed": {"type": "integer"},
            "pass_mark": {"type": "number"},
            "review_policy": {"type": "string", "enum": ["immediately", "after_close", "never"]},
            "mode": {"type": "string", "enum": ["self_paced", "class"]},
            "shuffle_questions": {"type": "boolean"},
            "shuffle_options": {"type": "boolean"},
            "publish": {"type": "boolean"},
        },
    },
    "QuizSettings": {
        "type": "object",
        "properties": {
            "title": {"type": "string"},
            "description": {"type": "string"},
            "published": {"type": "boolean"},
            "opens_at": {"type": "string", "format": "date-time", "nullable": True},
            "closes_at": {"type": "string", "format": "date-time", "nullable": True},
            "time_limit": {"type": "integer", "nullable": True, "description": "seconds"},
            "attempts_allowed": {"type": "integer", "description": "0 for unlimited"},
            "pass_mark": {"type": "number"},
            "review_policy": {"type": "string", "enum": ["immediately", "after_close", "never"]},
            "mode": {"type": "string", "enum": ["self_paced", "class"]},
            "one_per_page": {"type": "boolean"},
            "taken": {"type": "integer", "readOnly": True},
            "in_progress": {"type": "integer", "readOnly": True},
            "deletion_blockers": {"type": "array", "items": {"type": "string"}, "readOnly": True},
        },
    },
    "Attempt": {
        "type": "object",
        "properties": {
            "attempt_id": {"type": "integer"},
            "deadline": {"type": "string", "format": "date-time", "nullable": True},
            "server_now": {"type": "string", "format": "date-time"},
            "questions": {"type": "array", "items": {"type": "object"}},
            "answers": {"type": "object"},
        },
    },
    "AttemptResult": {
        "type": "object",
        "properties": {
            "score": {"type": "number", "nullable": True},
            "max_score": {"type": "number"},
            "passed": {"type": "boolean", "nullable": True},
            "review": {"type": "array", "nullable": True, "items": {"type": "object"}},
        },
    },
}


def _ids(value: Any, name: str) -> list[int]:
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        bad_request(_("%(name)s must be a list.", name=name))
    return [require_int(v, name) for v in value]


@campaigns_bp.route("/campaigns", methods=["POST"])
@login_required
def create_campaign():
    """Send a term exam or a survey (调度) to grades, schools and roles (county and prefecture admins).
    ---
    post:
      tags: [campaigns]
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/CampaignCreate'}
      responses:
        201: {description: 'created: {"id", "quiz_id"}'}
        400: {description: a setting is not valid (the message says which)}
        403: {description: only county and prefecture admins send campaigns}
        422: {description: a time without its offset (ISO 8601 with +08:00 or Z) or outside 1900-9998}
    """
    from quizzes.service import campaigns

    body = json_body()
    sender = permissions.get_or_404(Unit, require_int(body.get("unit_id"), "unit_id"), current_user)
    targets = body.get("targets") or {}
    if not isinstance(targets, dict):
        bad_request(_("targets is an object: unit_ids, grade_levels, roles."))
    units = [
        permissions.get_or_404(Unit, unit_id, current_user)
        for unit_id in _ids(targets.get("unit_ids"), "unit_ids")
    ]
    if not campaigns.may_dispatch(current_user, sender):
        raise ServiceError(_("Only county and prefecture admins send campaigns."), status=403)
    items = body.get("items") or []
    if body.get("template"):
        items = campaigns.template_items(
            actor=current_user, sender=sender, template=str(body["template"])
        )
    campaign = campaigns.create_campaign(
        actor=current_user,
        sender=sender,
        title=str(body.get("title") or ""),
        kind=str(body.get("kind") or ""),
        items=items,
        unit_targets=units,
        grade_levels=_ids(targets.get("grade_levels"), "grade_levels"),
        roles=[str(r) for r in targets.get("roles") or ["student"]],
        opens_at=_datetime(body.get("opens_at"), "opens_at"),
        closes_at=_datetime(body.get("closes_at"), "closes_at"),
        time_limit_seconds=body.get("time_limit"),
        pass_mark=body.get("pass_mark", 60),
        excellent_mark=float(body.get("excellent_mark", 85)),
        anonymous=bool(body.get("anonymous", False)),
    )
    db.session.commit()
    return jsonify({"id": campaign.id, "quiz_id": campaign.quiz_id}), 201


def _campaign_unit(campaign_id: int):
    from quizzes.models import Campaign
    from quizzes.service import campaigns

    campaign = permissions.get_or_404(Campaign, campaign_id, current_user)
    unit_id = request.args.get("unit") or (request.get_json(silent=True) or {}).get("unit_id")
    unit = (
        permissions.get_or_404(Unit, require_int(unit_id, "unit"), current_user)
        if unit_id
        else queries.followed_unit(current_user, campaign)
    )
    if not campaigns.may_follow(current_user, campaign, unit):
        abort(404)
    return campaign, unit


@campaigns_bp.route("/campaigns/<int:campaign_id>/participation")
@login_required
def participation(campaign_id: int):
    """Participation, pass and excellent rates under a unit and per child unit, and who has not taken it.
    ---
    get:
      tags: [campaigns]
      parameters:
        - {name: campaign_id, in: path, required: true, schema: {type: integer}}
        - {name: unit, in: query, required: false, schema: {type: integer}, description: a county or school or class (by default the highest unit the caller follows it at)}
      responses:
        200:
          description: the rates and the list of those yet to take it
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Participation'}
        404: {description: no such campaign or unit within the caller's reach}
    """
    from quizzes.service import campaigns

    campaign, unit = _campaign_unit(campaign_id)
    result = campaigns.participation(campaign, unit)
    anonymous = campaign.quiz.is_anonymous
    return jsonify(
        {
            "campaign_id": campaign.id,
            "title": campaign.title,
            "unit": result.total.as_dict(anonymous),
            "children": [row.as_dict(anonymous) for row in result.children],
            "not_taken": result.not_taken,
            "not_taken_count": result.not_taken_count,
        }
    )


@campaigns_bp.route("/campaigns/<int:campaign_id>/reminders", methods=["POST"])
@login_required
def remind(campaign_id: int):
    """Notify those under a unit who have not taken it yet, with a link to take it (and audit it).
    ---
    post:
      tags: [campaigns]
      parameters:
        - {name: campaign_id, in: path, required: true, schema: {type: integer}}
      requestBody:
        content:
          application/json:
            schema: {type: object, properties: {unit_id: {type: integer}}}
      responses:
        200: {description: '{"reminded": n}'}
        404: {description: no such campaign or unit within the caller's reach}
    """
    from quizzes.service import campaigns

    campaign, unit = _campaign_unit(campaign_id)
    count = campaigns.send_reminder(actor=current_user, campaign=campaign, unit=unit)
    db.session.commit()
    return jsonify({"reminded": count})


@campaigns_bp.route("/campaigns/<int:campaign_id>/survey-results")
@login_required
def survey_results(campaign_id: int):
    """A survey's answers counted, 知晓率 and 满意率; nothing for groups smaller than five.
    ---
    get:
      tags: [campaigns]
      parameters:
        - {name: campaign_id, in: path, required: true, schema: {type: integer}}
        - {name: unit, in: query, required: false, schema: {type: integer}}
      responses:
        200: {description: the counts and rates, or "hidden" for a small group}
        404: {description: no such campaign or unit within the caller's reach}
    """
    from quizzes.service import campaigns

    campaign, unit = _campaign_unit(campaign_id)
    return jsonify(campaigns.survey_results(campaign.quiz, unit))


COMPONENTS["CampaignCreate"] = {
    "type": "object",
    "required": ["title", "kind", "unit_id"],
    "properties": {
        "title": {"type": "string"},
        "kind": {"type": "string", "enum": ["exam", "survey"]},
        "unit_id": {"type": "integer", "description": "the sending county or prefecture"},
        "targets": {
            "type": "object",
            "properties": {
                "unit_ids": {"type": "array", "items": {"type": "integer"}},
                "grade_levels": {"type": "array", "items": {"type": "integer"}},
                "roles": {
                    "type": "array",
                    "items": {"type": "string", "enum": ["student", "teacher", "guardian"]},
                },
            },
        },
        "items": {"type": "array", "items": {"type": "object"}},
        "template": {"type": "string", "enum": ["knowledge", "satisfaction"]},
        "anonymous": {"type": "boolean"},
        "opens_at": {"type": "string", "format": "date-time"},
        "closes_at": {"type": "string", "format": "date-time"},
        "time_limit": {"type": "integer"},
        "pass_mark": {"type": "number"},
        "excellent_mark": {"type": "number"},
    },
}
COMPONENTS["Participation"] = {
    "type": "object",
    "properties": {
        "unit": {"type": "object"},
        "children": {"type": "array", "items": {"type": "object"}},
        "not_taken": {"type": "array", "items": {"type": "object"}},
        "not_taken_count": {"type": "integer"},
    },
}


def init_app(app: Flask) -> None:
    EXTRA_COMPONENTS.update(COMPONENTS)
    csrf.exempt(bp)
    app.register_blueprint(bp)
