"""Anonymous surveys: no stored row links a response (or its answers) to a person, ever.

The tests look at every table of the database, not at the tables we expect to be written.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import redis as redis_lib
from sqlalchemy import inspect, select, text

from elearn.extensions import db
from quizzes.dispatch.service import campaigns, surveys
from quizzes.models import Quiz, QuizAttempt, SurveyResponse
from tests.conftest import REDIS_URL, unit_by_code, user
from tests.quizzes.conftest import bearer
from tests.quizzes.test_campaigns import send, take_survey

FIVE = ["student1", "s_S0101_5_01", "s_S0101_5_02", "s_S0101_5_03", "s_S0101_5_04"]


def snapshot() -> dict[str, set[str]]:
    """Every row of every table, as JSON text."""
    tables = inspect(db.session.connection()).get_table_names()
    return {
        table: set(db.session.scalars(text(f'SELECT row_to_json(t)::text FROM "{table}" t')))
        for table in tables
    }


def changes(before: dict[str, set[str]], after: dict[str, set[str]]) -> dict[str, set[str]]:
    """Rows added or changed (their new text), table by table; tables without change left out."""
    return {t: after[t] - before.get(t, set()) for t in after if after[t] != before.get(t, set())}


def survey_campaign(client) -> tuple[int, int]:
    response = client.post(
        "/api/v1/campaigns",
        json={
            "title": "禁毒知晓率调查（匿名）",
            "kind": "survey",
            "template": "knowledge",
            "anonymous": True,
            "unit_id": unit_by_code("C01").id,
            "targets": {"grade_levels": [5], "roles": ["student"]},
            "closes_at": (datetime.now(UTC) + timedelta(days=3)).isoformat(),
        },
        headers=bearer("county_admin"),
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    return body["id"], body["quiz_id"]


def answer_all(client, headers, body) -> None:
    save = body["urls"]["save"][: -len("0")]
    for seq, question in enumerate(body["questions"], start=1):
        saved = client.put(
            f"{save}{question['id']}", json={"answer": True, "seq": seq}, headers=headers
        )
        assert saved.status_code == 200, saved.get_json()


def test_no_row_links_an_anonymous_response_in_progress_or_submitted(client, app):
    with app.app_context():
        _campaign_id, quiz_id = survey_campaign(client)
        headers = {name: bearer(name) for name in FIVE}
        ids = {name: user(name).id for name in FIVE}
        before = snapshot()

    # in progress: the session and its answers are nowhere in the database
    started = client.post(f"/api/v1/quizzes/{quiz_id}/attempts", headers=headers["student1"])
    assert started.status_code == 201, started.get_json()
    body = started.get_json()
    token = body["attempt_id"]
    assert isinstance(token, str) and len(token) >= 24
    answer_all(client, headers["student1"], body)
    with app.app_context():
        assert changes(before, snapshot()) == {}
        assert (
            db.session.scalar(select(QuizAttempt.id).where(QuizAttempt.quiz_id == quiz_id)) is None
        )

    # resume where they were (a reload, another device), with the answers kept
    again = client.post(f"/api/v1/quizzes/{quiz_id}/attempts", headers=headers["student1"])
    assert again.get_json()["attempt_id"] == token
    assert len(again.get_json()["answers"]) == len(body["questions"])
    # the session is its owner's alone; a replayed save changes nothing
    first = body["questions"][0]["id"]
    assert (
        client.get(f"/api/v1/survey-sessions/{token}", headers=headers["s_S0101_5_01"]).status_code
        == 404
    )
    stolen = client.put(
        f"/api/v1/survey-sessions/{token}/answers/{first}",
        json={"answer": False, "seq": 99},
        headers=headers["s_S0101_5_01"],
    )
    assert stolen.status_code == 404
    replay = client.put(
        f"/api/v1/survey-sessions/{token}/answers/{first}",
        json={"answer": False, "seq": 1},
        headers=headers["student1"],
    )
    assert replay.status_code == 409

    # submitted: only the fact of taking part is stored; the answers wait in the release pool
    done = client.post(f"/api/v1/survey-sessions/{token}/submit", headers=headers["student1"])
    assert done.status_code == 200 and done.get_json()["anonymous"] is True
    assert (
        client.post(
            f"/api/v1/survey-sessions/{token}/submit", headers=headers["student1"]
        ).status_code
        == 404
    )
    retake = client.post(f"/api/v1/quizzes/{quiz_id}/attempts", headers=headers["student1"])
    assert retake.status_code == 409
    with app.app_context():
        changed = changes(before, snapshot())
        assert set(changed) == {"quiz_survey_participations"}
        assert changed["quiz_survey_participations"] == {
            f'{{"quiz_id":{quiz_id},"user_id":{ids["student1"]}}}'
        }
        assert surveys.pending_count(db.session.get(Quiz, quiz_id)) == 1

    # four more: the school's batch of five reaches the database, shuffled, dated to the day
    for name in FIVE[1:]:
        body = client.post(f"/api/v1/quizzes/{quiz_id}/attempts", headers=headers[name]).get_json()
        answer_all(client, headers[name], body)
        assert client.post(body["urls"]["submit"], headers=headers[name]).status_code == 200
    with app.app_context():
        changed = changes(before, snapshot())
        assert set(changed) == {"quiz_survey_participations", "quiz_survey_responses"}
        assert len(changed["quiz_survey_participations"]) == 5
        assert len(changed["quiz_survey_responses"]) == 5
        columns = {c.key for c in inspect(SurveyResponse).columns}
        assert columns == {"id", "quiz_id", "unit_id", "answers", "submitted_on"}
        responses = db.session.scalars(
            select(SurveyResponse).where(SurveyResponse.quiz_id == quiz_id)
        ).all()
        assert {r.unit_id for r in responses} == {unit_by_code("S0101").id}
        assert {r.submitted_on for r in responses} == {datetime.now(UTC).date()}
        assert all(len(r.id) == 32 for r in responses)
        # written together: one transaction for the batch, none shared with a participation
        response_xmins = set(
            db.session.scalars(
                text("SELECT xmin::text FROM quiz_survey_responses WHERE quiz_id = :q"),
                {"q": quiz_id},
            )
        )
        participation_xmins = set(
            db.session.scalars(
                text("SELECT xmin::text FROM quiz_survey_participations WHERE quiz_id = :q"),
                {"q": quiz_id},
            )
        )
        assert len(response_xmins) == 1 and not response_xmins & participation_xmins
        assert surveys.pending_count(db.session.get(Quiz, quiz_id)) == 0


def test_the_session_expires_with_the_window(ctx, app):
    items = campaigns.template_items(
        actor=user("county_admin"), sender=unit_by_code("C01"), template="satisfaction"
    )
    closes = datetime.now(UTC) + timedelta(minutes=10)
    campaign = send(kind="survey", items=items, anonymous=True, closes_at=closes)
    session = surveys.start_survey(actor=user("student1"), quiz=campaign.quiz)
    prefix = app.config["QUIZ_KEY_PREFIX"]
    ttl = redis_lib.Redis.from_url(REDIS_URL).ttl(f"{prefix}:session:{session.token}")
    assert 540 < ttl <= 600 + 30 + 60  # the window, the grace and a minute; not a day
    # after the close the session is refused even before Redis drops it
    from elearn.service.errors import ServiceError

    with pytest.raises(ServiceError) as error:
        surveys.save_survey_answer(
            actor=user("student1"),
            token=session.token,
            question_id=session.slots[0][0],
            answer=None,
            seq=1,
            now=closes + timedelta(minutes=5),
        )
    assert error.value.status == 409


def test_no_attempt_row_can_be_started_for_an_anonymous_survey(ctx):
    from elearn.service.errors import ServiceError
    from quizzes import service

    items = campaigns.template_items(
        actor=user("county_admin"), sender=unit_by_code("C01"), template="satisfaction"
    )
    campaign = send(kind="survey", items=items, anonymous=True)
    with pytest.raises(ServiceError):
        service.start_attempt(actor=user("student1"), quiz=campaign.quiz)


def test_parallel_submits_claim_the_session_once(ctx):
    from quizzes.dispatch.survey_store import survey_store

    items = campaigns.template_items(
        actor=user("county_admin"), sender=unit_by_code("C01"), template="satisfaction"
    )
    campaign = send(kind="survey", items=items, anonymous=True)
    session = surveys.start_survey(actor=user("student1"), quiz=campaign.quiz)
    claims = [survey_store().claim(session.token) for _ in range(20)]
    assert sum(c is not None for c in claims) == 1


def test_leftovers_of_a_closed_survey_are_released_by_county(ctx):
    items = campaigns.template_items(
        actor=user("county_admin"), sender=unit_by_code("C01"), template="knowledge"
    )
    campaign = send(kind="survey", items=items, anonymous=True)
    for name in FIVE[:3]:
        take_survey(user(name), campaign, right=True)
    quiz = campaign.quiz
    assert surveys.pending_count(quiz) == 3
    assert surveys.release_closed() == 0  # still open: the batch keeps filling
    quiz.closes_at = datetime.now(UTC) - timedelta(hours=1)
    db.session.flush()
    assert surveys.release_closed() == 3
    rows = db.session.scalars(select(SurveyResponse).where(SurveyResponse.quiz_id == quiz.id)).all()
    assert {r.unit_id for r in rows} == {unit_by_code("C01").id}
    assert surveys.pending_count(quiz) == 0


def test_an_anonymous_survey_keeps_no_answer_sent_after_the_close_and_its_slack(ctx, app):
    """As for attempts: answers are kept until the close and a few seconds of slack, not
    through the submission grace."""
    from elearn.service.errors import ServiceError

    items = campaigns.template_items(
        actor=user("county_admin"), sender=unit_by_code("C01"), template="satisfaction"
    )
    closes = datetime.now(UTC) + timedelta(minutes=10)
    campaign = send(kind="survey", items=items, anonymous=True, closes_at=closes)
    session = surveys.start_survey(actor=user("student1"), quiz=campaign.quiz)
    slack = timedelta(seconds=app.config["QUIZ_SAVE_SLACK_SECONDS"])

    def save(seq, at):
        return surveys.save_survey_answer(
            actor=user("student1"),
            token=session.token,
            question_id=session.slots[0][0],
            answer=None,
            seq=seq,
            now=at,
        )

    assert save(1, closes + slack) == 1  # sent in time, on its way
    with pytest.raises(ServiceError) as error:
        save(2, closes + slack + timedelta(seconds=1))
    assert error.value.status == 409 and "时间已到" in error.value.message


def test_a_submission_whose_commit_fails_pools_no_response(client, app, monkeypatch):
    """The response joins the release pool only once the participation is committed (an
    after-commit effect): a submission whose commit fails leaves neither."""
    from elearn import uow

    with app.app_context():
        _campaign_id, quiz_id = survey_campaign(client)
    headers = bearer("student1")
    body = client.post(f"/api/v1/quizzes/{quiz_id}/attempts", headers=headers).get_json()
    answer_all(client, headers, body)

    def failing_commit() -> None:
        raise RuntimeError("the database went away at the commit")

    monkeypatch.setattr(uow, "commit", failing_commit)
    assert client.post(body["urls"]["submit"], headers=headers).status_code == 500
    monkeypatch.undo()
    with app.app_context():
        quiz = db.session.get(Quiz, quiz_id)
        assert surveys.pending_count(quiz) == 0
        assert not surveys.has_taken(quiz, user("student1"))
