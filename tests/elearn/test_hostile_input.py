"""No input answers 500: every route of the URL map gets hostile values in its query string,
its body (JSON or form) and its path, as the roles that may use it and as a student.

Hostile values: integers past PostgreSQL's integer and bigint, a negative number, text where a
number goes, a list (of a number past both), an object, null, text holding NUL (which
PostgreSQL cannot store or compare). Each route's parameters are the names its access rule
sends, the names its OpenAPI operation declares, and the names the pages read
(``COMMON_NAMES``). A 4xx (or a 2xx/3xx: ``page=abc`` may mean page 1) is fine, and so is a
deliberate 503 (storage unavailable); a 500, an error nobody handled, fails.

``ELEARN_PROBE_ALL_ROLES=1`` sends everything as every demo role (slower; the figures in the
commit were counted that way).
"""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import parse_qsl

import pytest
from werkzeug.datastructures import MultiDict

from tests.access import ROLES
from tests.conftest import csrf_token, signed_in_client, undo_after
from tests.elearn.test_access_matrix import RULES, demo_ids  # noqa: F401 - fixture

HOSTILE: list[Any] = [2**31, 2**63, -1, "abc", [2**63], {"a": 1}, None, "a\x00b"]
#: names the pages and API read from query strings and forms
COMMON_NAMES = [
    "page", "unit", "term", "bank", "version", "q", "type", "category", "difficulty",
    "archived", "quick", "format", "draft", "preview", "unread", "role", "action", "unit_id",
    "ids", "cohost_ids", "lesson_id", "question_id", "seq", "items", "audience", "grade",
]  # fmt: skip
ALL_ROLES = os.environ.get("ELEARN_PROBE_ALL_ROLES") == "1"


def _query_value(value: Any) -> list[str]:
    if value is None:
        return [""]
    if isinstance(value, list):
        return [str(v) for v in value] * 2
    if isinstance(value, dict):
        return [json.dumps(value)]
    return [str(value)]


_DOCUMENTS: dict[int, dict] = {}


def _document_names(app, path: str, method: str) -> list[str]:
    """The parameters and body fields the OpenAPI document gives this operation."""
    if id(app) not in _DOCUMENTS:
        _DOCUMENTS[id(app)] = app.test_client().get("/api/v1/openapi.json").get_json()
    document = _DOCUMENTS[id(app)]
    names: list[str] = []
    for doc_path, operations in document["paths"].items():
        operation = operations.get(method.lower())
        if operation is None or not _matches(doc_path, path):
            continue
        names += [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
        for content in operation.get("requestBody", {}).get("content", {}).values():
            schema = content.get("schema", {})
            if "$ref" in schema:
                schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
            names += list(schema.get("properties", {}))
    return names


def _matches(template: str, path: str) -> bool:
    left, right = template.strip("/").split("/"), path.split("?")[0].strip("/").split("/")
    return len(left) == len(right) and all(
        a == b or a.startswith("{") for a, b in zip(left, right, strict=True)
    )


def _client(app, role: str):
    client = app.test_client() if role == "anonymous" else signed_in_client(app, role)
    token = csrf_token(client, "/login" if role == "anonymous" else "/")
    return client, token


def _send(client, token: str, method: str, url: str, *, query, body, as_json: bool):
    url, _, own = url.partition("?")
    query = {**MultiDict(parse_qsl(own)).to_dict(flat=False), **query}
    if method == "GET":
        return client.get(url, query_string=query)
    if as_json:
        return client.open(
            url, method=method, query_string=query, json=body, headers={"X-CSRFToken": token}
        )
    form = {k: _query_value(v) for k, v in (body or {}).items()} if isinstance(body, dict) else {}
    return client.open(url, method=method, query_string=query, data={**form, "csrf_token": token})


def _requests(rule, ids, names, is_api):
    """(what, query, body) triples: for each hostile value every name at once, and the whole
    body replaced by it; for each number past a column's range, each name of the rule's own
    (valid) data alone."""
    base = rule.data(ids) if not is_api or rule.json else {}
    base = {k: v for k, v in base.items() if not hasattr(v, "__getitem__") or isinstance(v, str)}
    for value in HOSTILE:
        query = {name: _query_value(value) for name in names}
        yield f"all={value!r}", query, {**base, **{name: value for name in names}}
        if is_api and rule.method != "GET":
            yield f"body={value!r}", {}, value
        if isinstance(value, int) and value > 0 or isinstance(value, list):
            for name in base:
                yield f"{name}={value!r}", {}, {**base, name: value}


@pytest.mark.parametrize("endpoint", sorted(RULES))
def test_no_hostile_input_is_a_server_error(app, demo_ids, endpoint):  # noqa: F811
    rule = RULES[endpoint]
    with app.test_request_context():
        url = rule.url(demo_ids)
    is_api = url.startswith("/api/")
    names = list(dict.fromkeys(COMMON_NAMES + _document_names(app, url, rule.method)))
    # one role that may use it (its parsers and services) and a student (what refuses them)
    allowed = sorted(set(rule.allow) - {"anonymous", "student1"})[:1]
    roles = ROLES if ALL_ROLES else [*allowed, "student1"]
    errors = []
    for role in roles:

        def probe(role: str = role) -> None:
            client, token = _client(app, role)
            for what, query, body in _requests(rule, demo_ids, names, is_api):
                response = _send(
                    client, token, rule.method, url, query=query, body=body, as_json=is_api
                )
                if response.status_code == 500:
                    errors.append(f"{role} {rule.method} {url} {what}: {response.status_code}")

        undo_after(probe)
    assert not errors, "\n".join(errors)
