"""The carrier's JSON API: tokens, /me, the org tree in scope, OpenAPI."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from elearn.extensions import db
from elearn.models import ApiToken
from tests.conftest import unit_by_code


def token_for(client, username, password="demo1234"):
    response = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_token_and_me(client):
    body = token_for(client, "teacher1")
    assert body["expires_at"] > datetime.now(UTC).isoformat()
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"}).get_json()
    assert me["username"] == "teacher1"
    assert me["roles"][0]["role"] == "teacher" and me["roles"][0]["unit_type"] == "class"


def test_wrong_credentials_401_with_chinese_message(client):
    response = client.post("/api/v1/auth/token", json={"username": "teacher1", "password": "nope"})
    assert response.status_code == 401
    assert response.get_json()["message"] == "用户名或密码错误。"


def test_token_requests_are_limited_per_address_and_nothing_else_is(client, app):
    original = app.config["LOGIN_IP_LIMIT"]
    app.config["LOGIN_IP_LIMIT"] = "2 per hour"  # no window edge mid-test
    try:
        wrong = {"username": "teacher1", "password": "nope"}
        statuses = [client.post("/api/v1/auth/token", json=wrong).status_code for _ in range(2)]
        refused = client.post(
            "/api/v1/auth/token", json={"username": "teacher1", "password": "demo1234"}
        )
        others = [client.get("/healthz").status_code for _ in range(5)]
    finally:
        app.config["LOGIN_IP_LIMIT"] = original
    assert statuses == [401, 401]
    assert refused.status_code == 429 and "请求过于频繁" in refused.get_json()["message"]
    assert others == [200] * 5


def test_token_request_without_json_is_422_with_the_validation_shape(client):
    response = client.post("/api/v1/auth/token", data="x", content_type="text/plain")
    body = response.get_json()
    assert response.status_code == 422 and "JSON" in body["message"]
    assert body["error"] == 422 and body["errors"] == {"_schema": [body["message"]]}


def test_expired_and_unknown_tokens_are_401_with_reason(client, app):
    body = token_for(client, "teacher1")
    with app.app_context():
        row = db.session.scalar(select(ApiToken).order_by(ApiToken.id.desc()))
        row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        db.session.commit()
    expired = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert expired.status_code == 401 and "过期" in expired.get_json()["message"]
    unknown = client.get("/api/v1/me", headers={"Authorization": "Bearer nonsense"})
    assert unknown.status_code == 401 and "无效" in unknown.get_json()["message"]


def test_bearer_clients_need_no_csrf_but_cookie_sessions_do(client, signed_in, app):
    token = token_for(client, "student1")["token"]
    ok = client.post(
        "/api/v1/auth/token",
        json={"username": "student1", "password": "demo1234"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert ok.status_code == 200
    browser = signed_in("student1")
    refused = browser.post(
        "/api/v1/auth/token", json={"username": "student1", "password": "demo1234"}
    )
    assert refused.status_code == 400


def test_units_in_scope_and_404_outside(signed_in, app):
    with app.app_context():
        county, other_county = unit_by_code("C01").id, unit_by_code("C02").id
        school, other_school = unit_by_code("S0101").id, unit_by_code("S0201").id
    admin = signed_in("county_admin")
    body = admin.get(f"/api/v1/units/{county}").get_json()
    assert body["type"] == "county" and body["name"] == "示范市"
    children = admin.get(f"/api/v1/units/{county}/children").get_json()
    assert {c["id"] for c in children} >= {school}
    assert all(c["parent_id"] == county for c in children)
    assert admin.get(f"/api/v1/units/{other_county}").status_code == 404
    assert admin.get(f"/api/v1/units/{other_school}/children").status_code == 404
    assert admin.get("/api/v1/units/999999").status_code == 404
    teacher = signed_in("teacher1")
    assert teacher.get(f"/api/v1/units/{school}").status_code == 200
    assert teacher.get(f"/api/v1/units/{county}").status_code == 404


def test_openapi_documents_every_api_route(client, app):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    documented = {(path, method) for path, ops in document["paths"].items() for method in ops}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.rule == "/api/v1/openapi.json":
            continue
        import re

        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method.lower()) in documented, f"{method} {path} is not in openapi.json"
    token_op = document["paths"]["/api/v1/auth/token"]["post"]
    assert "401" in token_op["responses"]


def test_health_and_readiness(client):
    import os
    import socket
    from importlib.metadata import version

    # the process that answered (several run behind nginx) and the code it runs
    assert client.get("/healthz").get_json() == {
        "status": "ok",
        "process": f"{socket.gethostname()}:{os.getpid()}",
        "version": version("elearn"),
    }
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["checks"]["database"] == "ok"
    assert ready.get_json()["checks"]["redis"] == "ok"


def test_health_names_the_deployed_commit(app, client):
    """``ELEARN_COMMIT`` (set by the deployment) shows which build a process runs."""
    from importlib.metadata import version

    app.config["COMMIT"] = "3f2c1ab"
    try:
        assert client.get("/healthz").get_json()["version"] == f"{version('elearn')}+3f2c1ab"
    finally:
        app.config["COMMIT"] = None


def test_an_id_beyond_any_row_is_a_404_not_a_database_error(app):
    """``<int:…>`` stops at PostgreSQL's integer: 2³¹ reached the database and failed (500)."""
    from tests.conftest import signed_in_client

    client = signed_in_client(app, "teacher1")
    for path in ("/api/v1/quizzes/2147483648", "/quizzes/2147483648/results"):
        assert client.get(path).status_code == 404, path
    assert client.get("/api/v1/quizzes/2147483647").status_code == 404
