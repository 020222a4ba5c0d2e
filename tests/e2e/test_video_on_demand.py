"""A video lesson on a phone costs next to nothing until play is pressed: no hls.js, no playlist,
no segment (1.25 MB before, on the demo's 7 s clip); pressing play fetches the player (brotli,
immutable) and the video, and it plays."""

from __future__ import annotations

import base64
import json
import re

import pytest

from tests.e2e.conftest import PHONE, sign_in

pytestmark = pytest.mark.e2e

COURSE = "远离毒品，健康成长（小学高年级）"
VIDEO_LESSON = "视频小结：珍爱生命，远离毒品"
#: what a page may cost before play: the page, its styles and scripts, the poster
BUDGET_BEFORE_PLAY = 100_000


def _what(url: str) -> str:
    """The object behind a URL: local storage's /media/o/<token> URLs carry its key."""
    if "/media/o/" in url:
        token = url.split("/media/o/", 1)[1].split(".", 1)[0].split("?", 1)[0]
        try:
            return json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))["k"]
        except ValueError:
            return url
    return url.split("?", 1)[0]


def _is_video(url: str) -> bool:
    return bool(re.search(r"\.(m3u8|ts|m4s)\Z", _what(url)))


def _lesson_url(page) -> str:
    page.goto("/courses?q=远离毒品")
    with page.expect_navigation():
        page.get_by_role("link", name=COURSE).first.click()
    return page.get_by_role("link", name=VIDEO_LESSON, exact=True).get_attribute("href")


def test_nothing_of_the_video_is_fetched_before_play(new_page, shot):
    page = new_page(viewport=PHONE)
    sign_in(page, "student1")
    url = _lesson_url(page)
    fetched: list[str] = []
    wire: dict[str, int] = {}
    encodings: dict[str, str | None] = {}

    def finished(request) -> None:
        sizes = request.sizes()
        wire[request.url] = sizes["responseBodySize"] + sizes["responseHeadersSize"]
        response = request.response()
        encodings[request.url] = response and response.headers.get("content-encoding")

    page.on("request", lambda request: fetched.append(request.url))
    page.on("requestfinished", finished)
    page.goto(url)
    page.wait_for_load_state("networkidle")

    assert not [u for u in fetched if "hls.min" in u], "hls.js was fetched before play"
    assert not [_what(u) for u in fetched if _is_video(u)], "playlists or segments before play"
    before = sum(wire.values())
    print(f"\nvideo lesson before play: {len(wire)} requests, {before} bytes on the wire")
    assert before < BUDGET_BEFORE_PLAY, sorted(wire.items(), key=lambda item: -item[1])[:5]
    scripts = [u for u in wire if u.endswith(".js") or u.endswith(".css")]
    assert scripts and all(encodings[u] == "br" for u in scripts), encodings
    page.locator("#lesson-player .media-start").wait_for()
    shot(page, "before-play")

    page.evaluate("document.getElementById('lesson-player-media').muted = true")
    page.click("#lesson-player .media-start")
    page.wait_for_function(
        "document.getElementById('lesson-player-media').currentTime > 1", timeout=30_000
    )
    shot(page, "playing")
    hls = [u for u in fetched if "hls.min" in u]
    assert len(hls) == 1 and re.search(r"hls\.min-[0-9a-f]{32}\.js\Z", hls[0]), hls
    assert encodings.get(hls[0]) == "br"
    assert [u for u in fetched if _what(u).endswith(".m3u8")], "no playlist after play"
    assert [u for u in fetched if _what(u).endswith(".ts")], "no segment after play"
    assert page.get_attribute("#lesson-player-media", "controls") is not None
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
