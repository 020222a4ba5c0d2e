"""Every rule the lanes restate in SQL, through both doors: the route alone and the lane.

Each refusal of ``quizzes.rules`` is sent once through a lane in front of the route and once to
the route alone; both must answer with the same status and the same body (the refusal's
message, in the caller's language), and the lane must have stored nothing: a lane that let
through what the route refuses answers 200/201 here, and the test fails. The accepted twin of
each door (the last cases) shows the lane really decides in this set-up: a committed quiz, a
committed token, the question's versions known to this process.

Committed rows (the ``committed`` fixture): the lanes write on their own connections.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from werkzeug.test import Client

from elearn.extensions import db
from elearn.models import Role, RoleAssignment, Unit, User
from elearn.service import accounts
from quizzes import rules, service
from quizzes.lanes import SaveLane, StartLane
from quizzes.lanes.base import Lane
from quizzes.models import Quiz, QuizAttempt
from tests.conftest import user
from tests.quizzes.conftest import route_only
from tests.quizzes.test_start_lane import _class_students, _forget_tokens

#: who sends what (teacher1's class is the quiz_factory's audience; student1 sits in it)
TAKER = "student1"


@dataclass
class Door:
    """One request, and the lane that may answer it."""

    lane: type[Lane]
    send: Callable[[Client], Any]
    #: the people given a token (forgotten afterwards)
    senders: tuple[str, ...]


def _stranger() -> str:
    """A student outside teacher1's class (not in the quiz's audience)."""
    klass = next(a.unit for a in user("teacher1").roles if a.role == Role.TEACHER)
    return db.session.scalar(
        select(User.username)
        .join(RoleAssignment, RoleAssignment.user_id == User.id)
        .join(Unit, Unit.id == RoleAssignment.unit_id)
        .where(RoleAssignment.role == Role.STUDENT, ~Unit.path.startswith(klass.path))
        .order_by(User.id)
        .limit(1)
    )


def _classmate() -> str:
    """Another student of the taker's class."""
    return next(name for name in _class_students(2) if name != TAKER)


def _token(username: str) -> str:
    token, _ = accounts.issue_api_token(user=user(username), hours=1)
    return token


def _start(quiz_id: int, token: str) -> Callable[[Client], Any]:
    return lambda client: client.post(
        f"/api/v1/quizzes/{quiz_id}/attempts", headers={"Authorization": f"Bearer {token}"}
    )


def _save(attempt_id: int, question_id: int, token: str, seq: int) -> Callable[[Client], Any]:
    return lambda client: client.put(
        f"/api/v1/attempts/{attempt_id}/answers/{question_id}",
        data=json.dumps({"answer": True, "seq": seq}),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )


def _start_door(quiz_factory, committed, username=TAKER, **settings) -> Door:
    quiz = quiz_factory(**settings)
    committed.append(quiz.id)
    return Door(StartLane, _start(quiz.id, _token(username)), (username,))


def _save_door(app, quiz_factory, committed, change=None, *, username=TAKER, seq=2) -> Door:
    """An attempt of the taker's with a first save on the route (this process reads the
    question's versions there), ``change``d, and a save by ``username``."""
    quiz = quiz_factory(types={"true_false"})
    committed.append(quiz.id)
    attempt = service.start_attempt(actor=user(TAKER), quiz=quiz)
    attempt_id, question_id = attempt.id, attempt.slots[0].question_id
    token = _token(TAKER)
    db.session.commit()
    first = _save(attempt_id, question_id, token, 1)(Client(route_only(app)))
    assert first.status_code == 200, first.get_json()
    if change is not None:
        change(db.session.get(QuizAttempt, attempt_id))
    sender = token if username == TAKER else _token(username)
    return Door(SaveLane, _save(attempt_id, question_id, sender, seq), (TAKER, username))


def _finished_once(quiz_factory, committed) -> Door:
    door = _start_door(quiz_factory, committed, attempts_allowed=1)
    attempt = service.start_attempt(actor=user(TAKER), quiz=db.session.get(Quiz, committed[-1]))
    service.submit_attempt(actor=user(TAKER), attempt_id=attempt.id)
    return door


def _past_deadline(attempt: QuizAttempt) -> None:
    attempt.deadline_at = datetime.now(UTC) - timedelta(minutes=5)


def _submitted(attempt: QuizAttempt) -> None:
    service.submit_attempt(actor=user(TAKER), attempt_id=attempt.id)


NOW = datetime.now(UTC)
#: the API refuses a quiz its caller may not take (``rules.may_start``, as the "take"
#: permission) before the service would, with its 404 for anything out of one's scope
_NOT_TAKEN_HERE = rules.not_yours
#: case → (what sets it up, the status both doors answer, the refusal, or None: accepted)
CASES: dict[str, tuple[Callable[..., Door], int, Callable[[], Any] | None]] = {
    "not yet open": (
        lambda app, f, c: _start_door(f, c, opens_at=NOW + timedelta(days=1)),
        409,
        rules.not_yet_open,
    ),
    "closed": (
        lambda app, f, c: _start_door(
            f, c, opens_at=NOW - timedelta(days=2), closes_at=NOW - timedelta(days=1)
        ),
        409,
        rules.closed,
    ),
    "not in the audience": (
        lambda app, f, c: _start_door(f, c, username=_stranger()),
        404,
        _NOT_TAKEN_HERE,
    ),
    "unpublished": (lambda app, f, c: _start_door(f, c, publish=False), 404, _NOT_TAKEN_HERE),
    "no attempts left": (lambda app, f, c: _finished_once(f, c), 409, rules.no_attempts_left),
    "after the deadline and its slack": (
        lambda app, f, c: _save_door(app, f, c, _past_deadline),
        409,
        rules.time_up,
    ),
    "a replayed seq": (lambda app, f, c: _save_door(app, f, c, seq=1), 409, rules.stale_seq),
    "another user's attempt": (
        lambda app, f, c: _save_door(app, f, c, username=_classmate()),
        404,
        rules.not_yours,
    ),
    "a submitted attempt": (
        lambda app, f, c: _save_door(app, f, c, _submitted),
        409,
        rules.submitted,
    ),
    "accepted: a start": (lambda app, f, c: _start_door(f, c), 201, None),
    "accepted: a save": (lambda app, f, c: _save_door(app, f, c), 200, None),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_refusal_is_the_same_through_the_lane_and_the_route(app, quiz_factory, committed, case):
    setup, status, refusal = CASES[case]
    door = setup(app, quiz_factory, committed)
    db.session.commit()
    db.session.remove()
    lane = door.lane(app, route_only(app))
    try:
        through_lane = door.send(Client(lane))
        assert through_lane.status_code == status, through_lane.get_json()
        if refusal is None:
            assert lane.answered == 1, "the lane left what it should store to the route"
            return
        # the lane stored nothing: the route answered, and alone it answers the same
        assert lane.answered == 0
        by_route = door.send(Client(route_only(app)))
        assert (by_route.status_code, by_route.get_json()) == (
            through_lane.status_code,
            through_lane.get_json(),
        )
        with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
            expected = refusal().message
        assert expected in json.dumps(by_route.get_json(), ensure_ascii=False)
    finally:
        _forget_tokens(door.senders)
        db.session.commit()
