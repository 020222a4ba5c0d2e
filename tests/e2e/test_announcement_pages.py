"""An announcement with 回执 in real browsers: the county admin sends it to a school's
guardians, parent1 opens it on a phone and acknowledges it, and the county admin's receipts
chart (Apache ECharts) moves without a reload."""

from __future__ import annotations

import pytest
import requests

from tests import demo_api
from tests.e2e.conftest import DESKTOP, PHONE, assert_fits, sign_in

pytestmark = pytest.mark.e2e


def _school(url: str, token: str, code: str) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    me = requests.get(f"{url}/api/v1/me", headers=headers, timeout=30).json()
    county = next(r["unit_id"] for r in me["roles"] if r["role"] == "county_admin")
    children = requests.get(f"{url}/api/v1/units/{county}/children", headers=headers, timeout=30)
    return next(child["id"] for child in children.json() if child["code"] == code)


def test_a_guardian_acknowledges_and_the_county_chart_moves(live_url, new_page, shot):
    token = demo_api.token(live_url, "county_admin")
    school = _school(live_url, token, "S0101")
    sent = requests.post(
        f"{live_url}/api/v1/announcements",
        json={
            "title": "关于召开禁毒家长会的通知",
            "body": "请家长于周五下午三点到校参加。\n带好孩子的禁毒作业。",
            "audience": [{"unit_id": school, "role": "guardian"}],
            "requires_ack": True,
        },
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert sent.status_code == 201, sent.text
    announcement = sent.json()["id"]

    admin = new_page(viewport=DESKTOP)
    sign_in(admin, "county_admin")
    admin.goto(f"/announcements/{announcement}")
    admin.locator("#receipts-chart canvas").wait_for()
    assert admin.get_attribute("#receipts-chart", "data-acknowledged") == "0"

    parent = new_page(viewport=PHONE)
    sign_in(parent, "parent1")
    parent.goto("/announcements")
    parent.click("text=关于召开禁毒家长会的通知")
    assert "带好孩子的禁毒作业" in parent.inner_text("main")
    with parent.expect_navigation():
        parent.click("#ack")
    assert "已确认" in parent.inner_text("main")
    assert parent.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(parent, "guardian-acknowledged")

    # the county admin's chart refreshes by itself (every 15 s)
    admin.wait_for_function(
        "document.getElementById('receipts-chart').dataset.acknowledged === '1'",
        timeout=60_000,
    )
    # the figures beside the chart follow it
    row = admin.locator("#receipts tr", has_text="示范市第一小学")
    assert row.locator("[data-count=acknowledged]").inner_text() == "1"
    assert admin.inner_text("#receipts .stats [data-count=acknowledged]") == "1"
    shot(admin, "county-receipts")


def test_the_composer_on_a_phone(new_page, shot):
    page = new_page(viewport=PHONE)
    sign_in(page, "county_admin")
    page.goto("/announcements")
    page.click("text=发布通知")
    page.fill("input[name=title]", "关于开展禁毒宣传月的通知")
    school = page.locator("fieldset.audience label:has-text('示范市第一小学') input")
    # the org tree's search shows the match and hides the rest
    page.fill("input.org-filter", "第一小学")
    assert school.is_visible()
    hidden = page.locator("fieldset.audience li[hidden]")
    assert hidden.count() >= 1
    page.fill("input.org-filter", "没有这个单位")
    assert page.locator("fieldset.audience p.muted:not([hidden])").is_visible()
    page.fill("input.org-filter", "第一小学")
    school.check()
    page.select_option("select[name=role]", "guardian")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "composer")
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert "已发送给" in page.inner_text("main")


def test_a_prefecture_admin_finds_a_school_in_the_closed_tree(new_page, shot):
    page = new_page(viewport=PHONE)
    sign_in(page, "pref_admin")
    page.goto("/announcements/new")
    school = page.locator("fieldset.audience label:has-text('示范市第一小学') input")
    assert not school.is_visible()  # inside its county's closed branch
    page.fill("input.org-filter", "第一小学")
    assert school.is_visible()
    assert_fits(page, viewport=PHONE)
    shot(page, "composer-tree-search")
