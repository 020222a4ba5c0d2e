"""The coverage dashboard in a real browser, at phone and desktop sizes: county_admin reads the
county (the charts are drawn), changes the chart's coverage, drills down to a class (totals,
no names), and school_admin sees the class's pupils."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import DESKTOP, PHONE, assert_fits, sign_in

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_county_admin_reads_the_dashboard_and_drills_down(new_page, shot, size):
    viewport = PHONE if size == "phone" else DESKTOP
    page = new_page(viewport=viewport)
    sign_in(page, "county_admin")
    page.goto("/")
    with page.expect_navigation():
        page.click("nav a[href='/dashboard']")
    page.wait_for_selector("#children-chart[data-drawn]")
    page.wait_for_selector("#terms-chart[data-drawn]")
    assert int(page.get_attribute("#children-chart", "data-drawn")) >= 1
    assert page.locator("#children-chart canvas").count() == 1
    page.select_option("#dashboard-metric", "parents")
    assert "城乡对比" in page.inner_text("main")
    if size == "phone":
        assert_fits(page, viewport=PHONE)
    shot(page, f"county-dashboard-{size}")
    # down to a school, then a class: totals, no names
    with page.expect_navigation():
        page.click("#children ul.children a >> nth=0")
    with page.expect_navigation():
        page.locator("#children ul.children a").first.click()
    while page.locator("#children ul.children a").count():
        with page.expect_navigation():
            page.locator("#children ul.children a").first.click()
    assert "仅对本班教师和本校管理员可见" in page.inner_text("main")
    shot(page, f"class-dashboard-county-{size}")


def test_school_admin_sees_the_pupils_of_a_class(new_page, shot):
    page = new_page(viewport=PHONE)
    sign_in(page, "school_admin")
    page.goto("/dashboard")
    for _level in range(2):  # school → grade → class
        with page.expect_navigation():
            page.locator("#children ul.children a").first.click()
    page.wait_for_selector("#pupils")
    assert page.locator("#pupils tbody tr").count() >= 1
    assert_fits(page, viewport=PHONE)
    shot(page, "class-dashboard-pupils-phone")
