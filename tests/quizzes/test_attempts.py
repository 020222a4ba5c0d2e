"""Attempts decided by the server: each rule of the issue's point 4, each by a test."""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select

from elearn.extensions import db
from elearn.models import AuditEvent
from elearn.service.errors import ServiceError
from quizzes import service
from quizzes.models import AttemptSlot, Quiz, QuizAttempt
from tests.conftest import csrf_token, user
from tests.quizzes.conftest import SECRET, bearer, route_only


def slot_of(attempt, qtype):
    return next(s for s in attempt.slots if s.version.type == qtype)


def test_deadline_is_the_earlier_of_limit_and_close(quiz_factory):
    now = datetime.now(UTC)
    quiz = quiz_factory(time_limit_seconds=600, closes_at=now + timedelta(seconds=300))
    attempt = service.start_attempt(actor=user("student1"), quiz=quiz, now=now)
    assert attempt.deadline_at == now + timedelta(seconds=300)
    other = quiz_factory(time_limit_seconds=600, closes_at=now + timedelta(days=1))
    attempt = service.start_attempt(actor=user("student1"), quiz=other, now=now)
    assert attempt.deadline_at == now + timedelta(seconds=600)


def test_window_and_attempts_allowed(quiz_factory):
    now = datetime.now(UTC)
    later = quiz_factory(opens_at=now + timedelta(hours=1))
    with pytest.raises(ServiceError) as error:
        service.start_attempt(actor=user("student1"), quiz=later)
    assert error.value.status == 409
    once = quiz_factory(attempts_allowed=1)
    attempt = service.start_attempt(actor=user("student1"), quiz=once)
    service.submit_attempt(actor=user("student1"), attempt_id=attempt.id)
    with pytest.raises(ServiceError):
        service.start_attempt(actor=user("student1"), quiz=once)


def test_outside_the_audience_is_not_found(quiz_factory):
    quiz = quiz_factory()
    with pytest.raises(ServiceError) as error:
        service.start_attempt(actor=user("s_S0201_5_01"), quiz=quiz)
    assert error.value.status == 404


def test_starting_again_resumes_with_saved_answers(quiz_factory):
    quiz = quiz_factory()
    student = user("student1")
    first = service.start_attempt(actor=student, quiz=quiz)
    tf = slot_of(first, "true_false")
    service.save_answer(
        actor=student, attempt_id=first.id, question_id=tf.question_id, answer=False, seq=1
    )
    again = service.start_attempt(actor=student, quiz=quiz)
    assert again.id == first.id
    view = service.attempt_view(again)
    assert view["answers"][str(tf.question_id)] == {"answer": False, "seq": 1}
    assert [q["id"] for q in view["questions"]] == [
        q["id"] for q in service.attempt_view(first)["questions"]
    ]


def test_sequence_numbers_reject_replays_and_older_saves(quiz_factory):
    quiz = quiz_factory()
    student = user("student1")
    attempt = service.start_attempt(actor=student, quiz=quiz)
    qid = slot_of(attempt, "single_choice").question_id
    service.save_answer(
        actor=student, attempt_id=attempt.id, question_id=qid, answer="opt-wrong", seq=1
    )
    service.save_answer(
        actor=student, attempt_id=attempt.id, question_id=qid, answer="opt-right", seq=3
    )
    for stale in (3, 2):  # a double click replays 3; the back button or a second tab sends 2
        with pytest.raises(ServiceError) as error:
            service.save_answer(
                actor=student, attempt_id=attempt.id, question_id=qid, answer="opt-wrong", seq=stale
            )
        assert error.value.status == 409
    slot = db.session.scalar(
        select(AttemptSlot).where(
            AttemptSlot.attempt_id == attempt.id, AttemptSlot.question_id == qid
        )
    )
    assert (slot.answer, slot.seq) == ("opt-right", 3)
    with pytest.raises(ServiceError) as error:
        service.save_answer(
            actor=student, attempt_id=attempt.id, question_id=qid, answer="opt-right", seq=0
        )
    assert error.value.status == 400
    with pytest.raises(ServiceError):
        service.save_answer(
            actor=student, attempt_id=attempt.id, question_id=qid, answer="no-such-option", seq=4
        )


