"""The exam's saves and starts in /metrics: counted once per batch by the lanes, per answer by the
Flask routes behind them; refusals are not counted."""

from __future__ import annotations

from prometheus_client import REGISTRY
from werkzeug.test import Client

from tests.quizzes.conftest import route_only
from tests.quizzes.test_save_lane import _laned as _save_laned
from tests.quizzes.test_save_lane import _put
from tests.quizzes.test_start_lane import _forget_tokens, _start
from tests.quizzes.test_start_lane import _laned as _start_laned


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _counts() -> dict[str, float]:
    return {
        "saves_lane": _value("elearn_exam_saves_total", via="lane"),
        "saves_app": _value("elearn_exam_saves_total", via="app"),
        "save_batches": _value("elearn_exam_lane_batch_seconds_count", lane="save"),
        "starts_lane": _value("elearn_exam_starts_total", via="lane"),
        "starts_app": _value("elearn_exam_starts_total", via="app"),
        "start_batches": _value("elearn_exam_lane_batch_seconds_count", lane="start"),
    }


def _grown(before: dict[str, float]) -> dict[str, float]:
    after = _counts()
    return {key: after[key] - before[key] for key in before if after[key] != before[key]}


def test_saves_are_counted_by_the_lane_per_batch_and_by_the_route(app, quiz_factory, committed):
    before = _counts()
    # the first save goes on to the route (the process reads the question there)
    attempt_id, token, by_type, lane, client = _save_laned(app, quiz_factory, committed)
    question_id = by_type["single_choice"]
    for seq in range(2, 6):
        assert (
            _put(
                client, attempt_id, question_id, token, {"answer": "opt-right", "seq": seq}
            ).status_code
            == 200
        )
    # an older seq: its batch stores nothing, the route refuses it and says why; not a save
    assert (
        _put(client, attempt_id, question_id, token, {"answer": "opt-right", "seq": 3}).status_code
        == 409
    )
    assert lane.answered == 4
    assert _grown(before) == {"saves_app": 1, "saves_lane": 4, "save_batches": 5}


def test_starts_are_counted_by_the_lane_and_by_the_route(app, quiz_factory, committed):
    quiz_id, students, tokens, lane = _start_laned(app, quiz_factory, committed, 3)
    try:
        before = _counts()
        client = Client(lane)
        for name in students[:2]:
            assert _start(client, quiz_id, tokens[name]).status_code == 201
        # the third through the app alone (a process without the lane)
        assert _start(Client(route_only(app)), quiz_id, tokens[students[2]]).status_code == 201
        assert lane.answered == 2
        assert _grown(before) == {"starts_lane": 2, "start_batches": 2, "starts_app": 1}
    finally:
        _forget_tokens(students)
