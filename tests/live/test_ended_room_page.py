"""In Chromium at phone width: student1 is in a lecture's room when the lecturer ends it; the room
switches to "ended" (end time, no video promised, no chat, questions or hands), says the recording
is being prepared, and links it as soon as it is ready; opened again later it looks the same.
"""

from __future__ import annotations

import subprocess
import sys

from tests.e2e.conftest import PHONE, ROOT, sign_in
from tests.live.conftest import create_lecture, unit_id

PATIENT = {"timeout": 60_000}

#: the lecture's stream as ffmpeg leaves it in storage: "live" (segments, no end yet), then
#: "ended" (ENDLIST written), when the recording task (run here, as the worker would) publishes it
STREAM = """
import sys

from app import app
from elearn.extensions import db
from live import service, tasks
from live.models import Lecture, LectureStatus
from live.service import broadcast
from media.storage import get_storage

step, lecture_id = sys.argv[1], int(sys.argv[2])


def playlist(ended):
    text = "#EXTM3U\\n#EXT-X-VERSION:6\\n#EXT-X-TARGETDURATION:2\\n#EXT-X-MEDIA-SEQUENCE:0\\n"
    text += "".join(f"#EXTINF:2.000000,\\nseg_{i:05d}.ts\\n" for i in range(10))
    return (text + ("#EXT-X-ENDLIST\\n" if ended else "")).encode()


with app.app_context():
    lecture = db.session.get(Lecture, lecture_id)
    storage = get_storage()
    if step == "live":
        service.set_status(actor=lecture.lecturer, lecture=lecture, status=LectureStatus.LIVE)
        asset = broadcast.start_stream(actor=lecture.lecturer, lecture=lecture)
        db.session.commit()
        storage.put(asset.master_key, b"#EXTM3U\\n")
    else:
        asset = broadcast.stream_asset(lecture)
    for rendition in asset.renditions:
        storage.put(rendition["playlist_key"], playlist(step == "ended"))
        base = rendition["playlist_key"].rsplit("/", 1)[0]
        storage.put(f"{base}/seg_00000.ts", b"\\x47" * 188)
if step == "ended":
    print(tasks.publish_recording.apply(args=[lecture_id]).get())
"""


def _stream(env: dict[str, str], step: str, lecture_id: int) -> str:
    done = subprocess.run(
        [sys.executable, "-c", STREAM, step, str(lecture_id)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip()


def test_the_room_switches_to_ended_and_then_links_the_recording(
    live_url, e2e_env, token, peers, new_page, shot
):
    county = unit_id(live_url, token("pref_admin"), ["C01"])
    title = "直播课：拒绝毒品诱惑"
    lecture_id = create_lecture(live_url, token("expert1"), [{"unit_id": county}], title=title)
    # a phone set to another zone still reads the school's clock
    student = new_page(viewport=PHONE, timezone_id="Europe/London")
    sign_in(student, "student1")
    student.goto(f"/lectures/{lecture_id}")
    student.wait_for_function("document.getElementById('live-room').dataset.joined === '1'")
    assert student.inner_text("#live-status-text") == "未开始"
    assert student.is_visible("#chat-form") and student.is_visible("#raise-hand")

    _stream(e2e_env, "live", lecture_id)
    expert = peers(live_url).connect(token=token("expert1"))
    assert expert.call("join", {"lecture_id": lecture_id})["ok"]
    assert expert.call("end")["ok"]

    student.wait_for_function(
        "document.getElementById('live-status').dataset.status === 'ended'", **PATIENT
    )
    assert student.inner_text("#live-status-text") == "已结束"
    ended_at = student.inner_text("#live-ended-at")
    assert ended_at.startswith("结束于 ")
    for gone in ("#chat-form", "#question-form", "#raise-hand", "#live-video", "#live-wait"):
        assert student.is_hidden(gone), gone
    assert student.is_visible("#live-closed") and student.is_visible("#live-recording-wait")
    assert student.is_hidden("#live-recording")
    shot(student, "ended-recording-not-ready")

    assert _stream(e2e_env, "ended", lecture_id) == "published"
    student.locator("#live-recording").wait_for(state="visible", **PATIENT)
    assert student.is_hidden("#live-recording-wait")
    shot(student, "ended-recording-ready")

    student.reload()
    student.wait_for_function("document.getElementById('live-room').dataset.joined === '1'")
    assert student.inner_text("#live-status-text") == "已结束"
    assert student.inner_text("#live-ended-at") == ended_at  # the server's rendering, the same
    assert student.is_visible("#live-recording") and student.locator("#chat-form").count() == 0
    shot(student, "ended-reopened")
    student.click("#live-recording")
    student.get_by_text(title).first.wait_for(**PATIENT)