def test_only_the_owner_can_write(quiz_factory):
    quiz = quiz_factory()
    attempt = service.start_attempt(actor=user("student1"), quiz=quiz)
    qid = attempt.slots[0].question_id
    classmate = user("s_S0101_5_01")
    with pytest.raises(ServiceError) as error:
        service.save_answer(
            actor=classmate, attempt_id=attempt.id, question_id=qid, answer=None, seq=1
        )
    assert error.value.status == 404
    with pytest.raises(ServiceError) as error:
        service.submit_attempt(actor=classmate, attempt_id=attempt.id)
    assert error.value.status == 404


def test_finished_attempt_cannot_be_written(quiz_factory):
    quiz = quiz_factory()
    student = user("student1")
    attempt = service.start_attempt(actor=student, quiz=quiz)
    qid = slot_of(attempt, "true_false").question_id
    service.submit_attempt(actor=student, attempt_id=attempt.id)
    with pytest.raises(ServiceError) as error:
        service.save_answer(
            actor=student, attempt_id=attempt.id, question_id=qid, answer=False, seq=9
        )
    assert error.value.status == 409
    with pytest.raises(ServiceError) as error:
        service.submit_attempt(actor=student, attempt_id=attempt.id)
    assert error.value.status == 409


def test_grading_and_score(quiz_factory):
    quiz = quiz_factory(pass_mark=50)
    student = user("student1")
    attempt = service.start_attempt(actor=student, quiz=quiz)
    answers = {
        "single_choice": "opt-right",
        "multiple_choice": ["m1"],
        "true_false": True,
        "fill_blank": [f"{SECRET}吸"],
        "matching": {"p1": "c1", "p2": "c2"},
        "ordering": ["o1", "o2", "o3"],
        "short_answer": "我会告诉他毒品的危害",
    }
    for seq, (qtype, answer) in enumerate(answers.items(), start=1):
        service.save_answer(
            actor=student,
            attempt_id=attempt.id,
            question_id=slot_of(attempt, qtype).question_id,
            answer=answer,
            seq=seq,
        )
    result = service.submit_attempt(actor=student, attempt_id=attempt.id).attempt
    # 2 marks each: 2 + 1 + 0 + 2 + 2 + 2, the short answer waits for the teacher
    assert result.score == 9.0 and result.max_score == 14.0
    assert result.needs_manual_grading and result.passed is None
    graded = service.grade_slot(
        actor=user("teacher1"), slot=slot_of(result, "short_answer"), points=2.0
    )
    assert graded.score == 11.0 and graded.passed is True and not graded.needs_manual_grading


def test_late_submission_is_refused_but_closes_and_grades_what_was_saved(app, quiz_factory):
    quiz = quiz_factory(time_limit_seconds=60, types={"true_false", "single_choice"})
    student = user("student1")
    start = datetime.now(UTC) - timedelta(seconds=200)
    attempt = service.start_attempt(actor=student, quiz=quiz, now=start)
    tf = slot_of(attempt, "true_false").question_id
    sc = slot_of(attempt, "single_choice").question_id
    service.save_answer(
        actor=student,
        attempt_id=attempt.id,
        question_id=tf,
        answer=False,
        seq=1,
        now=start + timedelta(seconds=30),
    )
    grace = app.config["QUIZ_SUBMIT_GRACE_SECONDS"]
    with pytest.raises(ServiceError) as error:  # after the deadline and its grace, no more saves
        service.save_answer(
            actor=student,
            attempt_id=attempt.id,
            question_id=sc,
            answer="opt-right",
            seq=1,
            now=start + timedelta(seconds=60 + grace + 1),
        )
    assert error.value.status == 409
    result = service.submit_attempt(actor=student, attempt_id=attempt.id)
    assert result.late
    assert result.attempt.state == "finished" and result.attempt.closed_reason == "late"
    assert result.attempt.score == 2.0  # the true/false saved in time; nothing else


