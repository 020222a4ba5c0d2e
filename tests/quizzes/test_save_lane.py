"""The autosave lane: bearer saves group-committed in front of Flask, under the same rules.

Committed rows (the ``committed`` fixture): the lane writes on its own connection. Each test puts
a lane in front of the route itself (``route_only``: without the lanes the suite runs in front of
the app, see tests/conftest.py), to count what that lane answered.
"""

from __future__ import annotations

import json
import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import create_engine, select
from werkzeug.test import Client

from elearn.extensions import db
from elearn.service import accounts
from quizzes import service
from quizzes.lanes import SaveLane, StartLane
from quizzes.lanes.base import install
from quizzes.lanes.save_batch import BearerSave, save_bearer_answers
from quizzes.models import AttemptSlot
from tests.conftest import user
from tests.quizzes.conftest import route_only


def _exam(app, quiz_factory, committed, username="student1"):
    """A committed attempt of ``username`` at a quiz of every type, a token, the question ids."""
    quiz = quiz_factory()
    committed.append(quiz.id)
    attempt = service.start_attempt(actor=user(username), quiz=quiz)
    token, _ = accounts.issue_api_token(user=user(username), hours=1)
    by_type = {slot.version.type: slot.question_id for slot in attempt.slots}
    attempt_id = attempt.id
    db.session.commit()
    db.session.remove()
    return attempt_id, token, by_type


def _laned(app, quiz_factory, committed):
    """An attempt (``_exam``), a lane in front of the app and a client through it, and a first
    save of the single-choice question (on the route: the process reads its versions there)."""
    attempt_id, token, by_type = _exam(app, quiz_factory, committed)
    lane = SaveLane(app, route_only(app))
    client = Client(lane)
    first = _put(
        client, attempt_id, by_type["single_choice"], token, {"answer": "opt-wrong", "seq": 1}
    )
    assert first.status_code == 200
    return attempt_id, token, by_type, lane, client


def _put(client, attempt_id, question_id, token, body):
    return client.put(
        f"/api/v1/attempts/{attempt_id}/answers/{question_id}",
        data=json.dumps(body),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )


def _stored(attempt_id):
    db.session.remove()
    rows = db.session.execute(
        select(AttemptSlot.question_id, AttemptSlot.seq, AttemptSlot.answer).where(
            AttemptSlot.attempt_id == attempt_id
        )
    )
    return {row.question_id: (row.seq, row.answer) for row in rows}


ANSWERS = {
    "single_choice": ["opt-right", "opt-wrong"],
    "true_false": [True, False],
    "short_answer": ["远离毒品。", "告诉老师！"],
}


def test_parallel_saves_are_answered_by_the_lane_and_stored_as_sent(app, quiz_factory, committed):
    attempt_id, token, by_type = _exam(app, quiz_factory, committed)
    lane = SaveLane(app, route_only(app))
    client = Client(lane)
    # the first save of each question goes on to Flask: this process reads its versions there
    for kind, question_id in by_type.items():
        if kind in ANSWERS:
            assert (
                _put(client, attempt_id, question_id, token, {"answer": None, "seq": 1}).status_code
                == 200
            )
    assert lane.answered == 0
    sends = [
        (question_id, seq, ANSWERS[kind][seq % 2])
        for kind, question_id in by_type.items()
        if kind in ANSWERS
        for seq in range(2, 12)
    ]
    barrier = threading.Barrier(len(sends))
    replies: list[tuple[int, int, dict]] = []

    def send(question_id, seq, answer):
        barrier.wait()
        reply = _put(Client(lane), attempt_id, question_id, token, {"answer": answer, "seq": seq})
        replies.append((question_id, reply.status_code, reply.get_json()))

    threads = [threading.Thread(target=send, args=args) for args in sends]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    newest = {}
    for question_id, status, body in replies:
        if status == 200:
            newest[question_id] = max(newest.get(question_id, 0), body["seq"])
            assert set(body) == {
                "question_id",
                "seq",
                "saved_at",
                "deadline",
                "server_now",
                "seconds_left",
            }
        else:  # an older seq that came in after a newer one: refused, as by the route
            assert status == 409 and body["message"], body
    assert lane.answered > 0, "the lane answered none of the saves"
    assert lane.answered <= len(sends)
    stored = _stored(attempt_id)
    for kind, question_id in by_type.items():
        if kind in ANSWERS:
            seq = newest[question_id]
            assert stored[question_id] == (seq, ANSWERS[kind][seq % 2])
    # every acknowledged save was the newest when it was stored: the last is the highest sent
    assert all(stored[q][0] == 11 for kind, q in by_type.items() if kind in ANSWERS)


