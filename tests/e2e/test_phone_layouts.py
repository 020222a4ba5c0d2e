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
