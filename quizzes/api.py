"""The assessment JSON API under /api/v1; its shapes are ``quizzes/schemas.py``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, Response, abort, g, jsonify
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

from elearn import permissions
from elearn.api import ApiBlueprint, protect_cookie_sessions, refuses
from elearn.api.schemas import ValidationFailure
from elearn.auth import checks_bearer_itself, refuse, request_actor
from elearn.extensions import db
from elearn.models import Unit
from elearn.service.errors import ServiceError
from elearn.web import error_response
from quizzes import figures, queries, richtext, service
from quizzes import schemas as s
from quizzes.models import Campaign, Question, QuestionBank, Quiz, QuizAttempt
from quizzes.qtypes import get_type
from quizzes.service import bank as bank_service
from quizzes.service import campaigns

F = TypeVar("F", bound=Callable[..., Any])

bp = ApiBlueprint("quizzes_api", __name__, url_prefix="/api/v1", description="assessment")
#: the same API; routes registered below share the blueprint
campaigns_bp: Blueprint = bp


@bp.before_request
def _csrf_for_cookie_sessions() -> None:
    protect_cookie_sessions()
    g.api = True


@bp.errorhandler(service.TimeUp)
def _time_up(error: service.TimeUp):
    """A save refused because time is up says so in a field too: the attempt page then
    submits what was saved (the grace is for that), whatever the message's language."""
    db.session.rollback()
    return error_response(error.status, error.message, time_up=True)


# -- banks and questions ------------------------------------------------------------------------


