"""The carrier's pages in a real browser: every demo role's home page on a phone and a desktop,
signing out, the language switch, a wrong password, the unit browser on a phone."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import DESKTOP, PHONE, assert_fits, sign_in

pytestmark = pytest.mark.e2e

#: demo login → (the Chinese role chip, is an admin, shows a child)
ROLES = {
    "pref_admin": ("州管理员", True),
    "county_admin": ("县管理员", True),
    "school_admin": ("学校管理员", True),
    "teacher1": ("教师", False),
    "student1": ("学生", False),
    "parent1": ("家长", False),
    "expert1": ("禁毒专家", False),
}


def page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


@pytest.mark.parametrize("username", list(ROLES))
def test_home_page_for_each_role(new_page, shot, username):
    chip, is_admin = ROLES[username]
    for label, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page = new_page(viewport=viewport)
        sign_in(page, username)
        assert page.url.endswith("/"), page.url
        assert page.locator("html").get_attribute("lang") == "zh-CN"
        assert "欢迎" in page.locator("h1").first.inner_text()
        chips = page.locator(".hero .chip").all_inner_texts()
        assert any(text.startswith(chip) for text in chips), chips
        coverage = page.locator(".metrics .metric")
        if is_admin:
            assert "覆盖率" in page.locator("main").inner_text()
            assert coverage.count() == 4
            assert all("%" in text for text in page.locator(".metric-rate").all_inner_texts())
        else:
            assert coverage.count() == 0
        if username == "parent1":
            assert "王小明" in page.locator("main").inner_text()
        assert_fits(page, viewport)
        shot(page, label)


def test_sign_out_really_signs_out(new_page, shot):
    page = new_page(viewport=PHONE)
    sign_in(page, "teacher1")
    assert "欢迎" in page.inner_text("h1")
    with page.expect_navigation():
        page.get_by_role("button", name="退出").click()
    assert "/login" in page.url
    assert page.locator("input[name=password]").is_visible()
    shot(page, "signed-out")
    # the page before, whether from the back button or reloaded, is the login form again
    page.go_back()
    page.reload()
    assert "/login" in page.url
    assert page.locator("input[name=password]").is_visible()
    assert "欢迎" not in page.inner_text("body")
    page.goto("/")
    assert "/login" in page.url


def test_back_button_after_sign_out_shows_no_private_page(new_page):
    page = new_page(viewport=PHONE)
    sign_in(page, "parent1")
    assert "王小明" in page.inner_text("main")
    with page.expect_navigation():
        page.get_by_role("button", name="退出").click()
    page.go_back()
    page.wait_for_load_state()
    assert "王小明" not in page.inner_text("body")


def test_english_switch(new_page, shot):
    page = new_page(viewport=PHONE)
    sign_in(page, "student1")
    with page.expect_navigation():
        page.get_by_role("link", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Welcome" in page.inner_text("h1")
    assert "Student" in page.locator(".hero .chip").first.inner_text()
    assert page.get_by_role("button", name="Sign out").is_visible()
    assert_fits(page, PHONE)
    shot(page, "english")
    with page.expect_navigation():
        page.get_by_role("link", name="中文").click()
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert "欢迎" in page.inner_text("h1")


def test_wrong_password_shows_the_error_in_chinese(new_page, shot):
    page = new_page(viewport=PHONE)
    sign_in(page, "expert1", "not-the-password")
    assert "/login" in page.url
    assert page.get_by_role("alert").inner_text() == "用户名或密码错误。"
    assert page.locator("input[name=password]").is_visible()
    assert_fits(page, PHONE)
    shot(page, "wrong-password")
    sign_in(page, "expert1")  # the right one still works after one mistake
    assert "欢迎" in page.inner_text("h1")


def test_unit_browser_on_a_phone(new_page, shot):
    page = new_page(viewport=PHONE)
    sign_in(page, "county_admin")
    with page.expect_navigation():
        page.get_by_role("link", name=re.compile("管理单位和人员")).click()
    assert re.search(r"/admin/units/\d+$", page.url), page.url
    assert "示范市" in page.inner_text("h1")
    assert page.locator(".metrics .metric").count() == 4
    schools = page.locator("main ul.list li").all_inner_texts()
    assert any("S0101" in text and "小学" in text and "2 个年级" in text for text in schools), (
        schools
    )
    assert_fits(page, PHONE)
    shot(page, "county")
    page.set_viewport_size(DESKTOP)
    shot(page, "county-desktop")
    page.set_viewport_size(PHONE)
    with page.expect_navigation():
        page.get_by_role("link", name="示范市第一小学").click()
    assert "示范市第一小学" in page.inner_text("h1")
    grades = page.locator("main ul.list li .muted").all_inner_texts()
    # counts read as counts (other tests of the run may add classes to these grades)
    assert [re.sub(r"(?<=· )\d+", "N", text) for text in grades] == [
        "G5 · N 个班级",
        "G6 · N 个班级",
    ], grades
    assert_fits(page, PHONE)
    shot(page, "school")
    with page.expect_navigation():
        page.locator("main .actions").get_by_role("link", name="人员").click()
    assert page.locator("table.table tbody tr").count() > 0
    assert_fits(page, PHONE)
    shot(page, "people")


def test_admin_pages_fit_a_phone(new_page, shot):
    page = new_page(viewport=PHONE)
    sign_in(page, "pref_admin")
    for label, name in (("学期", "terms"), ("审计日志", "audit"), ("单位", "units")):
        with page.expect_navigation():
            page.locator("nav.menu").get_by_role("link", name=label).click()
        assert_fits(page, PHONE)
        shot(page, name)
        if name == "audit":
            assert page.locator("nav.menu a[aria-current=page]").inner_text() == label
            assert page.locator("table.table tbody tr").count() > 0  # this run's sign-ins
    # the prefecture admin administers one unit: "Units" opens it
    assert "示范州" in page.inner_text("h1")
    with page.expect_navigation():
        page.locator("main").get_by_role("link", name="示范市", exact=True).click()
    with page.expect_navigation():
        page.locator("main .actions").get_by_role("link", name="人员").click()
    page.fill("input[name=q]", "student1")
    with page.expect_navigation():
        page.locator("form.filters button[type=submit]").click()
    with page.expect_navigation():
        page.locator("table.table").get_by_role("link", name="王小明").click()
    assert "王小明" in page.inner_text("h1")
    assert_fits(page, PHONE)
    shot(page, "user")
    # on a phone the menu is one sideways-scrolling row: the current page's entry is in view
    menu = page.locator("nav.menu")
    assert menu.evaluate("m => m.scrollWidth > m.clientWidth"), "expected more entries than fit"
    last = menu.locator("a").last
    label = last.inner_text()
    page.goto(last.get_attribute("href"))
    current = page.locator("nav.menu a[aria-current=page]")
    assert current.inner_text() == label
    box = current.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    shot(page, "menu-end")
    page.goto("/account/password")
    assert_fits(page, PHONE)
    shot(page, "password")
    response = page.goto("/admin/units/999999")
    assert response.status == 404
    assert "404" in page.inner_text("h1")
    assert_fits(page, PHONE)
    shot(page, "not-found")


def test_a_reminder_shows_on_the_phone_home_and_opens_its_link(new_page, shot, e2e_env):
    import psycopg

    url = e2e_env["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as connection:
        # a guardian with nothing else unread (other browser tests send parent1 notices too)
        connection.execute(
            "UPDATE notifications SET read_at = now() WHERE read_at IS NULL AND user_id = "
            "(SELECT id FROM users WHERE username = 'parent1')"
        )
        connection.execute(
            "INSERT INTO notifications (user_id, kind, title, body, link, created_at) "
            "SELECT id, 'e2e', '本周五前完成《禁毒知识》期末测试', '还没有参加的同学请尽快完成。', "
            "'/notifications', now() FROM users WHERE username = 'parent1'"
        )
    page = new_page(viewport=PHONE)
    sign_in(page, "parent1")
    main = page.locator("main").inner_text()
    assert "新消息" in main and "期末测试" in main
    assert "消息 (1)" in page.locator(".menu").inner_text()
    assert_fits(page, PHONE)
    shot(page, "home-with-reminder")
    with page.expect_navigation():
        page.get_by_role("button", name="本周五前完成《禁毒知识》期末测试").click()
    assert page.url.endswith("/notifications")
    assert "消息 (" not in page.locator(".menu").inner_text()
    shot(page, "inbox")
