"""Pages whose tables fell off a phone: at 360 px every column of the audit log and of the item
analysis is on screen, and the question of an item reads across the width."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import PHONE, sign_in

pytestmark = pytest.mark.e2e


def on_screen(page, locator) -> None:
    """The element lies within the phone's width (not in a part of a table scrolled away)."""
    box = locator.bounding_box()
    assert box is not None, "not rendered"
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 0.5, box


def test_the_audit_log_is_a_card_per_event_on_a_phone(new_page, shot):
    page = new_page(viewport=PHONE)
    sign_in(page, "school_admin")
    page.goto("/admin/audit?action=login.succeeded")
    row = page.locator("main table tbody tr").first
    cells = row.locator("td")
    assert "登录成功" in cells.nth(1).inner_text()  # the action by name, not login.succeeded
    for index in range(cells.count()):
        if cells.nth(index).is_visible():
            on_screen(page, cells.nth(index))
    assert "127.0.0.1" in row.inner_text()  # the address too, within the phone's width
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "audit")


def _take_demo_quiz(page, username: str) -> None:
    """``username`` takes the demo quiz through the API (answers optional) and submits it."""
    token = page.request.post(
        "/api/v1/auth/token", data={"username": username, "password": "demo1234"}
    ).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    quizzes = page.request.get("/api/v1/quizzes", headers=headers).json()
    quiz = next(q for q in quizzes if q["title"] == "禁毒知识小测验")
    started = page.request.post(f"/api/v1/quizzes/{quiz['id']}/attempts", headers=headers)
    assert started.ok, started.text()
    attempt = started.json()["attempt_id"]
    done = page.request.post(f"/api/v1/attempts/{attempt}/submit", headers=headers)
    assert done.ok, done.text()


def test_item_analysis_gives_the_question_the_phones_width(new_page, shot):
    page = new_page(viewport=PHONE)
    _take_demo_quiz(page, "s_S0101_5_05")
    sign_in(page, "teacher1")
    page.goto("/quizzes")
    with page.expect_navigation():
        page.click("text=禁毒知识小测验")
    section = page.locator("section.card", has_text="试题分析")
    question = section.locator("tbody tr").first.locator("td").first
    box = question.bounding_box()
    # as a table the question got some 40 px: four characters a line
    assert box is not None and box["width"] >= PHONE["width"] * 0.7, box
    for cell in section.locator("tbody tr").first.locator("td").all():
        if cell.is_visible():
            on_screen(page, cell)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    section.scroll_into_view_if_needed()
    shot(page, "item-analysis")
