"""In Chromium at phone width: the lecturer types 20:43 in the schedule form and the lecture's page
and the list say 20:43 (the installation's clock), not 04:43 the next day."""

from __future__ import annotations

from tests.e2e.conftest import PHONE, sign_in

PATIENT = {"timeout": 60_000}


def test_a_lecture_scheduled_for_2043_shows_2043(live_url, new_page, shot):
    expert = new_page(viewport=PHONE)
    sign_in(expert, "expert1")
    expert.goto("/lectures/new")
    expert.fill("input[name=title]", "晚间家长禁毒课")
    expert.fill("input[name=starts_at]", "2030-03-01T20:43")
    expert.select_option("select[name=role]", "guardian")
    shot(expert, "form")
    with expert.expect_navigation(**PATIENT):
        expert.get_by_role("button", name="安排").click()
    header = expert.inner_text("h1 + p")
    assert "2030/3/1 20:43" in header, header
    assert expert.inner_text("#live-status-text") == "未开始"
    shot(expert, "room")
    expert.goto("/lectures")
    item = expert.locator("li", has_text="晚间家长禁毒课")
    assert "2030/3/1 20:43" in item.inner_text()
