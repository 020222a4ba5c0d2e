"""The whole lecture in Chromium with a fake camera and microphone: expert1 goes live from the
studio page, a student's viewer page plays the stream (hls.js, ``currentTime`` advances), the
student's question reaches the expert, the expert's poll summary reaches the student, and after
the end the recording is in the course library.
"""

from __future__ import annotations

from tests.e2e.conftest import DESKTOP, PHONE, sign_in
from tests.live.conftest import create_lecture, unit_id

# the machine may be busy (other suites, ffmpeg): be patient, never time-sensitive
PATIENT = {"timeout": 60_000}


def _current_time(page) -> float:
    return float(page.evaluate("document.getElementById('live-video').currentTime"))


def test_studio_to_viewer_to_recording(live_url, token, new_page, shot, e2e_worker):
    county = unit_id(live_url, token("pref_admin"), ["C01"])
    title = "直播课：远离新型毒品"
    lecture_id = create_lecture(live_url, token("expert1"), [{"unit_id": county}], title=title)

    expert = new_page(viewport=DESKTOP)
    expert.context.grant_permissions(["camera", "microphone"])
    sign_in(expert, "expert1")
    expert.goto(f"/lectures/{lecture_id}/studio")
    # the fake camera's picture in the preview before going on air
    expert.wait_for_function("document.getElementById('studio-preview').videoWidth > 0", **PATIENT)
    assert expert.get_attribute("#studio-state", "data-state") == "preview"
    expert.get_by_role("button", name="开始直播").click()
    expert.wait_for_function("window.liveStudio && window.liveStudio.sentSeconds >= 2", **PATIENT)
    assert expert.get_attribute("#studio-state", "data-state") == "live"

    student = new_page(viewport=PHONE)
    sign_in(student, "student1")
    student.goto(f"/lectures/{lecture_id}")
    student.wait_for_function(
        "document.getElementById('live-player').dataset.state === 'playing'", **PATIENT
    )
    student.wait_for_function("document.getElementById('live-video').currentTime > 1", **PATIENT)
    first = _current_time(student)
    student.wait_for_function(
        f"document.getElementById('live-video').currentTime > {first + 2}", **PATIENT
    )
    assert student.evaluate("window.liveViewer.mode") == "video", student.evaluate(
        "window.liveViewer.errors"
    )
    assert student.evaluate("document.getElementById('live-video').videoWidth") > 0
    assert student.get_attribute("#live-quality", "data-mode") == "video"
    shot(student, "viewer-playing")
    shot(expert, "studio-live")

    student.fill("#question-form input[name=text]", "怎样识别伪装成零食的毒品？")
    student.click("#question-form button[type=submit]")
    expert.locator("#questions li", has_text="怎样识别伪装成零食的毒品？").wait_for(**PATIENT)

    expert.fill("#poll-form input[name=question]", "你见过“奶茶粉”包装的毒品吗？")
    expert.fill("#poll-form input[name=choices]", "见过，没见过")
    expert.click("#poll-form button[type=submit]")
    student.locator("#poll-choices li", has_text="没见过").wait_for(**PATIENT)
    student.locator("#poll-choices li", has_text="没见过").get_by_role("button").click()
    for page in (student, expert):
        page.wait_for_function(
            "document.getElementById('poll-total').textContent === '1'", **PATIENT
        )
    assert "1" in student.inner_text("#poll-choices li:nth-child(2)")
    shot(student, "viewer-poll")
    shot(expert, "studio-room")

    # the stream still plays after the interaction
    now = _current_time(student)
    student.wait_for_function(
        f"document.getElementById('live-video').currentTime > {now + 1}", **PATIENT
    )

    expert.get_by_role("button", name="结束直播").click()
    expert.wait_for_function(
        "document.getElementById('studio-state').dataset.state === 'ended'", **PATIENT
    )
    link = student.locator("#live-recording")
    link.wait_for(state="visible", timeout=180_000)  # ffmpeg's last segment, then a Celery task
    shot(student, "viewer-ended")

    replay = link.get_attribute("href")
    student.goto("/courses?category=lecture_recording")
    student.get_by_text(title).first.wait_for(**PATIENT)
    shot(student, "library")

    # the replay is an ordinary lesson: the VOD player plays what the stream recorded
    student.goto(replay)
    student.evaluate("document.getElementById('lesson-player-media').muted = true")
    student.click("#lesson-player .media-start")  # nothing of the video is fetched before play
    student.wait_for_function(
        "document.getElementById('lesson-player-media').readyState >= 1", **PATIENT
    )
    duration = student.evaluate("document.getElementById('lesson-player-media').duration")
    assert duration > 5
    student.wait_for_function(
        "document.getElementById('lesson-player-media').currentTime > 2", **PATIENT
    )
    shot(student, "replay")


