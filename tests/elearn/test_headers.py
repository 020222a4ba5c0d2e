"""The Content-Security-Policy and the other security headers: on every answer, and every page
of the app within what the policy allows (no inline script without a nonce, no handler attribute,
no style attribute)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from flask import render_template_string

from elearn.headers import directives, media_origin, page_policy, serialize
from tests.conftest import undo_after
from tests.elearn.test_access_matrix import RULES, _request, demo_ids  # noqa: F401 (a fixture)


def policy_of(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {response.request.path}"
    parsed = {}
    for part in header.split(";"):
        name, *sources = part.split()
        parsed[name] = sources
    return parsed


def test_a_page_allows_scripts_from_the_app_only(client):
    response = client.get("/login")
    policy = policy_of(response)
    assert policy["script-src"] == ["'self'"]  # no inline script on the sign-in page, no nonce
    assert policy["default-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'self'"] and policy["form-action"] == ["'self'"]
    # Socket.IO's websocket to this host (the test client's is "localhost")
    assert {"ws://localhost", "wss://localhost"} <= set(policy["connect-src"])
    assert "blob:" in policy["media-src"] and "blob:" in policy["worker-src"]  # hls.js
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "camera=(self)" in response.headers["Permissions-Policy"]


def test_json_errors_and_redirects_carry_the_headers_too(client, as_user):
    for response in (
        client.get("/api/v1/me"),
        client.get("/no-such-page"),
        client.get("/"),  # to the sign-in page
        as_user("student1").get("/api/v1/courses"),
    ):
        policy = policy_of(response)
        assert policy["script-src"] == ["'self'"] and policy["object-src"] == ["'none'"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_an_inline_script_runs_only_with_this_answers_nonce(app):
    page = (
        '<script nonce="{{ csp_nonce() }}">1</script><script nonce="{{ csp_nonce() }}">2</script>'
    )
    nonces = set()
    for _ in range(2):
        with app.test_request_context("/"):
            html = render_template_string(page)
            nonce = html.split('nonce="', 1)[1].split('"', 1)[0]
            assert html.count(f'nonce="{nonce}"') == 2  # one nonce per answer
            assert f"'nonce-{nonce}'" in page_policy(app).split("script-src", 1)[1].split(";")[0]
            nonces.add(nonce)
    assert len(nonces) == 2 and all(len(n) >= 22 for n in nonces)  # a new one each answer
    with app.test_request_context("/"):
        assert "nonce-" not in page_policy(app)  # no page asked for one: none is allowed


def test_the_media_storage_origin_is_allowed_for_pictures_video_and_uploads():
    assert media_origin({}) is None
    plain = {"S3_ENDPOINT": "minio.example.org:9000", "S3_SECURE": False}
    assert media_origin(plain) == "http://minio.example.org:9000"
    assert media_origin({**plain, "S3_SECURE": True}) == "https://minio.example.org:9000"
    assert media_origin({"S3_ENDPOINT": "https://s3.example.org/"}) == "https://s3.example.org"
    policy = directives(plain)
    for name in ("img-src", "media-src", "connect-src"):
        assert "http://minio.example.org:9000" in policy[name], name
    assert "minio" not in " ".join(policy["script-src"] + policy["style-src"])
    assert "minio" not in serialize(directives({}))


def test_a_forged_host_header_cannot_write_into_the_policy(client):
    response = client.get("/login", headers={"Host": "evil.example;script-src *"})
    header = response.headers.get("Content-Security-Policy", "")
    assert "evil" not in header and "*" not in header


class _Inline(HTMLParser):
    """What the policy would refuse in a page: inline scripts without the nonce, ``on…=``
    handlers, ``style=`` attributes, ``javascript:`` URLs."""

    def __init__(self, nonce: str | None) -> None:
        super().__init__()
        self.nonce = nonce
        self.found: list[str] = []
        self._script: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=…>")
            if name == "style":
                self.found.append(f'<{tag} style="{value}">')
            if name in {"href", "src", "action"} and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.found.append(f"<{tag} {name}={value}>")
        if tag == "script":
            self._script = attributes

    def handle_data(self, data: str) -> None:
        script = self._script
        if script is None or script.get("src") or not data.strip():
            return
        if script.get("type") == "application/json":  # data, never run
            return
        if self.nonce is None or script.get("nonce") != self.nonce:
            self.found.append(f"<script> {data.strip()[:60]}")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._script = None


def _inline_in(response) -> list[str]:
    sources = policy_of(response)["script-src"]
    nonces = [s[len("'nonce-") : -1] for s in sources if s.startswith("'nonce-")]
    parser = _Inline(nonces[0] if nonces else None)
    parser.feed(response.get_data(as_text=True))
    return parser.found


GET_PAGES = sorted(endpoint for endpoint, rule in RULES.items() if rule.method == "GET")


@pytest.mark.parametrize("endpoint", GET_PAGES)
def test_no_page_holds_what_the_policy_refuses(app, demo_ids, endpoint):  # noqa: F811
    rule = RULES[endpoint]
    pages = 0
    for role in sorted(rule.allow):
        response = undo_after(lambda role=role: _request(app, role, rule, demo_ids))
        if response.mimetype != "text/html" or response.status_code != 200:
            continue
        pages += 1
        found = _inline_in(response)
        assert not found, f"{endpoint} as {role}: " + "; ".join(found)


def test_a_confirmation_holds_markup_from_a_name_as_text(app, signed_in_as_school_admin_unit):
    response, name = signed_in_as_school_admin_unit
    page = response.get_data(as_text=True)
    assert not _inline_in(response)  # the name added no handler, script or style
    parser = _Confirm()
    parser.feed(page)
    assert parser.questions and name in parser.questions[0]


class _Confirm(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.questions: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        value = dict(attrs).get("data-confirm")
        if value:
            self.questions.append(value)


@pytest.fixture
def signed_in_as_school_admin_unit(app):
    """The page of an empty class named with markup, as its school's admin sees it (a delete
    form that asks first)."""
    from elearn.extensions import db
    from elearn.service import org
    from tests.conftest import signed_in_client, unit_by_code

    name = '5-9" onmouseover="alert(1)" style="x'
    with app.test_request_context():
        grade = org.find_child(unit_by_code("S0101"), code="G5")
        unit_id = org.create_unit(actor=None, parent=grade, name=name, code="5-9").id
        db.session.commit()
    return signed_in_client(app, "school_admin").get(f"/admin/units/{unit_id}"), name