def test_submission_within_the_grace_is_accepted(app, quiz_factory):
    quiz = quiz_factory(time_limit_seconds=60)
    student = user("student1")
    grace = app.config["QUIZ_SUBMIT_GRACE_SECONDS"]
    start = datetime.now(UTC) - timedelta(seconds=60 + grace - 5)
    attempt = service.start_attempt(actor=student, quiz=quiz, now=start)
    result = service.submit_attempt(actor=student, attempt_id=attempt.id)
    assert not result.late and result.attempt.closed_reason == "submitted"


def test_late_submit_over_the_api_is_409_with_a_message(app, client, quiz_factory):
    quiz = quiz_factory(time_limit_seconds=60)
    attempt = service.start_attempt(
        actor=user("student1"), quiz=quiz, now=datetime.now(UTC) - timedelta(minutes=10)
    )
    headers = bearer("student1")
    db.session.commit()
    response = client.post(f"/api/v1/attempts/{attempt.id}/submit", headers=headers)
    assert response.status_code == 409
    body = response.get_json()
    assert "时间" in body["message"] and body["state"] == "finished" and body["score"] == 0.0


def test_periodic_task_closes_expired_and_abandoned_attempts(app, quiz_factory):
    from quizzes.tasks import close_expired_attempts

    timed = quiz_factory(time_limit_seconds=60)
    untimed = quiz_factory(
        time_limit_seconds=None, closes_at=None, opens_at=datetime.now(UTC) - timedelta(days=3)
    )
    running = quiz_factory(time_limit_seconds=600)
    now = datetime.now(UTC)
    expired = service.start_attempt(
        actor=user("student1"), quiz=timed, now=now - timedelta(minutes=5)
    )
    abandoned = service.start_attempt(
        actor=user("student1"), quiz=untimed, now=now - timedelta(days=2)
    )
    current = service.start_attempt(actor=user("student1"), quiz=running)
    db.session.commit()
    ids = (expired.id, abandoned.id, current.id)
    close_expired_attempts.apply()  # run here and now, whatever the Celery config
    expired, abandoned, current = (db.session.get(QuizAttempt, i) for i in ids)
    assert (expired.state, expired.closed_reason) == ("finished", "expired")
    assert (abandoned.state, abandoned.closed_reason) == ("finished", "abandoned")
    assert current.state == "in_progress"
    assert close_expired_attempts.apply().get() == 0  # idempotent


def test_beat_schedule_runs_the_sweep(app):
    schedule = app.extensions["celery"].conf.beat_schedule
    assert any(entry["task"] == "quizzes.close_expired_attempts" for entry in schedule.values())


def test_editing_a_question_does_not_change_a_served_attempt(quiz_factory):
    from quizzes.models import Question
    from quizzes.service.bank import draft_of

    quiz = quiz_factory(types={"true_false"})
    student = user("student1")
    attempt = service.start_attempt(actor=student, quiz=quiz)
    slot = attempt.slots[0]
    question = db.session.get(Question, slot.question_id)
    draft = draft_of(question)
    draft.grading = {"correct": True}
    version = service.edit_question(actor=user("teacher1"), question=question, draft=draft)
    assert version.number == 2 and question.current_version_id == version.id
    service.save_answer(
        actor=student, attempt_id=attempt.id, question_id=slot.question_id, answer=False, seq=1
    )
    result = service.submit_attempt(actor=student, attempt_id=attempt.id).attempt
    assert result.score == 2.0  # graded against version 1, the one served


