"""The exam lanes answer outside Flask (orjson, for speed): their replies must still be what
the OpenAPI document promises for the same operations, the shapes ``quizzes/schemas.py`` states.

Committed rows (the ``committed`` fixture), as in test_start_lane.py and test_save_lane.py.
"""

from __future__ import annotations

import json

from openapi_schema_validator import OAS30Validator
from werkzeug.test import Client

from elearn.extensions import db
from elearn.service import accounts
from quizzes.lanes import SaveLane, StartLane
from tests.conftest import user
from tests.quizzes.conftest import route_only


def _resolved(node, components):
    """``node`` with every ``$ref`` to a component replaced by the component itself."""
    if isinstance(node, dict):
        if "$ref" in node:
            return _resolved(components[node["$ref"].rsplit("/", 1)[1]], components)
        return {key: _resolved(value, components) for key, value in node.items()}
    if isinstance(node, list):
        return [_resolved(value, components) for value in node]
    return node


def _reply_schema(app, path: str, method: str, status: str) -> dict:
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    response = document["paths"][path][method]["responses"][status]
    schema = response["content"]["application/json"]["schema"]
    return _resolved(schema, document["components"]["schemas"])


def _assert_fits(schema: dict, reply) -> None:
    body = reply.get_json()
    errors = sorted(OAS30Validator(schema).iter_errors(body), key=str)
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])


def test_the_start_and_save_lanes_answer_in_the_documented_shapes(app, quiz_factory, committed):
    quiz = quiz_factory()
    committed.append(quiz.id)
    quiz_id = quiz.id
    token, _ = accounts.issue_api_token(user=user("student1"), hours=1)
    db.session.commit()
    db.session.remove()
    headers = {"Authorization": f"Bearer {token}"}

    start_lane = StartLane(app, route_only(app))
    started = Client(start_lane).post(f"/api/v1/quizzes/{quiz_id}/attempts", headers=headers)
    assert started.status_code == 201 and start_lane.answered == 1
    _assert_fits(_reply_schema(app, "/api/v1/quizzes/{quiz_id}/attempts", "post", "201"), started)

    attempt = started.get_json()
    save_lane = SaveLane(app, route_only(app))
    client = Client(save_lane)
    url = "/api/v1/attempts/{}/answers/{}"
    saved_schema = _reply_schema(
        app, "/api/v1/attempts/{attempt_id}/answers/{question_id}", "put", "200"
    )
    question = next(q for q in attempt["questions"] if q["type"] == "true_false")
    for seq in (1, 2):  # the first save of a process reads the versions on the route
        saved = client.put(
            url.format(attempt["attempt_id"], question["id"]),
            data=json.dumps({"answer": True, "seq": seq}),
            headers={**headers, "Content-Type": "application/json"},
        )
        assert saved.status_code == 200, saved.get_data(as_text=True)
        _assert_fits(saved_schema, saved)
    assert save_lane.answered >= 1
