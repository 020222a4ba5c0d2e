"""Quiet hours and the school office in a real browser, on a 360 px phone: school_admin turns on
quiet hours that cover now; parent1's message to them waits, with the automatic reply in the
thread and the hour of delivery under the message; parent1 then writes to the school office,
which gets it at once; school_admin turns quiet hours off again (the e2e server is shared)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests

from tests.demo_api import token
from tests.e2e.conftest import PHONE, assert_fits, sign_in

pytestmark = pytest.mark.e2e


def _api(base_url: str, username: str, method: str, path: str, body: dict | None = None):
    return requests.request(
        method,
        f"{base_url}{path}",
        json=body,
        headers={"Authorization": f"Bearer {token(base_url, username)}"},
        timeout=30,
    )


def test_a_message_waits_for_quiet_hours_and_the_office_does_not(new_page, shot, live_url):
    admin = new_page(viewport=PHONE)
    sign_in(admin, "school_admin")
    admin.goto("/messages")
    with admin.expect_navigation():
        admin.click("a[href='/messages/quiet-hours']")
    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    admin.check("input[name=enabled]")
    admin.fill("input[name=starts]", (now - timedelta(hours=1)).strftime("%H:%M"))
    admin.fill("input[name=ends]", (now + timedelta(hours=1)).strftime("%H:%M"))
    admin.fill("textarea[name=auto_reply]", "")
    assert_fits(admin)
    shot(admin, "quiet-hours-phone")
    with admin.expect_navigation():
        admin.click("form.stacked button[type=submit]")
    assert "免打扰设置已保存" in admin.inner_text("body")
    try:
        admin_id = _api(live_url, "school_admin", "GET", "/api/v1/me").json()["id"]
        made = _api(
            live_url, "parent1", "POST", "/api/v1/conversations", {"participant_ids": [admin_id]}
        )
        assert made.status_code == 201, made.text
        conversation_id = made.json()["id"]

        parent = new_page(viewport=PHONE)
        sign_in(parent, "parent1")
        parent.goto(f"/messages/{conversation_id}")
        parent.fill("textarea[name=text]", "张校长您好，想问一下下周家长会的时间。")
        with parent.expect_navigation():
            parent.click("form.composer button[type=submit]")
        waiting = parent.locator(".bubble.mine.waiting").last
        assert "免打扰中，将于" in waiting.inner_text()
        automatic = parent.locator(".bubble.automatic").last
        assert "正处于免打扰时段" in automatic.inner_text()
        assert_fits(parent)
        shot(parent, "quiet-hours-waiting-phone")
        # the admin's page does not show it yet
        seen = _api(
            live_url, "school_admin", "GET", f"/api/v1/conversations/{conversation_id}/messages"
        )
        assert "下周家长会" not in seen.text

        with parent.expect_navigation():
            parent.click("a[href='/messages/office']")
        parent.fill("textarea[name=text]", "孩子放学后还没到家，请帮忙联系班主任！")
        assert_fits(parent)
        shot(parent, "school-office-phone")
        with parent.expect_navigation():
            parent.click("form.stacked button[type=submit]")
        assert "学校办公室已收到您的消息" in parent.inner_text("body")
        line = parent.url.rsplit("/", 1)[-1]
        got = _api(live_url, "school_admin", "GET", f"/api/v1/conversations/{line}/messages")
        assert [m["status"] for m in got.json()["items"]] == ["delivered"]
        assert "还没到家" in got.json()["items"][0]["text"]
    finally:
        off = _api(
            live_url,
            "school_admin",
            "PUT",
            "/api/v1/quiet-hours",
            {"enabled": False, "starts": "21:00", "ends": "07:00"},
        )
        assert off.status_code == 200, off.text