def test_a_version_made_after_the_versions_were_read_is_saved_to(quiz_factory):
    from quizzes.models import Question
    from quizzes.service.bank import draft_of

    quiz = quiz_factory(types={"single_choice"}, attempts_allowed=2)
    student = user("student1")
    first = service.start_attempt(actor=student, quiz=quiz)
    qid = first.slots[0].question_id
    service.save_answer(
        actor=student, attempt_id=first.id, question_id=qid, answer="opt-right", seq=1
    )
    service.submit_attempt(actor=student, attempt_id=first.id)
    # the teacher adds an option: a new version, which the next attempt serves
    question = db.session.get(Question, qid)
    draft = draft_of(question)
    draft.data = {"options": [*draft.data["options"], {"id": "opt-new", "text": "6月27日"}]}
    service.edit_question(actor=user("teacher1"), question=question, draft=draft)
    second = service.start_attempt(actor=student, quiz=quiz)
    service.save_answer(
        actor=student, attempt_id=second.id, question_id=qid, answer="opt-new", seq=1
    )
    assert db.session.get(AttemptSlot, second.slots[0].id).answer == "opt-new"
    # an answer that fits no version of the question is refused
    with pytest.raises(ServiceError) as error:
        service.save_answer(
            actor=student, attempt_id=second.id, question_id=qid, answer="zz", seq=2
        )
    assert error.value.status == 400


def _payloads_before_review(client, headers, quiz_id):
    seen = []
    response = client.get("/api/v1/quizzes", headers=headers)
    seen.append(response.get_data(as_text=True))
    started = client.post(f"/api/v1/quizzes/{quiz_id}/attempts", headers=headers)
    assert started.status_code == 201
    seen.append(started.get_data(as_text=True))
    body = started.get_json()
    for seq, question in enumerate(body["questions"], start=1):
        saved = client.put(
            f"/api/v1/attempts/{body['attempt_id']}/answers/{question['id']}",
            headers=headers,
            json={"answer": None, "seq": seq},
        )
        assert saved.status_code == 200
        seen.append(saved.get_data(as_text=True))
    seen.append(
        client.get(f"/api/v1/attempts/{body['attempt_id']}", headers=headers).get_data(as_text=True)
    )
    seen.append(
        client.get(f"/quizzes/attempts/{body['attempt_id']}", headers=headers).get_data(
            as_text=True
        )
    )
    return body, seen


@pytest.mark.parametrize("policy", ["never", "after_close", "immediately"])
def test_answers_never_reach_the_client_before_review(client, quiz_factory, policy):
    quiz = quiz_factory(review_policy=policy)
    headers = bearer("student1")
    db.session.commit()
    body, seen = _payloads_before_review(client, headers, quiz.id)
    for payload in seen:
        assert SECRET not in payload
        for key in ("fractions", "pairs", "order", "correct_answer", "reference", "grading"):
            assert f'"{key}"' not in payload
    submitted = client.post(f"/api/v1/attempts/{body['attempt_id']}/submit", headers=headers)
    assert submitted.status_code == 200
    text = submitted.get_data(as_text=True)
    assert (SECRET in text) is (policy == "immediately")
    review = submitted.get_json()["review"]
    assert (review is not None) is (policy == "immediately")


def test_review_after_close_opens_when_the_quiz_closes(quiz_factory):
    now = datetime.now(UTC)
    quiz = quiz_factory(review_policy="after_close", closes_at=now + timedelta(hours=1))
    student = user("student1")
    attempt = service.start_attempt(actor=student, quiz=quiz)
    service.submit_attempt(actor=student, attempt_id=attempt.id)
    assert service.review_view(attempt)["review"] is None
    after = service.review_view(attempt, now=now + timedelta(hours=2))
    assert after["review"] and SECRET in json.dumps(after, ensure_ascii=False)


