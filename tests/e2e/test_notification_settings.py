"""A guardian's notification settings on a phone: from the inbox to the settings, an e-mail
address and a choice saved, safety notices shown as always on."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import PHONE, sign_in

pytestmark = pytest.mark.e2e


def test_a_guardian_chooses_email_at_once_for_quizzes(new_page, shot):
    page = new_page(viewport=PHONE)
    sign_in(page, "parent1")
    page.goto("/notifications")
    page.click("text=通知设置")
    assert page.url.endswith("/notifications/settings")
    # the safety row has no choice to make
    safety = page.locator("tr", has_text="安全提醒")
    assert safety.locator("select").count() == 0 and "立即" in safety.inner_text()
    page.fill("input[name=email]", "parent1@localhost")
    page.select_option("select[name='quiz:email']", "instant")
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert "name@example.com" in page.inner_text("[role=alert]")
    assert page.input_value("input[name=email]") == "parent1@localhost"  # what was typed is kept
    page.fill("input[name=email]", "parent1@example.org")
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert "通知设置已保存" in page.inner_text("main")
    assert page.input_value("select[name='quiz:email']") == "instant"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "notification-settings")
