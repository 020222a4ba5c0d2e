"""The lecture's video against a real server: the host's recorder chunks go through one ffmpeg to
live HLS in storage, viewers get signed playlists, only the host's studio socket may send video,
and the end of the lecture files the recording as a ready asset and a library lesson.
"""

from __future__ import annotations

import time

import pytest
import requests

from tests.live.conftest import WAIT, create_lecture, unit_id

CHUNK = 64 * 1024


@pytest.fixture(params=["gunicorn-gevent", "werkzeug"])
def server_url(request, live_url):
    """Both process models: gunicorn's gevent worker and the CLI's Werkzeug threading server."""
    if request.param == "gunicorn-gevent":
        return live_url
    return request.getfixturevalue("werkzeug_live_url")


@pytest.fixture
def live_lecture(server_url, live_url, token, peers):
    county = unit_id(live_url, token("pref_admin"), ["C01"])
    lecture_id = create_lecture(live_url, token("expert1"), [{"unit_id": county}],
                                title="直播推流测试")  # fmt: skip
    host = peers(server_url).connect(token=token("expert1"))
    assert host.call("join", {"lecture_id": lecture_id})["ok"]
    assert host.call("go_live")["ok"]
    return lecture_id, host


def _send(host, data: bytes) -> None:
    for start in range(0, len(data), CHUNK):
        for _attempt in range(50):
            reply = host.call("media_chunk", data[start : start + CHUNK])
            if reply["ok"]:
                break
            assert "过快" in reply["error"], reply
            time.sleep(0.3)  # the chunk rate limit: wait as a recorder would
        else:
            raise AssertionError("chunk never accepted")


def _get(url: str, base: str) -> requests.Response:
    return requests.get(url if url.startswith("http") else base + url, timeout=10)


def test_host_stream_becomes_live_hls_and_a_recording(
    server_url, live_url, token, peers, live_lecture, recorder_webm, e2e_worker
):
    lecture_id, host = live_lecture
    student = peers(server_url).connect(token=token("student1"))
    assert student.call("join", {"lecture_id": lecture_id})["ok"]
    assert student.call("stream") == {"ok": True, "available": False}

    # nobody but the host's studio socket may send video
    assert not student.call("media_start")["ok"]
    refused = student.call("media_chunk", b"\x1a\x45\xdf\xa3")
    assert not refused["ok"]

    assert host.call("media_start", {"mime": "video/webm;codecs=vp8,opus", "audio": True})["ok"]
    too_big = host.call("media_chunk", b"\0" * 600_000)
    assert not too_big["ok"]
    assert not host.call("media_chunk", {"not": "binary"})["ok"]
    _send(host, recorder_webm)
    student.wait_for(lambda: student.got("stream"), "the stream-ready event")

    urls = student.call("stream")
    assert urls["ok"] and urls["available"] and urls["live"], urls
    master = _get(urls["master_url"], server_url)
    assert master.status_code == 200
    assert "no-store" in master.headers["Cache-Control"]
    assert "480p/index.m3u8" in master.text and "audio/index.m3u8" in master.text
    variant_url = urls["master_url"].replace("master.m3u8", "480p/index.m3u8")
    playlist = _get(variant_url, server_url)
    assert playlist.status_code == 200 and "no-store" in playlist.headers["Cache-Control"]
    assert "#EXT-X-ENDLIST" not in playlist.text
    segments = [line for line in playlist.text.splitlines() if line and not line.startswith("#")]
    assert segments and all(line.startswith("seg_") for line in segments)  # stable URIs
    segment = _get(variant_url.replace("index.m3u8", segments[-1]), server_url)
    assert segment.status_code == 200 and segment.content[:1] == b"\x47"  # MPEG-TS sync byte
    assert segment.history and segment.history[0].status_code == 302  # to a signed storage URL
    assert _get(variant_url.replace("index.m3u8", "..%2Fsecret.ts"), server_url).status_code == 404
    audio = _get(urls["audio_url"], server_url)
    assert audio.status_code == 200 and "#EXTINF" in audio.text
    # a forged or foreign token plays nothing
    assert _get(urls["master_url"].replace("/live/", "/live/x"), server_url).status_code == 403

    assert host.call("end")["ok"]
    student.wait_for(lambda: student.got("recording"), "the recording event")
    lesson_id = student.got("recording")[0]["lesson_id"]
    library = requests.get(
        f"{live_url}/api/v1/courses",
        params={"category": "lecture_recording"},
        headers={"Authorization": f"Bearer {token('student1')}"},
        timeout=10,
    ).json()
    titles = [course["title"] for course in library["courses"]]
    assert "直播推流测试" in titles, library
    # the recording's playlist is now a finished VOD one
    ended = _get(variant_url, server_url)
    assert ended.status_code == 200 and "#EXT-X-ENDLIST" in ended.text
    seconds = sum(float(line[8:].split(",")[0]) for line in ended.text.splitlines()
                  if line.startswith("#EXTINF:"))  # fmt: skip
    assert 6.0 <= seconds <= 9.0
    assert lesson_id


def test_media_events_need_a_live_lecture_and_a_host(live_url, token, peers):
    county = unit_id(live_url, token("pref_admin"), ["C01"])
    lecture_id = create_lecture(live_url, token("expert1"), [{"unit_id": county}])
    host = peers(live_url).connect(token=token("expert1"))
    assert host.call("join", {"lecture_id": lecture_id})["ok"]
    reply = host.call("media_start")
    assert not reply["ok"]  # not live yet
    assert not host.call("media_chunk", b"\x1a\x45\xdf\xa3")["ok"]
    teacher = peers(live_url).connect(token=token("teacher1"))
    assert teacher.call("join", {"lecture_id": lecture_id})["ok"]
    assert host.call("go_live")["ok"]
    assert not teacher.call("media_start")["ok"]
    assert WAIT > 0


def test_a_restarted_studio_resumes_the_same_stream(live_url, token, peers, recorder_webm,
                                                    e2e_worker):  # fmt: skip
    county = unit_id(live_url, token("pref_admin"), ["C01"])
    lecture_id = create_lecture(live_url, token("expert1"), [{"unit_id": county}],
                                title="断线重连测试")  # fmt: skip
    host = peers(live_url).connect(token=token("expert1"))
    assert host.call("join", {"lecture_id": lecture_id})["ok"]
    assert host.call("go_live")["ok"]
    stream = host.call("media_start", {"audio": True})["stream"]
    _send(host, recorder_webm)
    host.close()  # the lecturer's connection drops

    again = peers(live_url).connect(token=token("expert1"))
    assert again.call("join", {"lecture_id": lecture_id})["ok"]
    assert again.call("media_start", {"audio": True})["stream"] == stream  # the same stream
    _send(again, recorder_webm)
    student = peers(live_url).connect(token=token("student1"))
    assert student.call("join", {"lecture_id": lecture_id})["ok"]
    assert again.call("end")["ok"]
    student.wait_for(lambda: student.got("recording"), "the recording event")
    urls = student.call("stream")
    text = _get(urls["master_url"].replace("master.m3u8", "480p/index.m3u8"), live_url).text
    seconds = sum(float(line[8:].split(",")[0]) for line in text.splitlines()
                  if line.startswith("#EXTINF:"))  # fmt: skip
    assert 14.0 <= seconds <= 17.5, text  # both parts are in the recording
    assert "#EXT-X-DISCONTINUITY" in text and "#EXT-X-ENDLIST" in text