def test_twenty_parallel_finishes_grade_once(app, quiz_factory, committed):
    """20 real connections submit at once; exactly one grades (committed data, cleaned up)."""
    import threading

    from elearn.service import accounts

    with app.test_request_context():
        quiz = quiz_factory(types={"true_false"})
        committed.append(quiz.id)
        attempt = service.start_attempt(actor=user("student1"), quiz=quiz)
        token, _ = accounts.issue_api_token(user=user("student1"), hours=1)
        attempt_id = attempt.id
        db.session.commit()
        db.session.remove()
    barrier = threading.Barrier(20)
    statuses: list[int] = []

    def finish():
        c = app.test_client()
        barrier.wait()
        response = c.post(
            f"/api/v1/attempts/{attempt_id}/submit",
            headers={"Authorization": f"Bearer {token}"},
        )
        statuses.append(response.status_code)
        db.session.remove()

    threads = [threading.Thread(target=finish) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] + [409] * 19
    with app.app_context():
        graded = db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "quiz.attempt_graded",
                AuditEvent.target_id == str(attempt_id),
            )
        ).all()
        assert len(graded) == 1
        assert db.session.get(QuizAttempt, attempt_id).state == "finished"


@contextmanager
def statements():
    """The SQL statements sent while the block runs (no timing: what the hot paths cost)."""
    seen: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        if "SAVEPOINT" not in statement:  # the test's own transaction wrapping
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", note)


def test_hot_paths_take_a_fixed_few_statements(app, client, quiz_factory):
    """A start costs the same whatever the number of questions; a save is one statement (after
    its question's versions are read, once per process). The route's statements: the lanes the
    suite runs in front of it (which leave these uncommitted rows to it) are set aside."""
    suite_lanes, app.wsgi_app = app.wsgi_app, route_only(app)
    try:
        _hot_paths(client, quiz_factory)
    finally:
        app.wsgi_app = suite_lanes


def _hot_paths(client, quiz_factory):
    one = quiz_factory(types={"true_false"})
    every_type = quiz_factory()
    headers = bearer("student1")
    db.session.commit()
    counts = []
    for quiz in (one, every_type):
        with statements() as seen:
            started = client.post(f"/api/v1/quizzes/{quiz.id}/attempts", headers=headers)
        assert started.status_code == 201
        counts.append(len(seen))
    assert counts[0] == counts[1], "a query per question crept into the start"
    body = started.get_json()
    question = next(q for q in body["questions"] if q["type"] == "true_false")
    url = f"/api/v1/attempts/{body['attempt_id']}/answers/{question['id']}"
    with statements() as seen:
        saved = client.put(url, json={"answer": True, "seq": 1}, headers=headers)
    assert saved.status_code == 200 and saved.get_json()["seq"] == 1
    # the question's versions are read once per process (they never change); then one statement
    # checks the token, the owner, the state, the deadline, the version and the seq, and writes
    assert len(seen) == 2 and "quiz_question_versions" in seen[0], seen
    assert "FOR SHARE" in seen[1] and "api_tokens" in seen[1]
    with statements() as seen:
        saved = client.put(url, json={"answer": False, "seq": 2}, headers=headers)
    assert saved.status_code == 200 and len(seen) == 1, seen


def _started(client, quiz_factory, headers):
    quiz = quiz_factory(types={"true_false", "single_choice"})
    db.session.commit()
    body = client.post(f"/api/v1/quizzes/{quiz.id}/attempts", headers=headers).get_json()
    by_type = {q["type"]: q["id"] for q in body["questions"]}
    return body["attempt_id"], by_type


def test_a_save_that_does_not_fit_keeps_the_saved_answer(client, quiz_factory):
    headers = bearer("student1")
    attempt_id, by_type = _started(client, quiz_factory, headers)
    url = f"/api/v1/attempts/{attempt_id}/answers/{by_type['single_choice']}"
    assert (
        client.put(url, json={"answer": "opt-wrong", "seq": 1}, headers=headers).status_code == 200
    )
    refused = client.put(url, json={"answer": "no-such-option", "seq": 2}, headers=headers)
    assert refused.status_code == 400 and refused.get_json()["message"]
    slot = db.session.scalar(
        select(AttemptSlot).where(
            AttemptSlot.attempt_id == attempt_id,
            AttemptSlot.question_id == by_type["single_choice"],
        )
    )
    assert (slot.answer, slot.seq) == ("opt-wrong", 1)
    # the refused seq was not spent: the next save with it goes through
    assert (
        client.put(url, json={"answer": "opt-right", "seq": 2}, headers=headers).status_code == 200
    )


