"""The start lane: bearer starts group-committed in front of Flask, under the same rules.

Committed rows (the ``committed`` fixture): the lane writes on its own connection. Each test puts
a lane in front of the route itself (``route_only``: without the lanes the suite runs in front of
the app, see tests/conftest.py), to count what that lane answered.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from werkzeug.test import Client

from elearn.extensions import db
from elearn.models import ApiToken, Role, RoleAssignment, User
from elearn.service import accounts
from quizzes import service
from quizzes.lanes import StartLane
from quizzes.models import AttemptSlot, Question, QuizAttempt
from tests.conftest import user
from tests.quizzes.conftest import route_only, secret_drafts

SECRET_FREE = ("SECRET", "fractions", "grading", "correct")


def _class_students(count):
    """``count`` students of teacher1's class (the quiz_factory's audience), by username."""
    klass = next(a.unit for a in user("teacher1").roles if a.role == Role.TEACHER)
    return db.session.scalars(
        select(User.username)
        .join(RoleAssignment, RoleAssignment.user_id == User.id)
        .where(RoleAssignment.unit_id == klass.id, RoleAssignment.role == Role.STUDENT)
        .order_by(User.username)
        .limit(count)
    ).all()


def _tokens(usernames):
    tokens = {name: accounts.issue_api_token(user=user(name), hours=1)[0] for name in usernames}
    db.session.commit()
    return tokens


def _forget_tokens(usernames):
    ids = [user(name).id for name in usernames]
    db.session.execute(delete(ApiToken).where(ApiToken.user_id.in_(ids)))
    db.session.commit()


def _laned(app, quiz_factory, committed, students, *, others=(), **settings):
    """A committed quiz (``quiz_factory``'s, with ``settings``), ``students`` of its class and
    the ``others`` with API tokens, and a start lane in front of the app."""
    quiz = quiz_factory(**settings)
    committed.append(quiz.id)
    quiz_id = quiz.id
    names = _class_students(students)
    tokens = _tokens([*names, *others])
    db.session.remove()
    return quiz_id, names, tokens, StartLane(app, route_only(app))


def _start(client, quiz_id, token):
    return client.post(
        f"/api/v1/quizzes/{quiz_id}/attempts", headers={"Authorization": f"Bearer {token}"}
    )


def _as_the_route_shows(attempt_id):
    """The attempt as ``attempt_view`` shows it, read from the database."""
    db.session.remove()
    attempt = db.session.get(QuizAttempt, attempt_id)
    return service.attempt_view(attempt)


def _without_clock(view):
    return {k: v for k, v in view.items() if k not in ("server_now", "seconds_left")}


def test_parallel_starts_are_answered_by_the_lane_as_the_route_would(app, quiz_factory, committed):
    quiz_id, students, tokens, lane = _laned(app, quiz_factory, committed, 6, attempts_allowed=1)
    barrier = threading.Barrier(len(students))
    replies = {}

    def start(username):
        barrier.wait()
        replies[username] = _start(Client(lane), quiz_id, tokens[username])

    threads = [threading.Thread(target=start, args=(name,)) for name in students]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    try:
        assert {name: reply.status_code for name, reply in replies.items()} == {
            name: 201 for name in students
        }
        assert lane.answered == len(students)
        assert sum(c.batches for c in lane.commits.values()) < len(students), "never batched"
        for name, reply in replies.items():
            sent = reply.get_json()
            text = reply.get_data(as_text=True)
            assert not any(word in text for word in SECRET_FREE), text
            assert reply.headers["X-Content-Type-Options"] == "nosniff"
            stored = _as_the_route_shows(sent["attempt_id"])
            # the same payload the route gives for this attempt: questions in the stored
            # order, options shuffled by the stored seed, the deadline the database computed
            assert _without_clock(sent) == _without_clock(stored)
            assert 590 <= sent["seconds_left"] <= 600
            attempt = db.session.get(QuizAttempt, sent["attempt_id"])
            assert attempt.user.username == name and attempt.number == 1
            assert attempt.max_score == 2 * len(secret_drafts())
            assert len(attempt.slots) == len(sent["questions"]) == len(secret_drafts())
        # a second start is a resume, which the route answers: the same attempt
        again = _start(Client(lane), quiz_id, tokens[students[0]])
        assert again.status_code == 201 and lane.answered == len(students)
        assert again.get_json()["attempt_id"] == replies[students[0]].get_json()["attempt_id"]
    finally:
        _forget_tokens(students)


def test_what_the_lane_does_not_start_the_route_answers_as_always(app, quiz_factory, committed):
    quiz_id, students, tokens, lane = _laned(
        app, quiz_factory, committed, 4, others=["teacher1"], attempts_allowed=1
    )
    client = Client(lane)
    try:
        first = _start(client, quiz_id, tokens[students[0]])
        assert first.status_code == 201 and lane.answered == 1
        with app.test_request_context():
            service.submit_attempt(
                actor=user(students[0]), attempt_id=first.get_json()["attempt_id"]
            )
            db.session.commit()
        # no attempts left: the route's 409, in words
        spent = _start(client, quiz_id, tokens[students[0]])
        assert spent.status_code == 409 and spent.get_json()["message"]
        # not in the audience (a teacher is no student): the route's 404
        assert _start(client, quiz_id, tokens["teacher1"]).status_code == 404
        assert _start(client, quiz_id, "not-a-token").status_code == 401
        assert _start(client, 2**31, tokens[students[1]]).status_code == 404
        assert lane.answered == 1
        # a question edited since the plan was read: the batch starts nothing (the plan is
        # no longer the quiz's), the route starts it with the new version, and the next
        # start reads the plan again and goes through the lane
        first_slot = db.session.scalars(
            select(AttemptSlot).where(AttemptSlot.attempt_id == first.get_json()["attempt_id"])
        ).first()
        question = db.session.get(Question, first_slot.question_id)
        assert lane.plan(quiz_id) is not None  # read before the edit
        draft = next(d for d in secret_drafts() if d.type == question.current_version.type)
        new_version = service.edit_question(
            actor=user("teacher1"),
            question=question,
            draft=replace(draft, stem="新的题干：" + draft.stem),
        )
        new_version_id = new_version.id
        db.session.commit()
        routed = _start(client, quiz_id, tokens[students[1]])
        assert routed.status_code == 201 and lane.answered == 1
        laned = _start(client, quiz_id, tokens[students[2]])
        assert laned.status_code == 201 and lane.answered == 2
        for reply in (routed, laned):
            attempt_id = reply.get_json()["attempt_id"]
            assert (
                new_version_id
                in db.session.scalars(
                    select(AttemptSlot.version_id).where(AttemptSlot.attempt_id == attempt_id)
                ).all()
            )
            assert _without_clock(reply.get_json()) == _without_clock(
                _as_the_route_shows(attempt_id)
            )
        # closed early: the statement refuses, the route says why
        with app.test_request_context():
            from quizzes.models import Quiz

            service.update_quiz(
                actor=user("teacher1"),
                quiz=db.session.get(Quiz, quiz_id),
                changes={"closes_at": datetime.now(UTC) - timedelta(seconds=1)},
            )
            db.session.commit()
        closed = _start(client, quiz_id, tokens[students[3]])
        assert closed.status_code == 409 and closed.get_json()["message"]
        assert lane.answered == 2
    finally:
        _forget_tokens([*students, "teacher1"])


def test_random_draws_are_drawn_in_the_lane_as_on_the_route(app, quiz_factory, committed):
    teacher = user("teacher1")
    klass = next(a.unit for a in teacher.roles if a.role == Role.TEACHER)
    quiz = quiz_factory(types={"single_choice"})  # a bank of teacher1's school, one question
    committed.append(quiz.id)
    bank = quiz.items[0].question.bank
    base = secret_drafts()[0]
    for n in range(12):
        service.add_question(
            actor=teacher,
            bank=bank,
            draft=replace(
                base,
                stem=f"第{n}题",
                category="随机抽题",
                topic=("常识", "法律", "识别")[n % 3],
                difficulty=1 + n % 2,
            ),
        )
    category_id = db.session.scalar(
        select(Question.category_id).where(
            Question.bank_id == bank.id, Question.category_id.is_not(None)
        )
    )
    drawn_quiz = service.create_quiz(
        actor=teacher,
        unit=klass,
        title="抽题测验",
        items=[{"category_id": category_id, "count": 6, "mark": 2}],
        audience=[(klass, Role.STUDENT)],
        opens_at=datetime.now(UTC) - timedelta(hours=1),
        time_limit_seconds=None,
        publish=True,
    )
    committed.insert(0, drawn_quiz.id)  # deleted before the quiz whose bank it uses
    drawn_id = drawn_quiz.id
    db.session.commit()
    students = _class_students(3)
    tokens = _tokens(students)
    db.session.remove()
    lane = StartLane(app, route_only(app))
    client = Client(lane)
    try:
        for name in students:
            reply = _start(client, drawn_id, tokens[name])
            assert reply.status_code == 201
            sent = reply.get_json()
            assert sent["deadline"] is None and sent["seconds_left"] is None
            assert _without_clock(sent) == _without_clock(_as_the_route_shows(sent["attempt_id"]))
            slots = db.session.scalars(
                select(AttemptSlot).where(AttemptSlot.attempt_id == sent["attempt_id"])
            ).all()
            drawn = [s for s in slots if s.mark == 2]
            assert len(slots) == len(drawn) == len({s.question_id for s in slots}) == 6
            assert {db.session.get(Question, s.question_id).category_id for s in drawn} == {
                category_id
            }
            # stratified: each topic gives its share (4 questions of each of the three: 2 each)
            topics = [db.session.get(Question, s.question_id).topic for s in drawn]
            assert sorted(topics.count(t) for t in set(topics)) == [2, 2, 2]
        assert lane.answered == len(students)
    finally:
        _forget_tokens(students)


def test_anonymous_surveys_and_failed_batches_go_to_the_route(app, quiz_factory, committed):
    quiz_id, students, tokens, lane = _laned(app, quiz_factory, committed, 2)
    client = Client(lane)
    try:
        from sqlalchemy import create_engine

        lane._engine = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
        started = _start(client, quiz_id, tokens[students[0]])  # the plan cannot be read
        assert started.status_code == 201 and lane.answered == 0
        lane._engine = None
        assert _start(client, quiz_id, tokens[students[1]]).status_code == 201
        assert lane.answered == 1
    finally:
        _forget_tokens(students)
    survey = quiz_factory(types={"single_choice"})
    committed.append(survey.id)
    survey.is_anonymous = True
    db.session.commit()
    assert lane.plan(survey.id) is None  # anonymous: no attempt rows, the route's own
