"""In Chromium: a teacher uploads a short video, watches the upload and processing progress, the
asset becomes ready and plays in the player partial (hls.js, signed URLs, quality menu)."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e

PHONE = {"width": 360, "height": 740}


@pytest.fixture(scope="module")
def lesson_video(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("e2e-video") / "禁毒知识第一课.mp4"
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25:duration=6",
         "-f", "lavfi", "-i", "sine=frequency=440:duration=6",
         "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", str(path)],
        check=True, timeout=120,
    )  # fmt: skip
    return str(path)


def test_teacher_uploads_and_the_video_plays(new_page, e2e_worker, lesson_video, shot):
    page = new_page(viewport=PHONE)
    sign_in(page, "teacher1")
    page.goto("/")
    assert page.locator("a[href='/media/upload']").count() == 1  # in the menu
    page.goto("/media/upload")
    shot(page, "empty")
    page.set_input_files("#media-file", lesson_video)
    page.click("#media-start")
    states: list[str] = []
    widths: list[str] = []
    for _ in range(400):
        state = page.get_attribute("#media-upload", "data-state") or ""
        if not states or states[-1] != state:
            states.append(state)
            if state == "processing":
                shot(page, "processing")
        widths.append(page.eval_on_selector("#media-bar", "e => e.style.width"))
        if state in {"ready", "failed"}:
            break
        page.wait_for_timeout(100)
    shot(page, "done")
    assert states[-1] == "ready", page.inner_text("#media-status")
    assert "processing" in states
    assert page.inner_text("#media-phase") == "已就绪"
    assert widths[-1] == "100%"
    asset_id = page.get_attribute("#media-upload", "data-asset-id")

    # the player partial, fed the way courses feeds it (the asset API gives a signed playlist URL)
    asset = page.evaluate("id => fetch('/api/v1/media/assets/' + id).then(r => r.json())", asset_id)
    assert asset["status"] == "ready" and re.match(
        r"^/media/play/[^/]+/master\.m3u8$", asset["playlist_url"]
    )
    token_base = asset["playlist_url"].rsplit("/", 1)[0]
    page.evaluate(
        """([url, audio, renew]) => {
          document.querySelector('main, body').insertAdjacentHTML('afterbegin',
            `<div class="media-player" id="p" data-playlist-url="${url}" data-audio-url="${audio}"
              data-renew-url="${renew}" data-start="2" data-label-audio="仅音频" data-msg-error="x"
              data-hls-src="/media/static/vendor/hls/hls.min.js">
              <video id="p-media" muted playsinline preload="none"></video>
              <button type="button" class="media-start">播放</button>
              <div class="media-quality"><select id="p-quality"><option value="auto">自动</option></select></div>
            </div>`);
        }""",
        [asset["playlist_url"], token_base + "/audio/index.m3u8", token_base + "/renew"],
    )
    page.add_script_tag(url="/media/static/js/player.js")
    page.click("#p .media-start")  # hls.js and the playlist are fetched now, not before
    page.wait_for_function("document.getElementById('p-media').currentTime > 2.5")
    options = page.eval_on_selector_all("#p-quality option", "os => os.map(o => o.value)")
    assert options == ["auto", "0", "audio"]
    shot(page, "playing")
    page.select_option("#p-quality", "audio")
    page.wait_for_function("document.getElementById('p-media').currentTime > 3")
