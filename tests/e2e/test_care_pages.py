"""Care files on a phone: the school's admin opens a file for student1 (risk factors, teacher1
as counsellor, the guardian's consent, notes), records a follow-up talk and reads the access
log; teacher1, the caseworker, opens it; the prefecture admin gets a 404 and sees the counts
page without a name."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import PHONE, assert_fits, sign_in

pytestmark = pytest.mark.e2e

NOTES = "家访：孩子与祖母同住，近期多次旷课"
TALK = "谈心谈话：孩子愿意回校，约定每周与班主任见面"


def test_a_care_file_on_a_phone_and_the_counts_without_names(new_page, shot, csp_violations):
    admin = new_page(viewport=PHONE)
    sign_in(admin, "school_admin")
    admin.goto("/care")
    with admin.expect_navigation():
        admin.click("text=新建档案")
    student = admin.locator("select[name=subject_id] option", has_text="(student1)")
    admin.select_option("select[name=subject_id]", value=student.get_attribute("value"))
    admin.check("input[name=risk_factor][value=long_absence]")
    admin.check("input[name=risk_factor][value=left_behind]")
    teacher = admin.locator("div.row", has_text="李老师")
    teacher.locator("input[name=caseworker]").check()
    teacher.locator("select").select_option("counsellor")
    admin.fill("input[name=consent_given_by]", "王爸爸")
    admin.fill("input[name=consent_relation]", "父亲")
    admin.fill("textarea[name=notes]", NOTES)
    assert_fits(admin)
    with admin.expect_navigation():
        admin.click("form button[type=submit].primary")
    assert NOTES in admin.inner_text("main")
    admin.fill("#followup-form textarea[name=notes]", TALK)
    admin.fill("#followup-form input[name=next_step]", "下周再次家访")
    with admin.expect_navigation():
        admin.click("#followup-form button[type=submit]")
    assert TALK in admin.inner_text("#followups")
    assert_fits(admin)
    shot(admin, "care-file")
    file_url = admin.url

    teacher_page = new_page(viewport=PHONE)
    sign_in(teacher_page, "teacher1")
    teacher_page.goto(file_url)
    assert TALK in teacher_page.inner_text("main")

    with admin.expect_navigation():
        admin.click("#log-link")
    log = admin.inner_text("#access-log")
    assert "李老师" in log and "阅读档案" in log
    assert_fits(admin)
    shot(admin, "access-log")

    pref = new_page(viewport=PHONE)
    sign_in(pref, "pref_admin")
    response = pref.goto(file_url)
    assert response is not None and response.status == 404
    pref.goto("/care/counts")
    totals = pref.inner_text("#totals")
    assert re.search(r"\b1\b", totals)
    main = pref.inner_text("main")
    assert "示范市第一小学" in main and "王小明" not in main
    assert_fits(pref)
    shot(pref, "counts")
    assert not csp_violations
