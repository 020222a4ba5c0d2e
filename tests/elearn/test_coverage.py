"""Coverage facts are idempotent and fold into every ancestor's rollup in the same transaction."""

from datetime import date

import pytest
from sqlalchemy import func, select

from elearn.extensions import db
from elearn.models import CoverageFact, FactKind, Term
from elearn.service import coverage, org
from tests.conftest import login, unit_by_code, user


@pytest.fixture
def term(ctx):
    return org.current_term()


def _class_of(username):
    return user(username).roles[0].unit


def test_record_fact_is_idempotent_and_rolls_up_to_every_ancestor(term):
    klass = _class_of("student1")
    school, county, prefecture = unit_by_code("S0101"), unit_by_code("C01"), unit_by_code("DEMO")
    before = {
        u.id: coverage.coverage(u, term)["students"].numerator
        for u in (klass, school, county, prefecture)
    }
    assert coverage.record_fact(FactKind.STUDENT_COURSE, user("student1").id, klass, term) is True
    assert coverage.record_fact(FactKind.STUDENT_COURSE, user("student1").id, klass, term) is False
    for unit in (klass, school, county, prefecture):
        assert coverage.coverage(unit, term)["students"].numerator == before[unit.id] + 1
    other_county = unit_by_code("C02")
    assert coverage.coverage(other_county, term)["students"].numerator == 0
    assert (
        db.session.scalar(
            select(func.count()).select_from(CoverageFact).filter_by(kind="student_course")
        )
        == 1
    )


def test_denominators_come_from_the_org_tree(term):
    metrics = coverage.coverage(unit_by_code("DEMO"), term)
    assert metrics["schools"].denominator == 4
    assert metrics["students"].denominator == 201  # 8 classes × 25, and student1
    assert metrics["teachers"].denominator == 9
    assert metrics["parents"].denominator == 201
    school = coverage.coverage(unit_by_code("S0101"), term)
    assert school["students"].denominator == 51


def test_schools_connected_by_the_demo_roster(term):
    metrics = coverage.coverage(unit_by_code("DEMO"), term)["schools"]
    assert (metrics.numerator, metrics.denominator, metrics.rate, metrics.target) == (
        4,
        4,
        1.0,
        1.0,
    )


def test_rural_parents_have_an_80_percent_target(term):
    rural = coverage.coverage(unit_by_code("S0201"), term)["parents"]
    urban = coverage.coverage(unit_by_code("S0101"), term)["parents"]
    mixed = coverage.coverage(unit_by_code("DEMO"), term)["parents"]
    assert rural.target == 0.8 and urban.target == 1.0
    assert 0.8 < mixed.target < 1.0


def test_cumulative_facts_count_in_later_terms_but_per_term_facts_do_not(term):
    later = org.create_term(
        actor=None, name="下一学期", starts_on=date(2099, 3, 1), ends_on=date(2099, 8, 31)
    )
    klass = _class_of("student1")
    coverage.record_fact(FactKind.STUDENT_COURSE, user("student1").id, klass, term)
    coverage.record_fact(FactKind.PARENT_ACTIVATED, user("parent1").id, klass, term)
    assert coverage.coverage(klass, later)["students"].numerator == 0
    assert coverage.coverage(klass, later)["parents"].numerator >= 1
    assert coverage.coverage(unit_by_code("DEMO"), later)["schools"].numerator == 4


def test_a_guardians_first_login_counts_as_parent_activated(app, client):
    with app.test_request_context():
        term = org.current_term()
        before = coverage.coverage(unit_by_code("S0101"), term)["parents"].numerator
    assert login(client, "parent1").status_code == 302
    client2 = app.test_client()
    assert login(client2, "parent1").status_code == 302  # a second login adds nothing
    with app.test_request_context():
        after = coverage.coverage(unit_by_code("S0101"), term)["parents"].numerator
        assert after == before + 1
        assert user("parent1").activated_at is not None


def test_a_teachers_login_is_not_parent_activation(app, client):
    with app.test_request_context():
        term = db.session.scalar(select(Term))
        before = coverage.coverage(unit_by_code("S0101"), term)["parents"].numerator
    login(client, "teacher1")
    with app.test_request_context():
        assert coverage.coverage(unit_by_code("S0101"), term)["parents"].numerator == before


def test_coverage_api(signed_in, app):
    with app.test_request_context():
        school = unit_by_code("S0101").id
    body = signed_in("county_admin").get(f"/api/v1/coverage?unit={school}").get_json()
    assert set(body["metrics"]) == {"schools", "teachers", "students", "parents", "parents_reached"}
    assert body["metrics"]["schools"] == {
        "numerator": 1,
        "denominator": 1,
        "rate": 1.0,
        "target": 1.0,
    }
    assert body["unit_id"] == school and body["term_id"]


def test_coverage_api_needs_a_unit(signed_in):
    response = signed_in("pref_admin").get("/api/v1/coverage")
    assert response.status_code == 422 and "unit" in response.get_json()["message"]
    assert response.get_json()["errors"] == {"unit": ["此项为必填项。"]}
