"""Role × route: every endpoint in the URL map has a rule, and every role gets what the rule says."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.access import ROLES, Rule
from tests.conftest import csrf_token, signed_in_client, undo_after, unit_by_code, user

TESTS = Path(__file__).resolve().parent.parent


def all_rules() -> dict[str, Rule]:
    rules: dict[str, Rule] = {}
    for path in sorted(TESTS.glob("*/access_rules.py")):
        module = importlib.import_module(f"tests.{path.parent.name}.access_rules")
        rules.update(module.RULES)
    return rules


RULES = all_rules()


def test_every_route_has_an_access_rule(app):
    endpoints = {
        rule.endpoint for rule in app.url_map.iter_rules() if not rule.endpoint.endswith("static")
    }
    missing = sorted(endpoints - set(RULES))
    assert not missing, (
        "these routes have no access rule; add one to tests/<package>/access_rules.py: "
        + ", ".join(missing)
    )
    stale = sorted(set(RULES) - endpoints)
    assert not stale, "access rules for routes that no longer exist: " + ", ".join(stale)


@pytest.fixture
def demo_ids(app):
    from elearn.extensions import db
    from elearn.models import RoleAssignment
    from elearn.service import org

    with app.test_request_context():
        school = unit_by_code("S0101")
        grade = org.find_child(school, code="G5")
        klass = org.find_child(grade, code="5-1")
        empty = org.create_unit(actor=None, parent=grade, name="空班", code="5-99")
        student = user("student1")
        assignment = db.session.scalar(
            select(RoleAssignment).filter_by(user_id=student.id, role="student")
        )
        ids = {
            "prefecture": unit_by_code("DEMO").id,
            "county": unit_by_code("C01").id,
            "school": school.id,
            "other_school": unit_by_code("S0201").id,
            "grade": grade.id,
            "class": klass.id,
            "empty_class": empty.id,
            "student1": student.id,
            "student1_role": assignment.id,
            "teacher1": user("teacher1").id,
        }
        db.session.commit()
    return ids


def _request(app, role: str, rule: Rule, ids: dict):
    client = app.test_client() if role == "anonymous" else signed_in_client(app, role)
    with app.test_request_context():  # url builders may call services that read config
        url = rule.url(ids)
    if rule.method == "GET":
        return client.get(url)
    token = csrf_token(client, "/login" if role == "anonymous" else "/")
    if rule.json:
        return client.open(
            url, method=rule.method, json=rule.data(ids), headers={"X-CSRFToken": token}
        )
    return client.open(url, method=rule.method, data={**rule.data(ids), "csrf_token": token})


def _refused(response) -> bool:
    if response.status_code in (401, 403, 404):
        return True
    # login_required sends people to the sign-in page with ?next=; signing out lands there without
    return response.status_code == 302 and "/login?next=" in response.headers.get("Location", "")


@pytest.mark.parametrize("endpoint", sorted(RULES))
def test_access(app, demo_ids, endpoint):
    rule = RULES[endpoint]
    wrong = []
    for role in ROLES:
        # each role starts from the same state: what one role's request wrote is rolled back
        response = undo_after(lambda role=role: _request(app, role, rule, demo_ids))
        assert response.status_code < 500, f"{role} {endpoint}: {response.status_code}"
        if (role in rule.allow) == _refused(response):
            expected = "allowed" if role in rule.allow else "refused"
            wrong.append(f"{role}: expected {expected}, got {response.status_code}")
    assert not wrong, f"{endpoint}: " + "; ".join(wrong)
