"""A voice message in a real browser, on a 360 px phone: teacher1 writes to the guardians of
class 5-1, parent1 answers by voice (Chromium's fake microphone, recorded with MediaRecorder),
the recording goes through media (the Celery worker transcodes it to AAC in MP4) into a private
thread back to the teacher, and the teacher's page plays it in an <audio> element."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.e2e.conftest import PHONE, assert_fits, sign_in

pytestmark = pytest.mark.e2e

#: uploading, processing and sending a few seconds of voice on a busy machine
PATIENCE_MS = 120_000


@pytest.fixture(scope="module")
def picture(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("picture") / "板书.png"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=640x480",
         "-frames:v", "1", str(path)],
        check=True, timeout=60,
    )  # fmt: skip
    return str(path)


def test_a_parent_answers_a_class_message_by_voice_and_the_teacher_plays_it(
    new_page, shot, e2e_worker, picture
):
    teacher = new_page(viewport=PHONE)
    sign_in(teacher, "teacher1")
    teacher.goto("/messages/new")
    with teacher.expect_navigation():
        teacher.locator("form.start:has(input[name=class_id]) button").first.click()
    assert re.search(r"/messages/\d+$", teacher.url)
    broadcast_url = teacher.url
    teacher.fill("textarea[name=text]", "各位家长好，请用语音告诉我孩子这周的阅读情况。")
    with teacher.expect_navigation():
        teacher.click("form.composer button[type=submit]")
    assert "阅读情况" in teacher.inner_text(".bubbles")

    parent = new_page(viewport=PHONE, permissions=["microphone"])
    sign_in(parent, "parent1")
    parent.goto(broadcast_url)
    assert "阅读情况" in parent.inner_text(".bubbles")
    parent.wait_for_selector("#attach-bar:not([hidden])")
    assert_fits(parent)
    shot(parent, "composer-phone")

    parent.click("#voice-button")
    parent.wait_for_function("document.getElementById('attach-bar').dataset.state === 'recording'")
    parent.wait_for_timeout(3000)  # three seconds of the fake microphone's beeps
    shot(parent, "recording-phone")
    parent.click("#voice-button")
    # uploaded, transcoded by the worker, sent: the reply opens its own thread with the teacher
    parent.wait_for_url(lambda url: not url.endswith(broadcast_url), timeout=PATIENCE_MS)
    mine = parent.locator(".bubble.mine audio.attachment-audio").last
    mine.wait_for(timeout=PATIENCE_MS)
    assert_fits(parent)
    shot(parent, "voice-sent-phone")
    reply_thread = parent.url

    teacher.goto(reply_thread)
    audio = teacher.locator(".bubble:not(.mine) audio.attachment-audio").last
    audio.wait_for()
    assert "王爸爸" in teacher.inner_text(".bubbles")
    source = audio.get_attribute("src") or ""
    assert source.startswith("/media/o/") or source.startswith("http")
    audio.evaluate("a => { a.muted = true; return a.play(); }")
    teacher.wait_for_function(
        "(() => { const a = [...document.querySelectorAll('.bubble:not(.mine) audio')].pop();"
        " return a && a.readyState >= 2 && a.currentTime > 0.3 && !a.error; })()",
        timeout=30_000,
    )
    facts = audio.evaluate("a => ({duration: a.duration, error: a.error && a.error.code})")
    assert facts["error"] is None and 2.0 < facts["duration"] < 6.0, facts
    assert_fits(teacher)
    shot(teacher, "voice-played-phone")

    # the teacher answers with a picture: the parent's open page shows its thumbnail
    parent.goto(reply_thread)
    parent.wait_for_function("() => window.io !== undefined")
    teacher.set_input_files("#attach-file", picture)
    thumbnail = parent.locator(".bubble:not(.mine) img.attachment-image").last
    thumbnail.wait_for(timeout=PATIENCE_MS)
    parent.wait_for_function(
        "(() => { const i = [...document.querySelectorAll('img.attachment-image')].pop();"
        " return i && i.complete && i.naturalWidth > 0; })()"
    )
    assert_fits(parent)
    shot(parent, "picture-received-phone")
