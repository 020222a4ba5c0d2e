"""The JSON API of anonymous survey sessions (no attempt row: see quizzes.service.surveys)."""

from __future__ import annotations

from flask import jsonify, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required

from elearn.api.helpers import bad_request, json_body
from elearn.extensions import db
from quizzes.api import bp
from quizzes.models import Quiz
from quizzes.service import surveys


def start_anonymous(quiz: Quiz) -> ResponseReturnValue:
    """``POST /api/v1/quizzes/<id>/attempts`` for an anonymous survey: a session, no row."""
    session = surveys.start_survey(actor=current_user, quiz=quiz)
    body = surveys.survey_view(session)
    body["urls"] = session_urls(session.token)
    return jsonify(body), 201


def session_urls(token: str) -> dict[str, str]:
    return {
        "save": url_for("quizzes_api.survey_save_answer", token=token, question_id=0),
        "submit": url_for("quizzes_api.survey_submit", token=token),
        "page": url_for("quizzes.survey_page", token=token),
    }


@bp.route("/survey-sessions/<token>")
@login_required
def survey_session(token: str):
    """One's own anonymous survey session in progress: questions and the answers kept so far.
    ---
    get:
      tags: [campaigns]
      parameters:
        - {name: token, in: path, required: true, schema: {type: string}}
      responses:
        200: {description: the session (the shape of an attempt)}
        404: {description: not the caller's session, or it ended}
    """
    session = surveys.load_survey(actor=current_user, token=token)
    return jsonify(surveys.survey_view(session))


@bp.route("/survey-sessions/<token>/answers/<int:question_id>", methods=["PUT"])
@login_required
def survey_save_answer(token: str, question_id: int):
    """Keep one answer of an anonymous survey (held outside the database until submitted).
    ---
    put:
      tags: [campaigns]
      parameters:
        - {name: token, in: path, required: true, schema: {type: string}}
        - {name: question_id, in: path, required: true, schema: {type: integer}}
      requestBody:
        content:
          application/json:
            schema:
              type: object
              required: [seq]
              properties: {answer: {}, seq: {type: integer}}
      responses:
        200: {description: kept}
        404: {description: not the caller's session, or not its question}
        409: {description: a newer answer is kept, the survey was submitted, or time is up}
    """
    body = json_body()
    if "seq" not in body:
        bad_request(_("seq must be a positive whole number."))
    seq = surveys.save_survey_answer(
        actor=current_user,
        token=token,
        question_id=question_id,
        answer=body.get("answer"),
        seq=body.get("seq"),
    )
    return jsonify({"question_id": question_id, "seq": seq})


@bp.route("/survey-sessions/<token>/submit", methods=["POST"])
@login_required
def survey_submit(token: str):
    """Submit an anonymous survey: participation is recorded; the answers join the release pool.
    ---
    post:
      tags: [campaigns]
      parameters:
        - {name: token, in: path, required: true, schema: {type: string}}
      responses:
        200: {description: 'submitted: {"state": "finished", "anonymous": true}'}
        404: {description: not the caller's session, or it ended}
        409: {description: already submitted}
    """
    pending = surveys.submit_survey(actor=current_user, token=token)
    db.session.commit()
    # only once the participation is committed: a failed commit leaves no stray response
    surveys.deposit(pending)
    return jsonify(
        {
            "state": "finished",
            "anonymous": True,
            "review": None,
            "next_url": url_for("quizzes.mine"),
        }
    )
