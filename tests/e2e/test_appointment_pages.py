"""Appointments (约谈) in a real browser, on a 360 px phone: teacher1 publishes a video slot,
parent1 books it with a reason, and both open the call page: a one-to-one WebRTC call whose
signalling runs over /messages, each side decoding the other's frames (Chromium's fake camera
and microphone, on loopback).

The call's browser is launched apart from the suite's, in a network namespace of its own whose
only interface is loopback (``unshare --net``), with loopback candidates allowed
(``--allow-loopback-in-peer-connection``): the media can only go 127.0.0.1 to 127.0.0.1 (or
::1), never through the machine's other addresses. It reaches the test server through a byte
pipe over a Unix socket (``loopback_forward.py``), on the server's own port.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest

from tests.e2e import conftest as e2e
from tests.e2e.conftest import PHONE, assert_fits, sign_in

pytestmark = pytest.mark.e2e

ZONE = ZoneInfo("Asia/Shanghai")  # the server's ELEARN_TIMEZONE default
CALL_WAIT_MS = 45_000

#: the remote <video> shows frames that move on
REMOTE_PLAYING = """
() => {
  var video = document.getElementById("remote-video");
  return video && video.videoWidth > 0 && video.currentTime > 0 ? video.currentTime : 0;
}
"""

#: frames decoded, as the connection's inbound video RTP statistics count them
FRAMES_DECODED = """
async () => {
  if (!window.appointmentCall) return 0;
  var stats = await window.appointmentCall.getStats();
  var frames = 0;
  stats.forEach(function (report) {
    if (report.type === "inbound-rtp" && report.kind === "video") frames += report.framesDecoded || 0;
  });
  return frames;
}
"""


LOOPBACK = {"127.0.0.1", "::1"}
#: the addresses of the candidate pair the connection chose (local, remote)
CHOSEN_PAIR = """
async () => {
  var stats = await window.appointmentCall.getStats();
  var byId = {};
  stats.forEach(function (report) { byId[report.id] = report; });
  var found = null;
  stats.forEach(function (report) {
    if (report.type === "transport" && report.selectedCandidatePairId) {
      var pair = byId[report.selectedCandidatePairId];
      found = [byId[pair.localCandidateId].address, byId[pair.remoteCandidateId].address];
    }
  });
  return found;
}
"""


FORWARD = Path(__file__).with_name("loopback_forward.py")


@pytest.fixture(scope="module")
def call_browser(
    browser: Any, live_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """Chromium with fake devices (the suite's arguments) in a loopback-only network namespace,
    loopback ICE candidates allowed, the test server reachable on its own port."""
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        pytest.fail("the call test needs unshare (util-linux) and ip (iproute2)", pytrace=False)
    folder = tmp_path_factory.mktemp("call-netns")
    sock, port = folder / "server.sock", urlsplit(live_url).port
    outside = subprocess.Popen([sys.executable, str(FORWARD), "unix-to-tcp", str(sock), str(port)])
    inner = folder / "inner.sh"
    inner.write_text(
        "ip link set lo up || exit 1\n"
        f'"{sys.executable}" "{FORWARD}" tcp-to-unix {port} "{sock}" &\n'
        f'exec "{e2e.CHROMIUM}" "$@"\n'
    )
    wrapper = folder / "chromium-loopback"
    wrapper.write_text(f'#!/bin/sh\nexec unshare --net /bin/sh "{inner}" "$@"\n')
    wrapper.chmod(0o755)
    try:
        deadline = time.monotonic() + 10
        while not sock.exists():
            assert time.monotonic() < deadline, "the forwarder did not start"
            time.sleep(0.05)
        launched = browser.browser_type.launch(
            executable_path=str(wrapper),
            args=[*e2e.CHROMIUM_ARGS, "--allow-loopback-in-peer-connection"],
        )
        try:
            yield launched
        finally:
            launched.close()
    finally:
        outside.terminate()
        outside.wait(timeout=10)


@pytest.fixture
def phone(
    call_browser: Any, live_url: str, csp_violations: list[str]
) -> Iterator[Callable[[], Any]]:
    """``phone()`` → a page of its own context on a 360 px phone, camera and microphone allowed."""
    contexts: list[Any] = []

    def make() -> Any:
        context = call_browser.new_context(
            base_url=live_url,
            viewport=PHONE,
            is_mobile=True,
            has_touch=True,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            permissions=["camera", "microphone"],
        )
        context.set_default_timeout(e2e.WAIT_MS)
        context.add_init_script(e2e.CSP_REPORTER)
        context.on(
            "console",
            lambda message: e2e._is_csp_message(message) and csp_violations.append(message.text),
        )
        contexts.append(context)
        page = context.new_page()
        page.wait_for_function = e2e._polled_from_here(page)
        return page

    yield make
    for context in contexts:
        context.close()


def _local(moment: datetime) -> str:
    return moment.astimezone(ZONE).strftime("%Y-%m-%dT%H:%M")


def _decodes_the_other_side(page: Any) -> None:
    first = page.wait_for_function(REMOTE_PLAYING, timeout=CALL_WAIT_MS)
    page.wait_for_function(f"() => ({REMOTE_PLAYING})() > {first}", timeout=CALL_WAIT_MS)
    assert page.wait_for_function(f"async () => (await ({FRAMES_DECODED})()) > 0") > 0
    width = page.evaluate("document.getElementById('remote-video').videoWidth")
    assert width > 0
    # the namespace has loopback only (the remote may show as a peer-reflexive candidate
    # without its address)
    local, remote = page.wait_for_function(CHOSEN_PAIR)
    assert local in LOOPBACK and remote in {*LOOPBACK, ""}, (local, remote)


def test_a_booked_video_appointment_connects_both_sides(phone, shot):
    start = (datetime.now(ZONE) + timedelta(hours=2)).replace(second=0, microsecond=0)
    teacher = phone()
    sign_in(teacher, "teacher1")
    teacher.goto("/appointments")
    assert "约谈" in teacher.inner_text("nav.menu")
    with teacher.expect_navigation():
        teacher.click("text=我的可约时段")
    teacher.fill("input[name=starts_at]", _local(start))
    teacher.fill("input[name=ends_at]", _local(start + timedelta(minutes=30)))
    teacher.check("input[name=mode][value=video]")
    with teacher.expect_navigation():
        teacher.click("form.slot-form button[type=submit]")
    assert "时段已发布" in teacher.inner_text("main")
    assert_fits(teacher)
    shot(teacher, "slots-teacher")

    parent = phone()
    sign_in(parent, "parent1")
    parent.goto("/appointments")
    with parent.expect_navigation():
        parent.click("text=预约约谈")
    slot = parent.locator("li.slot", has_text=start.strftime("%Y-%m-%d %H:%M")).filter(
        has_text="李老师"
    )
    slot.locator("textarea[name=reason]").fill("孩子最近回家不爱说话，想和老师聊聊。")
    assert_fits(parent)
    shot(parent, "book-parent")
    with parent.expect_navigation():
        slot.locator("button[type=submit]").click()
    assert "已确认" in parent.inner_text(".facts")
    assert "视频通话" in parent.inner_text(".facts")
    assert_fits(parent)
    shot(parent, "booked-parent")

    with parent.expect_navigation():
        parent.click("a.call-link")
    teacher.goto("/appointments")
    with teacher.expect_navigation():
        teacher.locator("a.appointment", has_text="王爸爸").first.click()
    with teacher.expect_navigation():
        teacher.click("a.call-link")

    _decodes_the_other_side(teacher)
    _decodes_the_other_side(parent)
    for page in (teacher, parent):
        page.wait_for_function(
            "() => document.getElementById('call-status').textContent.trim() === '已接通'"
        )
        assert_fits(page)
    shot(teacher, "call-teacher")
    shot(parent, "call-parent")

    # the teacher's private notes: saved on the appointment, not shown to the parent
    parent_url = parent.url.replace("/call", "")
    teacher.click("#hangup")
    parent.wait_for_function(
        "() => document.getElementById('call-status').textContent.includes('已离开通话')"
    )
    teacher.goto(teacher.url.replace("/call", ""))
    teacher.fill("textarea[name=notes]", "家长担心孩子情绪，约定下周再沟通。")
    with teacher.expect_navigation():
        teacher.click("form.notes-form button[type=submit]")
    assert "约定下周再沟通" in teacher.inner_text("textarea[name=notes]") or (
        "约定下周再沟通" in teacher.input_value("textarea[name=notes]")
    )
    parent.goto(parent_url)
    assert "约定下周再沟通" not in parent.content()
    assert parent.locator("textarea[name=notes]").count() == 0
