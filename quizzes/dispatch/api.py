"""The dispatch JSON API under /api/v1: campaigns (sending one, participation, reminders, a
survey's results) and anonymous survey sessions (no attempt row: see
``quizzes.dispatch.service.surveys``); its shapes are ``quizzes/schemas.py``."""

from __future__ import annotations

from typing import Any

from flask import abort, g, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required

from elearn import permissions, uow
from elearn.api import ApiBlueprint, protect_cookie_sessions, refuses
from elearn.models import Unit
from elearn.service.errors import ServiceError
from elearn.web import error_response
from quizzes import schemas as s
from quizzes.dispatch import queries
from quizzes.dispatch.service import campaigns as campaign_service
from quizzes.dispatch.service import participation as participation_service
from quizzes.dispatch.service import survey_results as results_service
from quizzes.dispatch.service import surveys
from quizzes.models import Campaign, Quiz
from quizzes.service import TimeUp

bp = ApiBlueprint(
    "dispatch_api", __name__, url_prefix="/api/v1", description="campaigns and anonymous surveys"
)


@bp.before_request
def _csrf_for_cookie_sessions() -> None:
    protect_cookie_sessions()
    g.api = True


@bp.errorhandler(TimeUp)
def _time_up(error: TimeUp) -> ResponseReturnValue:
    """A survey answer refused because time is up says so in a field too, as an attempt's does:
    the page then submits what was kept."""
    uow.rollback()
    return error_response(error.status, error.message, time_up=True)


def start_anonymous(quiz: Quiz) -> dict[str, Any]:
    """``POST /api/v1/quizzes/<id>/attempts`` for an anonymous survey: a session, no row."""
    session = surveys.start_survey(actor=current_user, quiz=quiz)
    body = surveys.survey_view(session)
    body["urls"] = session_urls(session.token)
    return body


def session_urls(token: str) -> dict[str, str]:
    return {
        "save": url_for("dispatch_api.survey_save_answer", token=token, question_id=0),
        "submit": url_for("dispatch_api.survey_submit", token=token),
        "page": url_for("dispatch.survey_page", token=token),
    }


@bp.route("/survey-sessions/<token>", tags=["campaigns"])
@login_required
@bp.response(200, s.Attempt, description="the session (the shape of an attempt)")
@refuses(401, 404)
def survey_session(token: str) -> dict[str, Any]:
    """One's own anonymous survey session in progress: questions and the answers kept so far."""
    session = surveys.load_survey(actor=current_user, token=token)
    return surveys.survey_view(session)


@bp.route("/survey-sessions/<token>/answers/<int:question_id>", methods=["PUT"], tags=["campaigns"])
@login_required
@bp.arguments(s.AnswerSave)
@bp.response(200, s.SurveyKept, description="kept")
@refuses(401, 404, 409)
def survey_save_answer(body: dict[str, Any], token: str, question_id: int) -> dict[str, int]:
    """Keep one answer of an anonymous survey (held outside the database until submitted).

    409: a newer answer is kept, the survey was submitted, or time is up.
    """
    seq = surveys.save_survey_answer(
        actor=current_user,
        token=token,
        question_id=question_id,
        answer=body.get("answer"),
        seq=body["seq"],
    )
    return {"question_id": question_id, "seq": seq}


@bp.route("/survey-sessions/<token>/submit", methods=["POST"], tags=["campaigns"])
@login_required
@bp.response(200, s.SurveySubmitted, description="submitted")
@refuses(401, 404, 409)
def survey_submit(token: str) -> dict[str, Any]:
    """Submit an anonymous survey: participation is recorded; the answers join the release pool.

    409: already submitted.
    """
    pending = surveys.submit_survey(actor=current_user, token=token)
    # only once the participation is committed: a failed commit leaves no stray response
    uow.after_commit(surveys.deposit, pending)
    return {
        "state": "finished",
        "anonymous": True,
        "review": None,
        "next_url": url_for("quizzes.mine"),
    }


# -- campaigns -----------------------------------------------------------------------------------


@bp.route("/campaigns", methods=["POST"], tags=["campaigns"])
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
    if not campaign_service.may_dispatch(current_user, sender):
        raise ServiceError(_("Only county and prefecture admins send campaigns."), status=403)
    items = body.get("items") or []
    if body.get("template"):
        items = campaign_service.template_items(
            actor=current_user, sender=sender, template=body["template"]
        )
    campaign = campaign_service.create_campaign(
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
    return {"id": campaign.id, "quiz_id": campaign.quiz_id}


def _campaign_unit(campaign_id: int, unit_id: int | None) -> tuple[Campaign, Unit]:
    campaign = permissions.get_or_404(Campaign, campaign_id, current_user)
    unit = (
        permissions.get_or_404(Unit, unit_id, current_user)
        if unit_id
        else queries.followed_unit(current_user, campaign)
    )
    if not campaign_service.may_follow(current_user, campaign, unit):
        abort(404)
    return campaign, unit


@bp.route("/campaigns/<int:campaign_id>/participation", tags=["campaigns"])
@login_required
@bp.arguments(s.UnitQuery, location="query")
@bp.response(200, s.Participation, description="the rates and those yet to take it")
@refuses(401, 404)
def participation(args: dict[str, int], campaign_id: int) -> dict[str, Any]:
    """Participation, pass and excellent rates under a unit and per child unit, and who has not taken it."""
    campaign, unit = _campaign_unit(campaign_id, args.get("unit"))
    result = participation_service.participation(campaign, unit)
    anonymous = campaign.quiz.is_anonymous
    return {
        "campaign_id": campaign.id,
        "title": campaign.title,
        "unit": result.total.as_dict(anonymous),
        "children": [row.as_dict(anonymous) for row in result.children],
        "not_taken": result.not_taken,
        "not_taken_count": result.not_taken_count,
    }


@bp.route("/campaigns/<int:campaign_id>/reminders", methods=["POST"], tags=["campaigns"])
@login_required
@bp.arguments(s.ReminderBody)
@bp.response(200, s.Reminded)
@refuses(401, 404)
def remind(body: dict[str, int], campaign_id: int) -> dict[str, int]:
    """Notify those under a unit who have not taken it yet, with a link to take it (and audit it)."""
    campaign, unit = _campaign_unit(campaign_id, body.get("unit_id"))
    count = participation_service.send_reminder(actor=current_user, campaign=campaign, unit=unit)
    return {"reminded": count}


@bp.route("/campaigns/<int:campaign_id>/survey-results", tags=["campaigns"])
@login_required
@bp.arguments(s.UnitQuery, location="query")
@bp.response(
    200, s.SurveyResults, description='the counts and rates, or "hidden" for a small group'
)
@refuses(401, 404)
def survey_results(args: dict[str, int], campaign_id: int) -> dict[str, Any]:
    """A survey's answers counted, 知晓率 and 满意率; nothing for groups smaller than five."""
    campaign, unit = _campaign_unit(campaign_id, args.get("unit"))
    return results_service.survey_results(campaign.quiz, unit)