def test_what_the_lane_refuses_the_route_answers_as_always(app, quiz_factory, committed):
    attempt_id, token, by_type, lane, client = _laned(app, quiz_factory, committed)
    choice = by_type["single_choice"]
    saved = _put(client, attempt_id, choice, token, {"answer": "opt-right", "seq": 5})
    assert saved.status_code == 200 and saved.get_json()["seq"] == 5
    assert lane.answered == 1
    assert saved.headers["X-Content-Type-Options"] == "nosniff"
    replay = _put(client, attempt_id, choice, token, {"answer": "opt-wrong", "seq": 5})
    assert replay.status_code == 409 and replay.get_json()["message"]
    misfit = _put(client, attempt_id, choice, token, {"answer": "no-such-option", "seq": 6})
    assert misfit.status_code == 400
    other_token, _ = accounts.issue_api_token(user=user("teacher1"), hours=1)
    db.session.commit()
    stranger = _put(client, attempt_id, choice, other_token, {"answer": "opt-wrong", "seq": 7})
    assert stranger.status_code == 404
    bad = _put(client, attempt_id, choice, "not-a-token", {"answer": "opt-wrong", "seq": 8})
    assert bad.status_code == 401
    assert _stored(attempt_id)[choice] == (5, "opt-right")
    with app.test_request_context():
        service.submit_attempt(actor=user("student1"), attempt_id=attempt_id)
        db.session.commit()
    late = _put(client, attempt_id, choice, token, {"answer": "opt-wrong", "seq": 9})
    assert late.status_code == 409 and late.get_json()["message"]
    assert _stored(attempt_id)[choice] == (5, "opt-right")


def test_of_two_saves_to_one_slot_in_a_batch_the_newest_is_stored(app, quiz_factory, committed):
    attempt_id, token, by_type = _exam(app, quiz_factory, committed)
    choice, truth = by_type["single_choice"], by_type["true_false"]
    versions = {
        q: db.session.scalar(
            select(AttemptSlot.version_id).where(
                AttemptSlot.attempt_id == attempt_id, AttemptSlot.question_id == q
            )
        )
        for q in (choice, truth)
    }

    def save(question_id, seq, answer):
        return BearerSave(
            token_hash=accounts.hash_token(token),
            key_hash=None,
            attempt_id=attempt_id,
            question_id=question_id,
            seq=seq,
            answer_json=json.dumps(answer),
            fitting=(versions[question_id],),
        )

    from datetime import UTC, datetime, timedelta

    with db.engine.connect() as connection:
        outcomes = save_bearer_answers(
            connection.execution_options(isolation_level="AUTOCOMMIT"),
            [save(choice, 7, "opt-right"), save(choice, 9, "opt-wrong"), save(truth, 3, None)],
            now=datetime.now(UTC),
            slack=timedelta(seconds=5),
        )
    assert [saved is not None for saved in outcomes] == [False, True, True]
    assert outcomes[1].seq == 9 and outcomes[2].question_id == truth
    stored = _stored(attempt_id)
    assert stored[choice] == (9, "opt-wrong")
    assert stored[truth] == (3, None), "a null answer is stored as JSON null, as by the route"


def test_a_failing_batch_leaves_the_saves_to_the_route(app, quiz_factory, committed):
    attempt_id, token, by_type, lane, client = _laned(app, quiz_factory, committed)
    choice = by_type["single_choice"]
    lane._engine = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")  # unreachable
    saved = _put(client, attempt_id, choice, token, {"answer": "opt-right", "seq": 2})
    assert (
        saved.status_code == 200 and lane.answered == 0 and lane.commits.items == 1
    )  # tried, failed, routed
    assert _stored(attempt_id)[choice] == (2, "opt-right")


