"""The lecture room in Chromium: the expert goes live, a student chats (escaped), asks a question
the expert sees, and answers the expert's poll; both pages show the server's tally.
"""

from __future__ import annotations

from tests.e2e.conftest import DESKTOP, PHONE, sign_in
from tests.live.conftest import create_lecture, unit_id


def test_room_chat_question_and_poll(live_url, token, new_page, shot):
    county = unit_id(live_url, token("pref_admin"), ["C01"])
    lecture_id = create_lecture(
        live_url, token("expert1"), [{"unit_id": county}], title="<i>斜体</i>直播课"
    )
    # the machine may be busy (other suites, ffmpeg): be patient, never time-sensitive
    patient = {"timeout": 30_000}
    expert = new_page(viewport=DESKTOP)
    sign_in(expert, "expert1")
    expert.goto(f"/lectures/{lecture_id}")
    expert.get_by_role("button", name="开始直播").click()
    expert.wait_for_function(
        "document.getElementById('live-status').dataset.status === 'live'", **patient
    )

    student = new_page(viewport=PHONE)
    sign_in(student, "student1")
    student.goto(f"/lectures/{lecture_id}")
    assert "<i>斜体</i>直播课" in student.inner_text("h1")  # the title is text, not markup
    student.wait_for_function(
        "document.getElementById('live-status').dataset.status === 'live'", **patient
    )
    hostile = '<img src=x onerror="window.__xss=1"><b>粗体</b>'
    student.fill("#chat-form input[name=text]", hostile)
    student.click("#chat-form button[type=submit]")
    expert.locator("#chat li", has_text="粗体").wait_for(**patient)
    assert hostile in expert.inner_text("#chat")
    assert expert.locator("#chat img").count() == 0
    assert expert.evaluate("window.__xss") is None

    student.fill("#question-form input[name=text]", "吸毒会上瘾吗？")
    student.click("#question-form button[type=submit]")
    expert.locator("#questions li", has_text="吸毒会上瘾吗？").wait_for(**patient)
    student.click("#raise-hand")
    expert.locator("#hands li", has_text="王小明").wait_for(**patient)

    expert.fill("#poll-form input[name=question]", "吸毒违法吗？")
    expert.fill("#poll-form input[name=choices]", "违法，不违法")
    expert.click("#poll-form button[type=submit]")
    student.locator("#poll-choices li", has_text="不违法").wait_for(**patient)
    student.locator("#poll-choices li", has_text="违法").first.get_by_role("button").click()
    for page in (student, expert):
        page.wait_for_function(
            "document.getElementById('poll-total').textContent === '1'", **patient
        )
    shot(student, "student")
    shot(expert, "expert")