def test_a_save_with_a_refused_token_is_401_and_says_why(app, client, quiz_factory):
    from elearn.models import ApiToken

    headers = bearer("student1")
    attempt_id, by_type = _started(client, quiz_factory, headers)
    url = f"/api/v1/attempts/{attempt_id}/answers/{by_type['true_false']}"
    token = db.session.scalars(select(ApiToken).order_by(ApiToken.id.desc())).first()
    token.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    db.session.commit()
    expired = client.put(url, json={"answer": True, "seq": 1}, headers=headers)
    assert expired.status_code == 401 and "过期" in expired.get_json()["message"]
    token.expires_at = datetime.now(UTC) + timedelta(hours=1)
    token.revoked_at = datetime.now(UTC)
    db.session.commit()
    revoked = client.put(url, json={"answer": True, "seq": 2}, headers=headers)
    assert revoked.status_code == 401 and "无效" in revoked.get_json()["message"]
    token.revoked_at = None
    user("student1").is_active_account = False
    db.session.commit()
    disabled = client.put(url, json={"answer": True, "seq": 3}, headers=headers)
    assert disabled.status_code == 401 and "停用" in disabled.get_json()["message"]
    anonymous = app.test_client().put(url, json={"answer": True, "seq": 4})
    assert anonymous.status_code == 401
    assert all(
        s.seq == 0
        for s in db.session.scalar(select(QuizAttempt).where(QuizAttempt.id == attempt_id)).slots
    )


def test_a_signed_in_page_saves_with_its_session(client, quiz_factory, signed_in):
    headers = bearer("student1")
    attempt_id, by_type = _started(client, quiz_factory, headers)
    page = signed_in("student1")
    url = f"/api/v1/attempts/{attempt_id}/answers/{by_type['true_false']}"
    forged = page.put(url, json={"answer": False, "seq": 1})
    assert forged.status_code == 400  # a cookie session must send the page's CSRF token
    csrf = {"X-CSRFToken": csrf_token(page, "/")}
    assert page.put(url, json={"answer": False, "seq": 1}, headers=csrf).status_code == 200
    classmate = signed_in("s_S0101_5_01")
    theirs = classmate.put(
        url, json={"answer": True, "seq": 2}, headers={"X-CSRFToken": csrf_token(classmate, "/")}
    )
    assert theirs.status_code == 404


def test_saves_and_the_clock_tell_the_page_of_a_close_that_moved_its_deadline(
    app, client, quiz_factory
):
    """The countdown is set again from each save's reply and from the clock the page asks
    for; both carry the deadline as the server has it now."""
    headers = bearer("student1")
    attempt_id, by_type = _started(client, quiz_factory, headers)
    url = f"/api/v1/attempts/{attempt_id}/answers/{by_type['true_false']}"
    first = client.put(url, json={"answer": True, "seq": 1}, headers=headers).get_json()
    assert 590 <= first["seconds_left"] <= 600 and first["deadline"]
    clock = client.get(f"/api/v1/attempts/{attempt_id}/clock", headers=headers).get_json()
    assert clock["state"] == "in_progress" and clock["deadline"] == first["deadline"]
    with app.test_request_context():
        quiz = db.session.get(QuizAttempt, attempt_id).quiz
        service.close_quiz(actor=user("teacher1"), quiz=quiz)
        db.session.commit()
    later = client.put(url, json={"answer": False, "seq": 2}, headers=headers).get_json()
    assert later["seconds_left"] == 0  # saved within the grace, and told time is up
    clock = client.get(f"/api/v1/attempts/{attempt_id}/clock", headers=headers).get_json()
    assert clock["seconds_left"] == 0 and clock["deadline"] == later["deadline"]
    assert client.get(f"/api/v1/attempts/{attempt_id}/clock").status_code == 401