def test_cookie_sessions_and_other_requests_pass_through(app, quiz_factory, committed):
    attempt_id, token, by_type = _exam(app, quiz_factory, committed)
    lane = SaveLane(app, route_only(app))
    client = Client(lane)
    url = f"/api/v1/attempts/{attempt_id}/answers/{by_type['true_false']}"
    # no token: the route's cookie session (here none: 401 from Flask)
    assert client.put(url, json={"answer": True, "seq": 1}).status_code in (400, 401)
    assert client.get("/healthz").status_code == 200
    auth = {"Authorization": f"Bearer {token}"}
    as_json = {**auth, "Content-Type": "application/json"}
    assert client.put(url, data="{", headers=as_json).status_code == 422
    # what Flask would not read as JSON, the lane does not either
    body = '{"answer": true, "seq": 2}'
    assert (
        client.put(url, data=body, headers={**auth, "Content-Type": "text/plain"}).status_code
        == 422
    )
    huge = f"/api/v1/attempts/{2**31}/answers/{by_type['true_false']}"
    assert client.put(huge, data=body, headers=as_json).status_code == 404
    assert lane.answered == 0


@pytest.mark.parametrize(
    ("lane", "setting"), [(SaveLane, "QUIZ_SAVE_LANE"), (StartLane, "QUIZ_START_LANE")]
)
def test_the_lanes_stand_in_front_of_postgresql_apps_only(lane, setting):
    for uri, expected in (
        ("postgresql+psycopg://db/x", True),
        ("sqlite:///instance/demo.db", False),
    ):
        app = Flask("probe")
        app.config["SQLALCHEMY_DATABASE_URI"] = uri
        install(app, lane, setting)
        assert isinstance(app.wsgi_app, lane) is expected
    app = Flask("probe")
    app.config.update({"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://db/x", setting: False})
    install(app, lane, setting)
    assert not isinstance(app.wsgi_app, lane)


def test_a_save_through_the_lane_carries_the_deadline_a_close_moved(app, quiz_factory, committed):
    attempt_id, token, by_type, lane, client = _laned(app, quiz_factory, committed)
    choice = by_type["single_choice"]
    first = _put(client, attempt_id, choice, token, {"answer": "opt-right", "seq": 2}).get_json()
    assert 590 <= first["seconds_left"] <= 600  # the quiz's ten minutes
    from datetime import UTC, datetime, timedelta

    from quizzes.models import Quiz, QuizAttempt

    with app.test_request_context():
        quiz = db.session.get(Quiz, db.session.get(QuizAttempt, attempt_id).quiz_id)
        closes = datetime.now(UTC) + timedelta(seconds=120)
        service.update_quiz(actor=user("teacher1"), quiz=quiz, changes={"closes_at": closes})
        db.session.commit()
    later = _put(client, attempt_id, choice, token, {"answer": "opt-wrong", "seq": 3})
    assert later.status_code == 200 and lane.answered == 2
    assert 100 <= later.get_json()["seconds_left"] <= 120
    assert later.get_json()["deadline"] == closes.isoformat()


def test_the_attempt_pages_saves_go_through_the_lane_with_its_save_key(
    app, quiz_factory, committed
):
    """The page is given a save key (the last page shown holds the only valid one); its saves
    carry the key beside the session and the CSRF token: the lane stores them, and what it
    refuses (an old key, another attempt) the route decides by the session as always."""
    from tests.conftest import signed_in_client

    attempt_id, _token, by_type = _exam(app, quiz_factory, committed)
    browser = signed_in_client(app, "student1")
    page = browser.get(f"/quizzes/attempts/{attempt_id}").get_data(as_text=True)
    key = re.search(r'data-save-key="([^"]+)"', page)[1]
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page)[1]
    lane = SaveLane(app, route_only(app))
    suite_lanes, app.wsgi_app = app.wsgi_app, lane  # the same client and cookies, this lane
    try:
        _through_the_lane(
            app, lane, browser, attempt_id, by_type, key, csrf, quiz_factory, committed
        )
    finally:
        app.wsgi_app = suite_lanes


