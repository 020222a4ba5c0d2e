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


def test_the_recent_uploads_list_follows_processing_and_opens_the_asset(
    new_page, e2e_worker, lesson_video, shot
):
    """The list showed a new upload only after a reload, stuck at "processing", and its entries
    led nowhere: now the upload appears at its top, turns ready without a reload (also after
    the page was reloaded mid-way, its own follow-up gone), and opens the asset's page."""
    page = new_page(viewport=PHONE)
    sign_in(page, "teacher1")
    page.goto("/media/upload")
    page.set_input_files("#media-file", lesson_video)
    page.click("#media-start")
    expect_text = "禁毒知识第一课.mp4"
    # at the top of the list before it is done (the file's name: another test uploads it too)
    page.wait_for_function(
        """() => {
            const id = document.getElementById('media-upload').dataset.assetId;
            const top = document.querySelector('#recent-uploads li');
            return Boolean(id && top && top.dataset.assetId === id);
        }""",
        timeout=30_000,
    )
    assert page.locator("#recent-uploads li").first.locator("a").inner_text() == expect_text
    page.wait_for_function(
        "document.getElementById('media-upload').dataset.state === 'processing'"
        " || document.getElementById('media-upload').dataset.state === 'ready'",
        timeout=60_000,
    )
    asset_id = page.get_attribute("#media-upload", "data-asset-id")
    page.reload()  # the page's own follow-up is gone; the list's entry carries on
    entry = page.locator(f'#recent-uploads li[data-asset-id="{asset_id}"]')
    assert entry.locator("a").inner_text() == expect_text
    page.wait_for_function(
        f"document.querySelector('#recent-uploads li[data-asset-id=\"{asset_id}\"]')"
        ".dataset.status === 'ready'",
        timeout=120_000,
    )
    assert entry.locator(".chip").inner_text() == "已就绪"
    shot(page, "list-ready")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    with page.expect_navigation():
        entry.locator("a").click()
    assert page.url.endswith(f"/media/assets/{asset_id}")
    assert page.inner_text("h1") == expect_text
    page.locator("#asset-player-media").wait_for()
    page.locator("#asset-player .media-start").click()  # nothing of the video loads before play
    page.wait_for_function("document.getElementById('asset-player-media').readyState >= 1")
    shot(page, "asset-page")
