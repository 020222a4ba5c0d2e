"""Messages in a real browser, on a 360 px phone: teacher1 writes to parent1, parent1 finds it
in the inbox with its unread badge, opens it and replies; the teacher reads the reply, and the parent's open page
shows the teacher's next message as it arrives."""

from __future__ import annotations

import pytest
import requests

from tests.e2e.conftest import PHONE, assert_fits, sign_in

pytestmark = pytest.mark.e2e


def _conversation(base_url: str) -> int:
    """teacher1's conversation with parent1 (made through the API, as the phone app would)."""

    def token(username: str) -> str:
        response = requests.post(
            f"{base_url}/api/v1/auth/token",
            json={"username": username, "password": "demo1234"},
            timeout=30,
        )
        return response.json()["token"]

    parent_id = requests.get(
        f"{base_url}/api/v1/me", headers={"Authorization": f"Bearer {token('parent1')}"}, timeout=30
    ).json()["id"]
    made = requests.post(
        f"{base_url}/api/v1/conversations",
        json={"participant_ids": [parent_id]},
        headers={"Authorization": f"Bearer {token('teacher1')}"},
        timeout=30,
    )
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


def test_teacher_writes_parent_replies_on_a_phone(new_page, shot, live_url):
    conversation_id = _conversation(live_url)
    teacher = new_page(viewport=PHONE)
    sign_in(teacher, "teacher1")
    teacher.goto(f"/messages/{conversation_id}")
    teacher.fill("textarea[name=text]", "王爸爸您好，明天下午三点开家长会，请准时参加。")
    with teacher.expect_navigation():
        teacher.click("form.composer button[type=submit]")
    assert "明天下午三点开家长会" in teacher.inner_text(".bubbles")

    parent = new_page(viewport=PHONE)
    sign_in(parent, "parent1")
    parent.goto("/messages")
    row = parent.locator(".thread", has_text="李老师")
    assert row.locator(".badge").inner_text().strip().isdigit()
    assert_fits(parent)
    shot(parent, "inbox-phone")
    with parent.expect_navigation():
        row.first.click()
    assert "明天下午三点开家长会" in parent.inner_text(".bubbles")
    parent.fill("textarea[name=text]", "收到，谢谢李老师！我会准时到。")
    with parent.expect_navigation():
        parent.click("form.composer button[type=submit]")
    mine = parent.locator(".bubble.mine").last
    assert "我会准时到" in mine.inner_text()
    assert_fits(parent)
    shot(parent, "conversation-phone")

    # an over-long message is refused with its reason, and nothing is sent
    parent.evaluate("document.querySelector('textarea[name=text]').removeAttribute('maxlength')")
    parent.fill("textarea[name=text]", "字" * 2001)
    parent.click("form.composer button[type=submit]")
    parent.wait_for_selector("form.composer .error")
    assert "2000" in parent.inner_text("form.composer .error")

    teacher.reload()
    assert "我会准时到" in teacher.inner_text(".bubbles")
    # the parent's open page hears the teacher's next message over /messages, without a reload
    parent.goto(f"/messages/{conversation_id}")
    parent.wait_for_function("() => window.io !== undefined")
    teacher.fill("textarea[name=text]", "好的，明天见。")
    with teacher.expect_navigation():
        teacher.click("form.composer button[type=submit]")
    parent.locator(".bubble:not(.mine)", has_text="明天见").wait_for()
    shot(parent, "live-reply-phone")
    # the inbox no longer counts what the parent has read (the page's read event may still be
    # on its way: look again until it has arrived)
    for _ in range(100):
        parent.goto("/messages")
        if parent.locator(".thread", has_text="李老师").locator(".badge").count() == 0:
            break
        parent.wait_for_timeout(200)
    assert parent.locator(".thread", has_text="李老师").locator(".badge").count() == 0


def test_a_parent_starts_a_conversation_with_the_childs_teacher(new_page, shot):
    parent = new_page(viewport=PHONE)
    sign_in(parent, "parent1")
    parent.goto("/messages")
    with parent.expect_navigation():
        parent.click("text=发起沟通")
    offered = parent.inner_text("main")
    assert "李老师" in offered and "第一小学管理员" in offered
    assert_fits(parent)
    shot(parent, "new-conversation-phone")
    with parent.expect_navigation():
        parent.locator("form.start button", has_text="李老师").first.click()
    assert parent.locator("h1").inner_text() == "李老师"
    assert parent.locator("textarea[name=text]").count() == 1
