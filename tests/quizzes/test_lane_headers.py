"""The exam lanes answer in front of Flask; their answers carry the security headers Flask's
answers carry (the Content-Security-Policy among them), from the one list in elearn/headers.py."""

from __future__ import annotations

from tests.quizzes.test_save_lane import _laned, _put

SECURITY = (
    "Content-Security-Policy",
    "X-Content-Type-Options",
    "X-Frame-Options",
    "Referrer-Policy",
    "Permissions-Policy",
)


def test_a_save_the_lane_answers_carries_the_headers_the_route_sends(app, quiz_factory, committed):
    attempt_id, token, by_type, lane, client = _laned(app, quiz_factory, committed)
    choice = by_type["single_choice"]
    by_lane = _put(client, attempt_id, choice, token, {"answer": "opt-right", "seq": 2})
    assert by_lane.status_code == 200 and lane.answered == 1
    by_route = _put(client, attempt_id, choice, token, {"answer": "opt-right", "seq": 2})
    assert by_route.status_code == 409 and lane.answered == 1  # a replay: the route's answer
    for name in SECURITY:
        assert by_lane.headers.get(name), name
        assert by_lane.headers[name] == by_route.headers[name], name
    assert "object-src 'none'" in by_lane.headers["Content-Security-Policy"]