def test_a_slot_holds_a_version_of_its_own_question(quiz_factory):
    """One key (version, question) guards a slot: the version exists and is the question's."""
    from sqlalchemy.exc import IntegrityError

    attempt = service.start_attempt(actor=user("student1"), quiz=quiz_factory())
    first, second = attempt.slots[0], attempt.slots[1]
    db.session.flush()
    for wrong in ({"version_id": second.version_id}, {"version_id": 2**31 - 1}):
        with pytest.raises(IntegrityError), db.session.begin_nested():
            db.session.execute(
                AttemptSlot.__table__.update()
                .where(AttemptSlot.__table__.c.id == first.id)
                .values(**wrong)
            )


def _start_over_the_api(client, quiz_id, headers):
    started = client.post(f"/api/v1/quizzes/{quiz_id}/attempts", headers=headers)
    assert started.status_code in (200, 201), started.get_json()
    return started.get_json()


def test_ticking_every_box_of_the_demo_banks_multiple_answer_question_earns_nothing(client):
    """The demo quiz's "下列哪些属于毒品？" (three drugs and vitamin C): every box ticked is 0
    points, the three drugs alone the full 10; over the API, as a scripted client would."""
    from quizzes.seed import QUIZ_TITLE

    quiz_id = db.session.scalar(select(Quiz.id).where(Quiz.title == QUIZ_TITLE))
    headers = bearer("student1")
    for ticked, points in (("every option", 0.0), ("the three drugs", 10.0)):
        view = _start_over_the_api(client, quiz_id, headers)
        question = next(q for q in view["questions"] if q["stem"] == "下列哪些属于毒品？")
        assert question["scoring"] == "penalty"
        options = [
            o["id"]
            for o in question["options"]
            if o["text"] != "维生素C" or ticked == "every option"
        ]
        saved = client.put(
            f"/api/v1/attempts/{view['attempt_id']}/answers/{question['id']}",
            json={"answer": options, "seq": 1},
            headers=headers,
        )
        assert saved.status_code == 200
        result = client.post(f"/api/v1/attempts/{view['attempt_id']}/submit", headers=headers)
        assert result.status_code == 200
        item = next(i for i in result.get_json()["review"] if i["id"] == question["id"])
        # (the three drugs' shares are stored rounded: 0.333333 each)
        assert item["fraction"] * item["mark"] == pytest.approx(points, abs=1e-4), ticked
        assert result.get_json()["score"] == pytest.approx(points, abs=1e-4)


def test_a_stored_question_whose_wrong_options_carry_no_weight_grades_with_the_penalty(
    quiz_factory,
):
    """A version stored before the scoring mode existed (no ``scoring``, only the right options
    weighted, as GIFT's ``~`` and the spreadsheet's letters left them) grades with it."""
    from quizzes.models import QuestionVersion

    quiz = quiz_factory(types={"multiple_choice"})
    version = db.session.get(QuestionVersion, quiz.items[0].question.current_version_id)
    version.data = {k: v for k, v in version.data.items() if k != "scoring"}
    version.grading = {"fractions": {"m1": 0.5, "m2": 0.5}}  # 维C without a weight
    db.session.flush()
    student = user("student1")
    for answer, fraction in ((["m1", "m2", "m3"], 0.0), (["m1", "m3"], 0.0), (["m1"], 0.5)):
        attempt = service.start_attempt(actor=student, quiz=quiz)
        question_id = slot_of(attempt, "multiple_choice").question_id
        service.save_answer(
            actor=student, attempt_id=attempt.id, question_id=question_id, answer=answer, seq=1
        )
        result = service.submit_attempt(actor=student, attempt_id=attempt.id).attempt
        assert slot_of(result, "multiple_choice").fraction == fraction, answer
        quiz.attempts_allowed = 0  # unlimited, for the next try


