"""The JSON API of anonymous survey sessions (no attempt row: see quizzes.service.surveys)."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_login import current_user, login_required

from elearn import uow
from elearn.api import refuses
from quizzes import schemas as s
from quizzes.api import bp
from quizzes.models import Quiz
from quizzes.service import surveys


def start_anonymous(quiz: Quiz) -> dict[str, Any]:
    """``POST /api/v1/quizzes/<id>/attempts`` for an anonymous survey: a session, no row."""
    session = surveys.start_survey(actor=current_user, quiz=quiz)
    body = surveys.survey_view(session)
    body["urls"] = session_urls(session.token)
    return body


def session_urls(token: str) -> dict[str, str]:
    return {
        "save": url_for("quizzes_api.survey_save_answer", token=token, question_id=0),
        "submit": url_for("quizzes_api.survey_submit", token=token),
        "page": url_for("quizzes.survey_page", token=token),
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