def test_class_screen_watches_and_counts_its_headcount(live_url, token, new_page, shot):
    """班班通: a teacher joins as the class with a headcount; the picture plays on; the studio
    counts the class's students among the people watching."""
    county = unit_id(live_url, token("pref_admin"), ["C01"])
    lecture_id = create_lecture(live_url, token("expert1"), [{"unit_id": county}],
                                title="班班通直播测试")  # fmt: skip
    expert = new_page(viewport=DESKTOP)
    expert.context.grant_permissions(["camera", "microphone"])
    sign_in(expert, "expert1")
    expert.goto(f"/lectures/{lecture_id}/studio")
    expert.wait_for_function("document.getElementById('studio-preview').videoWidth > 0", **PATIENT)
    expert.get_by_role("button", name="开始直播").click()
    expert.wait_for_function("window.liveStudio && window.liveStudio.sentSeconds >= 2", **PATIENT)

    teacher = new_page(viewport=DESKTOP)
    sign_in(teacher, "teacher1")
    teacher.goto(f"/lectures/{lecture_id}")
    teacher.wait_for_function("document.getElementById('live-video').currentTime > 1", **PATIENT)
    teacher.fill("#class-screen-form input[name=headcount]", "42")
    teacher.click("#class-screen-form button[type=submit]")
    now = _current_time(teacher)
    teacher.wait_for_function(
        f"document.getElementById('live-video').currentTime > {now + 2}", **PATIENT
    )
    # the studio asks the room every 5 s: the class screen counts 42 people (the teacher's own
    # earlier connection may still be counted until it closes, so at least 42)
    expert.wait_for_function(
        "Number(document.getElementById('watching').textContent) >= 42", **PATIENT
    )
    shot(teacher, "class-screen")
    shot(expert, "studio-class-screen")
    expert.get_by_role("button", name="结束直播").click()


def test_weak_connection_falls_back_to_audio_and_says_so(live_url, token, new_page, shot):
    county = unit_id(live_url, token("pref_admin"), ["C01"])
    lecture_id = create_lecture(live_url, token("expert1"), [{"unit_id": county}],
                                title="弱网直播测试")  # fmt: skip
    expert = new_page(viewport=DESKTOP)
    expert.context.grant_permissions(["camera", "microphone"])
    sign_in(expert, "expert1")
    expert.goto(f"/lectures/{lecture_id}/studio")
    expert.wait_for_function("document.getElementById('studio-preview').videoWidth > 0", **PATIENT)
    expert.get_by_role("button", name="开始直播").click()
    expert.wait_for_function("window.liveStudio && window.liveStudio.sentSeconds >= 2", **PATIENT)

    student = new_page(viewport=PHONE)
    sign_in(student, "student1")
    student.goto(f"/lectures/{lecture_id}")
    student.wait_for_function("document.getElementById('live-video').currentTime > 1", **PATIENT)
    assert student.get_attribute("#live-quality", "data-mode") == "video"
    # the line degrades to a rural school's ~240 kb/s: far below the video rendition (~1 Mb/s),
    # enough for the 64 kb/s audio
    cdp = student.context.new_cdp_session(student)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 150, "downloadThroughput": 30_000,
         "uploadThroughput": 30_000},
    )  # fmt: skip
    student.wait_for_function(
        "document.getElementById('live-quality').dataset.mode === 'audio'", timeout=120_000
    )
    indicator = student.locator("#live-quality")
    assert indicator.is_visible() and "仅音频" in indicator.inner_text()
    assert student.locator("#live-retry-video").is_visible()
    start = _current_time(student)
    student.wait_for_function(
        f"document.getElementById('live-video').currentTime > {start + 2}", timeout=120_000
    )
    shot(student, "audio-fallback")

    # the line recovers: the viewer asks for video again
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    student.click("#live-retry-video")
    student.wait_for_function(
        "document.getElementById('live-quality').dataset.mode === 'video'", **PATIENT
    )
    student.wait_for_function("document.getElementById('live-video').videoWidth > 0", **PATIENT)
    assert not student.locator("#live-retry-video").is_visible()
    expert.get_by_role("button", name="结束直播").click()


def test_switching_to_screen_share_keeps_the_same_stream(live_url, token, new_page, shot):
    county = unit_id(live_url, token("pref_admin"), ["C01"])
    lecture_id = create_lecture(live_url, token("expert1"), [{"unit_id": county}],
                                title="屏幕共享直播测试")  # fmt: skip
    expert = new_page(viewport=DESKTOP)
    expert.context.grant_permissions(["camera", "microphone"])
    sign_in(expert, "expert1")
    expert.goto(f"/lectures/{lecture_id}/studio")
    expert.wait_for_function("document.getElementById('studio-preview').videoWidth > 0", **PATIENT)
    expert.get_by_role("button", name="开始直播").click()
    expert.wait_for_function("window.liveStudio && window.liveStudio.sentSeconds >= 2", **PATIENT)
    student = new_page(viewport=PHONE)
    sign_in(student, "student1")
    student.goto(f"/lectures/{lecture_id}")
    student.wait_for_function("document.getElementById('live-video').currentTime > 1", **PATIENT)

    sent = expert.evaluate("window.liveStudio.sentSeconds")
    expert.select_option("#studio-source", "screen")  # the recorder restarts on the screen
    expert.wait_for_function(
        "document.getElementById('studio-preview').srcObject.getVideoTracks()[0].label"
        ".startsWith('screen')",
        **PATIENT,
    )
    expert.wait_for_function(f"window.liveStudio.sentSeconds >= {sent + 6}", **PATIENT)
    assert expert.get_attribute("#studio-state", "data-state") == "live"
    # the viewer's player goes on through the switch (a discontinuity in the same playlist):
    # 10 s more is past its buffer of pre-switch segments
    now = _current_time(student)
    student.wait_for_function(
        f"document.getElementById('live-video').currentTime > {now + 10}", timeout=90_000
    )
    # the switch itself costs the viewer nothing: no stall or error sends it to audio only (on a
    # machine busy with other work, a slow loopback may still make it choose audio for bandwidth,
    # which is the viewer doing its job, not the switch failing)
    mode = student.evaluate("window.liveViewer.mode")
    reason = student.get_attribute("#live-quality", "data-reason")
    assert mode == "video" or reason == "bandwidth", (mode, reason)
    shot(expert, "screen-share")
    shot(student, "screen-share-viewer")
    expert.get_by_role("button", name="结束直播").click()