def test_a_save_after_the_deadline_and_its_slack_is_refused_and_the_grace_submits_what_was_saved(
    app, client, quiz_factory
):
    """Moodle's rule: answers are saved until the deadline (and a few seconds for a save in
    flight), not through the submission grace; a submission within the grace closes and grades
    what was saved in time."""
    slack = app.config["QUIZ_SAVE_SLACK_SECONDS"]
    assert 0 < slack < app.config["QUIZ_SUBMIT_GRACE_SECONDS"] - 2
    quiz = quiz_factory(time_limit_seconds=60, types={"true_false", "single_choice"})
    student = user("student1")
    now = datetime.now(UTC)
    start = now - timedelta(seconds=60 + slack + 1)  # the deadline was slack + 1 s ago
    attempt = service.start_attempt(actor=student, quiz=quiz, now=start)
    tf = slot_of(attempt, "true_false").question_id
    sc = slot_of(attempt, "single_choice").question_id
    service.save_answer(
        actor=student, attempt_id=attempt.id, question_id=sc, answer="opt-right", seq=1, now=start
    )
    headers = bearer("student1")
    late = client.put(
        f"/api/v1/attempts/{attempt.id}/answers/{tf}",
        json={"answer": False, "seq": 1},
        headers=headers,
    )
    assert late.status_code == 409
    assert late.get_json()["time_up"] is True and "时间已到" in late.get_json()["message"]
    with pytest.raises(ServiceError) as refused:  # within the slack it would still be saved
        service.save_answer(
            actor=student,
            attempt_id=attempt.id,
            question_id=tf,
            answer=False,
            seq=2,
            now=start + timedelta(seconds=60 + slack + 1),
        )
    assert refused.value.status == 409
    submitted = client.post(f"/api/v1/attempts/{attempt.id}/submit", headers=headers)
    assert submitted.status_code == 200, submitted.get_json()  # within the grace
    body = submitted.get_json()
    assert body["closed_reason"] == "submitted" and body["score"] == 2.0  # the choice saved in time
    assert db.session.get(QuizAttempt, attempt.id).state == "finished"


def test_a_save_within_the_slack_after_the_deadline_is_kept_and_counted(app, quiz_factory):
    slack = app.config["QUIZ_SAVE_SLACK_SECONDS"]
    quiz = quiz_factory(time_limit_seconds=60, types={"true_false"})
    student = user("student1")
    start = datetime.now(UTC) - timedelta(seconds=120)
    attempt = service.start_attempt(actor=student, quiz=quiz, now=start)
    service.save_answer(
        actor=student,
        attempt_id=attempt.id,
        question_id=slot_of(attempt, "true_false").question_id,
        answer=False,
        seq=1,
        now=start + timedelta(seconds=60 + slack),  # sent in time, arrived within the slack
    )
    result = service.submit_attempt(
        actor=student, attempt_id=attempt.id, now=start + timedelta(seconds=70)
    )
    assert result.attempt.score == 2.0


@pytest.mark.parametrize("value", ["-1", "31", "five"])
def test_the_save_slack_is_checked_at_start_up(value):
    from flask import Flask

    import quizzes
    from elearn import features
    from elearn.config import ConfigError

    def start(environ: dict[str, str]) -> Flask:
        """The package's settings and their rule, registered as the package registers them."""
        probe = Flask("probe")
        declared = features.Feature(name="quizzes", settings=quizzes.SETTINGS, check=quizzes._check)
        features.register(probe, declared, environ=environ)
        return probe

    with pytest.raises(ConfigError, match="ELEARN_QUIZ_SAVE_SLACK_SECONDS"):
        start({"ELEARN_QUIZ_SAVE_SLACK_SECONDS": value})
    assert start({"ELEARN_QUIZ_SAVE_SLACK_SECONDS": "3"}).config["QUIZ_SAVE_SLACK_SECONDS"] == 3