def _through_the_lane(app, lane, browser, attempt_id, by_type, key, csrf, quiz_factory, committed):
    choice = by_type["single_choice"]
    url = f"/api/v1/attempts/{attempt_id}/answers/{choice}"
    headers = {"X-CSRFToken": csrf, "X-Attempt-Key": key}
    # the first save of a question in this process reads its versions on the route
    assert (
        browser.put(url, json={"answer": "opt-wrong", "seq": 1}, headers=headers).status_code == 200
    )
    through = lane.answered
    saved = browser.put(url, json={"answer": "opt-right", "seq": 2}, headers=headers)
    assert saved.status_code == 200 and lane.answered == through + 1
    # a second page (another tab, a reload) takes the key over: the first tab's saves still go
    # through, on the route with its session
    browser.get(f"/quizzes/attempts/{attempt_id}")
    old = browser.put(url, json={"answer": "opt-wrong", "seq": 3}, headers=headers)
    assert old.status_code == 200 and lane.answered == through + 1
    assert _stored(attempt_id)[choice] == (3, "opt-wrong")
    # the key writes to its own attempt only: not to another student's
    current = re.search(
        r'data-save-key="([^"]+)"', browser.get(f"/quizzes/attempts/{attempt_id}").get_data(True)
    )[1]
    other_id, _other_token, other_types = _exam(
        app, quiz_factory, committed, username="s_S0101_5_01"
    )
    other_url = f"/api/v1/attempts/{other_id}/answers/{other_types['single_choice']}"
    refused = browser.put(
        other_url,
        json={"answer": "opt-right", "seq": 9},
        headers={"X-CSRFToken": csrf, "X-Attempt-Key": current},
    )
    assert refused.status_code == 404 and lane.answered == through + 1
    assert _stored(other_id)[other_types["single_choice"]][0] == 0
    # a password reset ends every session, and the page's key with them: to the route, 401
    from elearn.service.accounts import end_all_sessions

    with app.app_context():
        end_all_sessions(user("student1"))
        db.session.commit()
    ended = browser.put(
        url,
        json={"answer": "opt-right", "seq": 10},
        headers={"X-CSRFToken": csrf, "X-Attempt-Key": current},
    )
    assert ended.status_code in (401, 302) and lane.answered == through + 1
    assert _stored(attempt_id)[choice] == (3, "opt-wrong")


def _multiple_answer_quiz(committed):
    """A committed quiz for student1's class of three multiple-answer questions (two drugs of
    four options): one stored as before the scoring mode existed (no mode, the wrong options
    without a weight), one all-or-nothing, one in the penalty mode."""
    from quizzes.interchange import QuestionDraft
    from tests.conftest import unit_by_code

    teacher = user("teacher1")
    klass = next(a.unit for a in teacher.roles if a.role == "teacher")
    bank = service.create_bank(actor=teacher, name="多选题库", unit=unit_by_code("S0101"))
    options = [
        {"id": i, "text": t} for i, t in zip("abcd", ["海洛因", "冰毒", "维C", "水"], strict=True)
    ]
    grading = {"fractions": {"a": 0.5, "b": 0.5}}
    modes = {"旧题": None, "全对才得分": "all_or_nothing", "错选扣分": "penalty"}
    questions = {
        stem: service.add_question(
            actor=teacher,
            bank=bank,
            draft=QuestionDraft(
                type="multiple_choice",
                stem=stem,
                data={"options": options, **({"scoring": mode} if mode else {})},
                grading=grading,
            ),
        )
        for stem, mode in modes.items()
    }
    now = datetime.now(UTC)
    quiz = service.create_quiz(
        actor=teacher,
        unit=klass,
        title="多选测验",
        items=[{"question_id": q.id, "mark": 2} for q in questions.values()],
        audience=[(klass, "student")],
        opens_at=now - timedelta(hours=1),
        closes_at=now + timedelta(days=1),
        time_limit_seconds=600,
        review_policy="immediately",
        publish=True,
    )
    committed.append(quiz.id)
    ids = {stem: q.id for stem, q in questions.items()}
    quiz_id = quiz.id
    db.session.commit()
    db.session.remove()
    return quiz_id, ids


