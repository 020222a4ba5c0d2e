"""The coverage dashboards: child units (the most behind first), urban and rural apart, the trend
by term and by week from the weekly rollups, the reminder to the units behind (audited), and a
class's pupils shown by name to its teachers and school admins only."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from elearn.extensions import db
from elearn.models import AuditEvent, CoverageWeekly, FactKind, Notification
from elearn.service import coverage, dashboard, org
from tests.conftest import csrf_token, unit_by_code, user


@pytest.fixture
def term(ctx):
    return org.current_term()


def _class_of(username):
    return user(username).roles[0].unit


def test_a_fact_counts_in_its_week_under_every_ancestor(term):
    klass = _class_of("student1")
    assert coverage.record_fact(FactKind.STUDENT_COURSE, user("student1").id, klass, term)
    week = coverage.week_of(datetime.now(UTC))
    assert week.weekday() == 0
    rows = db.session.scalars(
        select(CoverageWeekly).where(
            CoverageWeekly.kind == "student_course", CoverageWeekly.week == week
        )
    ).all()
    assert {r.unit_id for r in rows} == set(klass.ancestor_ids)
    series = dashboard.trend_by_week(unit_by_code("S0101"), term)
    assert series[-1][0] == week
    assert (
        series[-1][1]["students"].numerator
        == coverage.coverage(unit_by_code("S0101"), term)["students"].numerator
    )


def test_the_week_is_the_local_monday(ctx):
    # Sunday 23:30 UTC is Monday 07:30 in Asia/Shanghai: that Monday's week
    assert coverage.week_of(datetime(2026, 12, 6, 23, 30, tzinfo=UTC)) == date(2026, 12, 7)
    assert coverage.week_of(datetime(2026, 12, 6, 15, 30, tzinfo=UTC)) == date(2026, 11, 30)


def test_children_most_behind_first_and_the_urban_rural_split(term):
    county = unit_by_code("C01")
    rows = dashboard.children(county, term)
    assert rows, "the demo county has schools"
    behind = [len(r.behind) for r in rows]
    assert behind == sorted(behind, reverse=True)
    split = dashboard.urban_rural(unit_by_code("DEMO"), term)
    total = coverage.coverage(unit_by_code("DEMO"), term)
    for key in ("schools", "parents"):
        assert split.urban[key].numerator + split.rural[key].numerator == total[key].numerator
        assert split.urban[key].denominator + split.rural[key].denominator == total[key].denominator
    assert split.rural["parents"].target == coverage.RURAL_PARENT_TARGET


def test_the_reminder_reaches_the_admins_of_the_units_behind_and_is_audited(term):
    county = unit_by_code("C01")
    behind = [r for r in dashboard.children(county, term) if r.behind]
    assert behind
    told = dashboard.remind_behind(actor=user("county_admin"), unit=county, term=term)
    notices = db.session.scalars(
        select(Notification).where(Notification.kind == "coverage.reminder")
    ).all()
    assert told == len(notices) > 0
    assert {n.link for n in notices} <= {f"/dashboard/{r.unit.id}" for r in behind}
    [event] = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "coverage.reminded")
    ).all()
    assert event.details["people"] == told


def test_pupils_by_name_for_the_class_teachers_and_school_admins_only(term):
    klass = _class_of("student1")
    assert dashboard.may_see_pupils(user("school_admin"), klass)
    assert not dashboard.may_see_pupils(user("county_admin"), klass)
    assert not dashboard.may_see_pupils(user("pref_admin"), klass)
    assert not dashboard.may_see_pupils(user("parent1"), klass)
    coverage.record_fact(FactKind.STUDENT_COURSE, user("student1").id, klass, term)
    rows = {r.student.username: r for r in dashboard.pupils(klass, term)}
    assert rows["student1"].took_course is True
    assert rows["student1"].guardians >= 1


# --- the API and the page ---------------------------------------------------------------------------


def test_the_children_and_trend_api(app, signed_in):
    county_admin = signed_in("county_admin")
    with app.app_context():
        county, other = unit_by_code("C01").id, unit_by_code("C02").id
    body = county_admin.get(f"/api/v1/coverage/children?unit={county}").get_json()
    assert body["unit_id"] == county and body["children"]
    first = body["children"][0]
    assert set(first) == {"unit_id", "name", "type", "is_rural", "behind", "metrics"}
    assert set(first["metrics"]) >= {"schools", "teachers", "students", "parents"}
    trend = county_admin.get(f"/api/v1/coverage/trend?unit={county}").get_json()
    assert trend["terms"] and set(trend["terms"][-1]) == {"term_id", "name", "metrics"}
    weeks = county_admin.get(f"/api/v1/coverage/trend?unit={county}&by=week").get_json()
    assert weeks["terms"] == [] and isinstance(weeks["weeks"], list)
    assert county_admin.get(f"/api/v1/coverage/trend?unit={county}&by=day").status_code == 422
    # another county, and a parent
    assert county_admin.get(f"/api/v1/coverage/children?unit={other}").status_code == 404
    assert signed_in("parent1").get(f"/api/v1/coverage/trend?unit={county}").status_code == 404


def test_the_dashboard_page_and_privacy_by_role(app, signed_in):
    with app.app_context():
        klass = _class_of("student1").id
        county = unit_by_code("C01").id
    county_admin = signed_in("county_admin")
    home = county_admin.get("/dashboard")
    assert home.status_code == 302 and home.headers["Location"].endswith(f"/dashboard/{county}")
    page = county_admin.get(f"/dashboard/{county}").get_data(as_text=True)
    assert "覆盖率看板" in page and 'id="children-chart"' in page and "城乡对比" in page
    class_page = county_admin.get(f"/dashboard/{klass}").get_data(as_text=True)
    assert "王小明" not in class_page and "仅对本班教师和本校管理员可见" in class_page
    school_admin_page = signed_in("school_admin").get(f"/dashboard/{klass}").get_data(as_text=True)
    assert 'id="pupils"' in school_admin_page
    teacher = signed_in("teacher1")
    assert teacher.get("/dashboard").status_code == 302
    assert signed_in("parent1").get(f"/dashboard/{klass}").status_code in (403, 404)
    assert signed_in("parent1").get("/dashboard").status_code == 404
    sent = county_admin.post(
        f"/dashboard/{county}/remind",
        data={"csrf_token": csrf_token(county_admin, f"/dashboard/{county}")},
    )
    assert sent.status_code == 302


def test_the_coverage_ledger_lists_every_school_of_the_unit(app, signed_in):
    import io

    from openpyxl import load_workbook

    from elearn.service import ledgers

    with app.app_context():
        prefecture = unit_by_code("DEMO")
        schools = {s.name for s in ledgers.schools_under(prefecture)}
        county, other = unit_by_code("C01").id, unit_by_code("C02").id
    admin = signed_in("pref_admin")
    response = admin.get(f"/api/v1/ledgers/coverage?unit={prefecture.id}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == ledgers.XLSX
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    assert rows[0][0] == "示范州 覆盖率台账" and rows[1][0] == "学期"
    listed = {row[1] for row in rows[5:-1]}
    assert listed == schools and len(schools) == 4
    assert rows[-1][0] == "合计"
    # its header and a school's row: 学校开课 count, population, rate
    assert rows[4][:5] == ("县（市、新区）", "学校", "编号", "城乡", "学校开课")
    # another county's ledger is out of a county admin's reach; a PDF is not offered (yet)
    county_admin = signed_in("county_admin")
    assert county_admin.get(f"/api/v1/ledgers/coverage?unit={county}").status_code == 200
    assert county_admin.get(f"/api/v1/ledgers/coverage?unit={other}").status_code == 404
    assert county_admin.get(f"/api/v1/ledgers/coverage?unit={county}&format=pdf").status_code == 422