@bp.route("/question-banks", tags=["quizzes"])
@login_required
@bp.response(200, s.QuestionBankOut(many=True))
@refuses(401)
def banks() -> list[dict[str, Any]]:
    """The question banks the caller may use."""
    found = queries.banks_for(current_user)
    counts = queries.question_counts([b.id for b in found])
    return [
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


@bp.route("/question-banks", methods=["POST"], tags=["quizzes"])
@login_required
@bp.arguments(s.BankCreate)
@bp.response(201, s.Created)
@refuses(400, 401, 403, 404)
def create_bank(body: dict[str, Any]) -> dict[str, int]:
    """Create a question bank owned at a unit."""
    unit = permissions.get_or_404(Unit, body["unit_id"], current_user)
    bank = service.create_bank(actor=current_user, name=body["name"], unit=unit)
    db.session.commit()
    return {"id": bank.id}


@bp.route("/question-banks/<int:bank_id>/questions", tags=["quizzes"])
@login_required
@bp.arguments(s.BankQuestionsQuery, location="query")
@bp.response(200, s.BankQuestion(many=True))
@refuses(401, 404)
def bank_questions(args: dict[str, Any], bank_id: int) -> list[dict[str, Any]]:
    """The current questions of a bank (without answers).

    With ``quick=1``: only the questions a live lecture's quick quiz takes (graded automatically
    with a right answer), each with its stem as plain text; still no answers.
    """
    bank = permissions.get_or_404(QuestionBank, bank_id, current_user, "use")
    filters = queries.question_filters({k: str(v) for k, v in args.items()})
    questions = db.session.scalars(queries.bank_questions(bank, **filters)).all()
    if args.get("quick") == 1:
        return [
            {
                "id": q.id,
                "type": version.type,
                "type_label": str(get_type(version.type).label),
                "name": version.name,
                "stem": richtext.plain(version.stem)[:300],
            }
            for q in questions
            if (version := q.current_version) is not None
            and get_type(version.type).auto_graded
            and get_type(version.type).scored
        ]
    return [
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


def _bank_question(question_id: int) -> Question:
    """A question of a bank the caller edits; out of reach is a 404."""
    question = db.session.get(Question, question_id)
    if question is None:
        abort(404)
    permissions.get_or_404(QuestionBank, question.bank_id, current_user, "edit")
    return question


@bp.route("/questions/<int:question_id>", methods=["DELETE"], tags=["quizzes"])
@login_required
@bp.response(204, description="taken out (or was already)")
@refuses(401, 404)
def archive_question(question_id: int) -> Response:
    """Take a question out of its bank; nothing is deleted (attempts keep its versions)."""
    question = _bank_question(question_id)
    bank_service.set_archived(actor=current_user, question=question, archived=True)
    db.session.commit()
    return Response(status=204)


@bp.route("/questions/<int:question_id>/restore", methods=["POST"], tags=["quizzes"])
@login_required
@bp.response(200, s.Restored)
@refuses(401, 404)
def restore_question(question_id: int) -> dict[str, Any]:
    """Put a question taken out of its bank back."""
    question = _bank_question(question_id)
    bank_service.set_archived(actor=current_user, question=question, archived=False)
    db.session.commit()
    return {"id": question.id, "archived": False}


_IMPORT_422 = {
    "description": "the request does not fit the schema, or the file was rejected whole "
    "(nothing was imported; errors by line)",
    "content": {
        "application/json": {
            "schema": {
                "anyOf": [
                    {"$ref": "#/components/schemas/ValidationFailure"},
                    {"$ref": "#/components/schemas/ImportResult"},
                ]
            }
        }
    },
}


@bp.route("/question-banks/<int:bank_id>/imports", methods=["POST"], tags=["quizzes"])
@login_required
@bp.arguments(s.ImportUpload, location="multipart")
@bp.response(200, s.ImportResult, description="imported")
@bp.alt_response(422, schema=ValidationFailure)
@bp.alt_response(422, schema=s.ImportResult)
@bp.doc(responses={"422": _IMPORT_422})
@refuses(401, 403, 404)
def import_questions(form: dict[str, Any], bank_id: int) -> Any:
    """Import a GIFT, Moodle XML or .xlsx file: all its questions, or none."""
    bank = permissions.get_or_404(QuestionBank, bank_id, current_user, "use")
    permissions.require(current_user, "edit", bank)
    result = service.import_questions(
        actor=current_user, bank=bank, fmt=form["format"], payload=form["file"].read()
    )
    if result.errors:
        db.session.rollback()
        body = result.as_dict()
        body["message"] = _(
            "The file was rejected; nothing was imported. Fix the errors and try again."
        )
        return jsonify(s.ImportResult().dump(body)), 422
    db.session.commit()
    return result.as_dict()


@bp.route("/question-banks/<int:bank_id>/export", tags=["quizzes"])
@login_required
@bp.arguments(s.ExportQuery, location="query")
@bp.response(200, content_type="application/octet-stream", description="the file")
@refuses(401, 403, 404)
def export_questions(args: dict[str, str], bank_id: int) -> Response:
    """Export a bank as GIFT, Moodle XML or .xlsx (with answers: authors only)."""
    bank = permissions.get_or_404(QuestionBank, bank_id, current_user, "use")
    permissions.require(current_user, "edit", bank)
    content, mimetype, extension = service.export_questions(
        actor=current_user, bank=bank, fmt=args["format"]
    )
    db.session.commit()  # the audit row of the export
    response = Response(content, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="bank-{bank.id}.{extension}"'
    return response


# -- quizzes -------------------------------------------------------------------------------------


@bp.route("/quizzes", tags=["quizzes"])
@login_required
@bp.response(200, s.QuizSummary(many=True))
@refuses(401)
def quizzes() -> list[dict[str, Any]]:
    """The quizzes open to the caller."""
    now = datetime.now(UTC)
    found = db.session.scalars(queries.quizzes_open_to(current_user, now)).all()
    return [
        {
            "id": quiz.id,
            "title": quiz.title,
            "opens_at": quiz.opens_at,
            "closes_at": quiz.closes_at,
            "time_limit_seconds": quiz.time_limit_seconds,
            "attempts_left": service.attempts_left(quiz, current_user),
        }
        for quiz in found
    ]


def _audience(entries: list[dict[str, Any]]) -> list[tuple[Unit, str]]:
    return [
        (permissions.get_or_404(Unit, entry["unit_id"], current_user), entry["role"])
        for entry in entries
    ]


@bp.route("/quizzes", methods=["POST"], tags=["quizzes"])
@login_required
@bp.arguments(s.QuizCreate)
@bp.response(201, s.Created)
@refuses(400, 401, 403, 404)
def create_quiz(body: dict[str, Any]) -> dict[str, int]:
    """Create a quiz from bank questions or random draws, with its settings and audience.

    400: a setting or item is not valid (the message says which); 422 (among the schema's
    refusals): a time without its offset (ISO 8601 with +08:00 or Z) or outside 1900-9998.
    """
    unit = permissions.get_or_404(Unit, body["unit_id"], current_user)
    quiz = service.create_quiz(
        actor=current_user,
        unit=unit,
        title=body["title"],
        description=body.get("description") or "",
        items=body["items"],
        audience=_audience(body["audience"]),
        opens_at=body.get("opens_at"),
        closes_at=body.get("closes_at"),
        time_limit_seconds=body.get("time_limit"),
        attempts_allowed=body["attempts_allowed"],
        pass_mark=body["pass_mark"],
        review_policy=body["review_policy"],
        mode=body["mode"],
        shuffle_questions=body["shuffle_questions"],
        shuffle_options=body["shuffle_options"],
        one_per_page=body["one_per_page"],
        publish=body["publish"],
    )
    db.session.commit()
    return {"id": quiz.id}


class QuizFacts:
    """A quiz with what has been done with it, as ``QuizSettings`` renders it."""

    def __init__(self, quiz: Quiz, changed: list[str] | None = None) -> None:
        self.quiz = quiz
        self.taken = service.times_taken(quiz)
        self.in_progress = service.in_progress_count(quiz)
        self.deletion_blockers = service.deletion_blockers(quiz, taken=self.taken)
        self.changed = changed

    def __getattr__(self, name: str) -> Any:
        return getattr(self.quiz, name)


#: the PATCH body's names → the service's setting names
_PATCHABLE = {"time_limit": "time_limit_seconds", "published": "publish"}


@bp.route("/quizzes/<int:quiz_id>", tags=["quizzes"])
@login_required
@bp.response(200, s.QuizSettings)
@refuses(401, 404)
def quiz_detail(quiz_id: int) -> QuizFacts:
    """A quiz's settings, how many took it and what stops it being deleted (its authors)."""
    quiz = permissions.get_or_404(Quiz, quiz_id, current_user, "edit")
    return QuizFacts(quiz)


@bp.route("/quizzes/<int:quiz_id>", methods=["PATCH"], tags=["quizzes"])
@login_required
@bp.arguments(s.QuizPatch)
@bp.response(200, s.QuizChanged)
@refuses(400, 401, 403, 404, 409)
def update_quiz(body: dict[str, Any], quiz_id: int) -> QuizFacts:
    """Change some of a quiz's settings; the others stay.

    409: taken already: the pass mark and mode are fixed; close, not withdraw. 422 (among the
    schema's refusals): a time without its offset or outside 1900-9998.
    """
    quiz = permissions.get_or_404(Quiz, quiz_id, current_user, "edit")
    changes = {_PATCHABLE.get(name, name): value for name, value in body.items()}
    changed = service.update_quiz(actor=current_user, quiz=quiz, changes=changes)
    db.session.commit()
    return QuizFacts(quiz, changed)


@bp.route("/quizzes/<int:quiz_id>", methods=["DELETE"], tags=["quizzes"])
@login_required
@bp.response(204, description="deleted")
@refuses(401, 403, 404, 409)
def delete_quiz(quiz_id: int) -> Response:
    """Delete a quiz nobody has taken and nothing uses.

    409: taken, or used by a campaign or a lesson: the message says why.
    """
    quiz = permissions.get_or_404(Quiz, quiz_id, current_user, "edit")
    service.delete_quiz(actor=current_user, quiz=quiz)
    db.session.commit()
    return Response(status=204)


# -- attempts ------------------------------------------------------------------------------------


@bp.route("/quizzes/<int:quiz_id>/attempts", methods=["POST"], tags=["quizzes"])
@login_required
@bp.response(201, s.Attempt, description="the attempt: its deadline and questions, no answers")
@refuses(401, 403, 404, 409)
def start_attempt(quiz_id: int) -> Any:
    """Start an attempt (or resume the one in progress); the clock is the server's.

    409: not open yet, closed, or no attempts left.
    """
    # the quiz with its audiences in one query (5,000 students may start at once)
    quiz = db.session.get(Quiz, quiz_id, options=[joinedload(Quiz.audiences)])
    if quiz is None:
        abort(404)
    permissions.require(current_user, "take", quiz)
    if quiz.is_anonymous:  # no attempt row: see quizzes.survey_api
        from quizzes.survey_api import start_anonymous  # survey_api imports this module

        return start_anonymous(quiz)
    attempt = service.start_attempt(actor=current_user, quiz=quiz)
    view = service.attempt_view(attempt)  # before the commit expires what it reads
    db.session.commit()
    return view


@bp.route("/attempts/<int:attempt_id>", tags=["quizzes"])
@login_required
@bp.response(
    200,
    {
        "anyOf": [
            {"$ref": "#/components/schemas/Attempt"},
            {"$ref": "#/components/schemas/AttemptResult"},
        ]
    },
    description="in progress: the questions and saved answers (resume); finished: the result",
)
@refuses(401, 404)
def attempt(attempt_id: int) -> Response:
    """One's own attempt: the questions and saved answers (resume), or the result when finished."""
    found = permissions.get_or_404(QuizAttempt, attempt_id, current_user, "view")
    if found.state == "in_progress":
        return jsonify(s.Attempt().dump(service.attempt_view(found)))
    return jsonify(s.AttemptResult().dump(service.review_view(found)))


def _actor_first(view: F) -> F:
    """A 401 before anything else for a save with neither a session nor a bearer token."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.actor = request_actor()
        if g.actor is None:
            return refuse()
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]  # functools.wraps keeps the view's signature, which F stands for


@bp.route("/attempts/<int:attempt_id>/answers/<int:question_id>", methods=["PUT"], tags=["quizzes"])
@checks_bearer_itself
@_actor_first
@bp.arguments(s.AnswerSave)
@bp.response(200, s.SavedAnswer, description="saved")
@refuses(401, 404, 409)
def save_answer(body: dict[str, Any], attempt_id: int, question_id: int) -> dict[str, Any]:
    """Autosave one answer; ``seq`` must be higher than the saved one's.

    Signed in or with a bearer token; the token is checked by the statement that saves (the
    hottest write of an exam: one statement, no separate lookup of the token). 409: a newer
    answer is saved, the attempt is finished, or time is up (then ``time_up`` is true: the
    deadline and its few seconds of slack have passed; submit what was saved).
    """
    saved = service.save_answer(
        actor=g.actor,
        attempt_id=attempt_id,
        question_id=question_id,
        answer=body.get("answer"),
        seq=body["seq"],
    )
    db.session.commit()
    return saved.view()


@bp.route("/attempts/<int:attempt_id>/clock", tags=["quizzes"])
@login_required
@bp.response(200, s.Clock, description="the state, the deadline, the server's time, seconds left")
@refuses(401, 404)
def attempt_clock(attempt_id: int) -> dict[str, Any]:
    """One's own attempt's state and time left, by the server's clock (the page asks now and
    then: a quiz closed early ends the attempts in progress sooner)."""
    found = permissions.get_or_404(QuizAttempt, attempt_id, current_user, "view")
    return service.attempt_clock(found)


@bp.route("/attempts/<int:attempt_id>/submit", methods=["POST"], tags=["quizzes"])
@login_required
@bp.response(200, s.AttemptResult, description="the result, with the review as the policy allows")
@bp.alt_response(
    409,
    schema=s.LateSubmission,
    description="already submitted, or too late (then closed and graded from saved answers)",
)
@refuses(401, 404)
def submit(attempt_id: int) -> Any:
    """Submit: the attempt is graded from what the server saved."""
    result = service.submit_attempt(actor=current_user, attempt_id=attempt_id)
    db.session.commit()
    body = service.review_view(result.attempt)
    if result.late:
        body["error"] = 409
        body["message"] = _(
            "Time was up before you submitted. Your attempt was closed and graded from the answers saved in time."
        )
        return jsonify(s.LateSubmission().dump(body)), 409
    return body


@bp.route("/attempts/<int:attempt_id>/review", tags=["quizzes"])
@login_required
@bp.response(200, s.AttemptResult, description="the result")
@refuses(401, 404, 409)
def review(attempt_id: int) -> dict[str, Any]:
    """The result of one's finished attempt, with what the review policy allows.

    409: the attempt is still in progress.
    """
    found = permissions.get_or_404(QuizAttempt, attempt_id, current_user, "view")
    if found.state == "in_progress":
        abort(409)
    return service.review_view(found)


@bp.route("/attempts/<int:attempt_id>/grades/<int:question_id>", methods=["PUT"], tags=["quizzes"])
@login_required
@bp.arguments(s.GradeIn)
@bp.response(200, s.GradeOut, description="the attempt's score after the grade")
@refuses(400, 401, 404, 409)
def grade_answer(body: dict[str, Any], attempt_id: int, question_id: int) -> dict[str, Any]:
    """Grade a hand-graded answer in points (0 to the question's mark).

    400: the points are not a number from 0 to the mark; 404: no such attempt within the
    caller's grading, or no such hand-graded answer; 409: the attempt is still in progress.
    """
    found = permissions.get_or_404(QuizAttempt, attempt_id, current_user, "grade")
    service.grade_points(actor=current_user, attempt=found, points={question_id: body["points"]})
    db.session.commit()
    slot = next(slot for slot in found.slots if slot.question_id == question_id)
    return {
        "attempt_id": found.id,
        "question_id": question_id,
        "points": figures.score((slot.fraction or 0) * slot.mark),
        "mark": slot.mark,
        "score": found.score,
        "max_score": found.max_score,
        "passed": found.passed,
        "needs_manual_grading": found.needs_manual_grading,
    }


# -- campaigns -----------------------------------------------------------------------------------


@campaigns_bp.route("/campaigns", methods=["POST"], tags=["campaigns"])
@login_required
@bp.arguments(s.CampaignCreate)
@bp.response(201, s.CampaignCreated)
@refuses(400, 401, 403, 404)
def create_campaign(body: dict[str, Any]) -> dict[str, int]:
    """Send a term exam or a survey (调度) to grades, schools and roles (county and prefecture admins).

    400: a setting is not valid (the message says which); 403: only county and prefecture
    admins send campaigns; 422 (among the schema's refusals): a time without its offset.
    """
    sender = permissions.get_or_404(Unit, body["unit_id"], current_user)
    targets = body.get("targets") or {}
    units = [
        permissions.get_or_404(Unit, unit_id, current_user)
        for unit_id in targets.get("unit_ids") or []
    ]
    if not campaigns.may_dispatch(current_user, sender):
        raise ServiceError(_("Only county and prefecture admins send campaigns."), status=403)
    items = body.get("items") or []
    if body.get("template"):
        items = campaigns.template_items(
            actor=current_user, sender=sender, template=body["template"]
        )
    campaign = campaigns.create_campaign(
        actor=current_user,
        sender=sender,
        title=body["title"],
        kind=body["kind"],
        items=items,
        unit_targets=units,
        grade_levels=targets.get("grade_levels") or [],
        roles=targets.get("roles") or ["student"],
        opens_at=body.get("opens_at"),
        closes_at=body.get("closes_at"),
        time_limit_seconds=body.get("time_limit"),
        pass_mark=body["pass_mark"],
        excellent_mark=body["excellent_mark"],
        anonymous=body["anonymous"],
    )
    db.session.commit()
    return {"id": campaign.id, "quiz_id": campaign.quiz_id}


def _campaign_unit(campaign_id: int, unit_id: int | None) -> tuple[Campaign, Unit]:
    campaign = permissions.get_or_404(Campaign, campaign_id, current_user)
    unit = (
        permissions.get_or_404(Unit, unit_id, current_user)
        if unit_id
        else queries.followed_unit(current_user, campaign)
    )
    if not campaigns.may_follow(current_user, campaign, unit):
        abort(404)
    return campaign, unit


@campaigns_bp.route("/campaigns/<int:campaign_id>/participation", tags=["campaigns"])
@login_required
@bp.arguments(s.UnitQuery, location="query")
@bp.response(200, s.Participation, description="the rates and those yet to take it")
@refuses(401, 404)
def participation(args: dict[str, int], campaign_id: int) -> dict[str, Any]:
    """Participation, pass and excellent rates under a unit and per child unit, and who has not taken it."""
    campaign, unit = _campaign_unit(campaign_id, args.get("unit"))
    result = campaigns.participation(campaign, unit)
    anonymous = campaign.quiz.is_anonymous
    return {
        "campaign_id": campaign.id,
        "title": campaign.title,
        "unit": result.total.as_dict(anonymous),
        "children": [row.as_dict(anonymous) for row in result.children],
        "not_taken": result.not_taken,
        "not_taken_count": result.not_taken_count,
    }


@campaigns_bp.route("/campaigns/<int:campaign_id>/reminders", methods=["POST"], tags=["campaigns"])
@login_required
@bp.arguments(s.ReminderBody)
@bp.response(200, s.Reminded)
@refuses(401, 404)
def remind(body: dict[str, int], campaign_id: int) -> dict[str, int]:
    """Notify those under a unit who have not taken it yet, with a link to take it (and audit it)."""
    campaign, unit = _campaign_unit(campaign_id, body.get("unit_id"))
    count = campaigns.send_reminder(actor=current_user, campaign=campaign, unit=unit)
    db.session.commit()
    return {"reminded": count}


@campaigns_bp.route("/campaigns/<int:campaign_id>/survey-results", tags=["campaigns"])
@login_required
@bp.arguments(s.UnitQuery, location="query")
@bp.response(
    200, s.SurveyResults, description='the counts and rates, or "hidden" for a small group'
)
@refuses(401, 404)
def survey_results(args: dict[str, int], campaign_id: int) -> dict[str, Any]:
    """A survey's answers counted, 知晓率 and 满意率; nothing for groups smaller than five."""
    campaign, unit = _campaign_unit(campaign_id, args.get("unit"))
    return campaigns.survey_results(campaign.quiz, unit)