def test_through_both_lanes_ticking_every_box_earns_nothing(app, committed):
    """Started by the start lane, saved by the autosave lane, submitted on the route: the
    grading holds whichever door the answers came through."""
    quiz_id, ids = _multiple_answer_quiz(committed)
    token, _ = accounts.issue_api_token(user=user("student1"), hours=1)
    db.session.commit()
    saves = SaveLane(app, route_only(app))
    starts = StartLane(app, saves)
    client = Client(starts)
    auth = {"Authorization": f"Bearer {token}"}
    started = client.post(f"/api/v1/quizzes/{quiz_id}/attempts", headers=auth)
    assert started.status_code == 201 and starts.answered == 1
    view = started.get_json()
    assert {q["id"]: q["scoring"] for q in view["questions"]} == {
        ids["旧题"]: "penalty",
        ids["全对才得分"]: "all_or_nothing",
        ids["错选扣分"]: "penalty",
    }
    ticked = {"旧题": ["a", "b", "c", "d"], "全对才得分": ["a", "b", "c"], "错选扣分": ["a", "b"]}
    attempt_id = view["attempt_id"]
    for stem, answer in ticked.items():
        # the first save of a question reads its versions on the route; the second is the lane's
        assert (
            _put(client, attempt_id, ids[stem], token, {"answer": None, "seq": 1}).status_code
            == 200
        )
        assert (
            _put(client, attempt_id, ids[stem], token, {"answer": answer, "seq": 2}).status_code
            == 200
        )
    assert saves.answered == 3
    result = client.post(f"/api/v1/attempts/{attempt_id}/submit", headers=auth)
    assert result.status_code == 200
    earned = {i["id"]: i["fraction"] for i in result.get_json()["review"]}
    assert earned == {ids["旧题"]: 0.0, ids["全对才得分"]: 0.0, ids["错选扣分"]: 1.0}
    assert result.get_json()["score"] == 2.0


def test_a_save_after_the_deadline_and_its_slack_is_refused_alike_by_the_lane_and_the_route(
    app, quiz_factory, committed
):
    """The lane refuses it (so the route answers: 409, time up, in the caller's language) the
    same as the route alone does; a submission within the grace then grades what was saved in
    time. A save within the slack the lane stores itself."""
    slack = app.config["QUIZ_SAVE_SLACK_SECONDS"]
    quiz = quiz_factory(time_limit_seconds=60, types={"true_false", "single_choice"})
    committed.append(quiz.id)
    student = user("student1")
    start = datetime.now(UTC) - timedelta(seconds=60 + slack + 1)  # deadline: slack + 1 s ago
    attempt = service.start_attempt(actor=student, quiz=quiz, now=start)
    tf = next(s.question_id for s in attempt.slots if s.version.type == "true_false")
    sc = next(s.question_id for s in attempt.slots if s.version.type == "single_choice")
    for question_id, answer in ((tf, True), (sc, "opt-right")):  # in time (tf wrongly)
        service.save_answer(
            actor=student,
            attempt_id=attempt.id,
            question_id=question_id,
            answer=answer,
            seq=1,
            now=start,
        )
    token, _ = accounts.issue_api_token(user=student, hours=1)
    attempt_id = attempt.id
    db.session.commit()
    db.session.remove()
    lane = SaveLane(app, route_only(app))
    through_lane = _put(Client(lane), attempt_id, tf, token, {"answer": False, "seq": 2})
    assert lane.commits.items == 1 and lane.answered == 0  # tried there, refused there
    alone = _put(Client(route_only(app)), attempt_id, tf, token, {"answer": False, "seq": 2})
    assert through_lane.status_code == alone.status_code == 409
    assert through_lane.get_json() == alone.get_json()
    assert through_lane.get_json()["time_up"] is True
    assert "时间已到" in through_lane.get_json()["message"]
    assert _stored(attempt_id)[tf] == (1, True)
    submitted = Client(lane).post(
        f"/api/v1/attempts/{attempt_id}/submit", headers={"Authorization": f"Bearer {token}"}
    )
    assert submitted.status_code == 200  # within the grace
    assert submitted.get_json()["closed_reason"] == "submitted"
    assert submitted.get_json()["score"] == 2.0  # the choice saved in time, not the late answer

    other = quiz_factory(time_limit_seconds=60, types={"true_false"})
    committed.append(other.id)
    start = datetime.now(UTC) - timedelta(seconds=61)  # deadline: 1 s ago, within the slack
    in_flight = service.start_attempt(actor=user("student1"), quiz=other, now=start)
    in_flight_id, question_id = in_flight.id, in_flight.slots[0].question_id
    service.save_answer(  # in time (and this process reads the question's versions)
        actor=user("student1"),
        attempt_id=in_flight_id,
        question_id=question_id,
        answer=True,
        seq=1,
        now=start,
    )
    db.session.commit()
    db.session.remove()
    kept = _put(Client(lane), in_flight_id, question_id, token, {"answer": False, "seq": 2})
    assert kept.status_code == 200 and lane.answered == 1
    assert _stored(in_flight_id)[question_id] == (2, False)
