"""The live ingest on both storage backends: recorder chunks in, ffmpeg's live HLS out, each
segment and playlist put into storage as it is written (the local folder and S3 through the
MinIO client, against moto's server), ENDLIST after the end, and the player's view of it.
"""

from __future__ import annotations

import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from media import ingest as media_ingest
from media import live
from media.storage import LocalStorage
from media.transcode import live as live_ffmpeg
from media.transcode import runner

ASSET = "c" * 32


@pytest.fixture(scope="module")
def recorder_webm(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """6 s of what MediaRecorder sends: VP8 + Opus WebM without duration or cues."""
    path = tmp_path_factory.mktemp("webm") / "recorder.webm"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25",
         "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "6",
         "-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "800k",
         "-c:a", "libopus", "-f", "webm", "-live", "1", str(path)],
        check=True,
        timeout=120,
    )  # fmt: skip
    return path.read_bytes()


def _ingest(storage, tmp_path: Path, plan: live_ffmpeg.LivePlan | None = None,
            **extra) -> media_ingest.LiveIngest:  # fmt: skip
    plan = plan or live_ffmpeg.LivePlan()
    prefix = f"assets/{ASSET}/live/"
    return media_ingest.LiveIngest(
        asset_id=ASSET,
        storage=storage,
        plan=plan,
        limits=runner.Limits(),
        renditions=[
            {**r, "playlist_key": prefix + r["playlist"]} for r in live_ffmpeg.live_renditions(plan)
        ],  # fmt: skip
        master_key=prefix + "master.m3u8",
        work_root=str(tmp_path),
        **extra,
    )


def _feed(ingest: media_ingest.LiveIngest, data: bytes) -> None:
    for offset in range(0, len(data), 32 * 1024):
        while not ingest.offer(data[offset : offset + 32 * 1024]):
            assert ingest.transcode.running, ingest.transcode.errors()
            time.sleep(0.01)


@pytest.fixture(params=["local", "minio"])
def storage(request, tmp_path):
    if request.param == "local":
        return LocalStorage(tmp_path / "store", "secret")
    return request.getfixturevalue("minio_storage")


def test_segments_reach_storage_while_live_and_endlist_after(storage, tmp_path, recorder_webm):
    ready: list[float] = []
    done: list[bool] = []
    ingest = _ingest(storage, tmp_path, on_ready=lambda: ready.append(time.monotonic()),
                     on_done=done.append)  # fmt: skip
    _feed(ingest, recorder_webm)
    deadline = time.monotonic() + 60
    while not ready and time.monotonic() < deadline:
        time.sleep(0.1)
    assert ready, "the first segment never reached storage while the stream ran"
    video_key = f"assets/{ASSET}/live/480p/index.m3u8"
    while_live = storage.get(video_key).decode()
    assert "#EXT-X-ENDLIST" not in while_live and "seg_00000.ts" in while_live
    assert storage.stat(f"assets/{ASSET}/live/480p/seg_00000.ts") is not None
    assert storage.stat(f"assets/{ASSET}/live/master.m3u8") is not None

    ingest.finish()
    assert ingest.done.wait(120) and done == [True]
    for name in ("480p", "audio"):
        text = storage.get(f"assets/{ASSET}/live/{name}/index.m3u8").decode()
        assert text.rstrip().endswith("#EXT-X-ENDLIST")
        for segment in live.playlist_segments(text):
            assert storage.stat(f"assets/{ASSET}/live/{name}/{segment}") is not None
    assert not list(tmp_path.glob("live-*"))  # ffmpeg's working folder is gone
    assert not ingest.offer(b"late")  # an ended stream takes nothing more


def test_segment_urls_are_signed_storage_urls(minio_storage, tmp_path, recorder_webm):
    ingest = _ingest(minio_storage, tmp_path)
    _feed(ingest, recorder_webm)
    ingest.finish()
    assert ingest.done.wait(120)
    url = live.segment_url(ASSET, "480p", "seg_00000.ts", minio_storage)
    assert url is not None and "X-Amz-Signature=" in url
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read(1) == b"\x47"


def test_an_idle_stream_ends_by_itself(tmp_path, recorder_webm):
    storage = LocalStorage(tmp_path / "store", "secret")
    ingest = _ingest(storage, tmp_path, idle_seconds=1.0)
    _feed(ingest, recorder_webm[: len(recorder_webm) // 2])
    assert ingest.done.wait(60), "a stream nobody feeds must end (the lecturer's tab closed)"
    text = storage.get(f"assets/{ASSET}/live/480p/index.m3u8").decode()
    # but only the end of the lecture ends the playlists: the lecturer may come back (resume)
    assert "#EXT-X-ENDLIST" not in text and live.playlist_segments(text)


def test_a_resumed_stream_appends_after_a_discontinuity(tmp_path, recorder_webm):
    """The studio reconnects: the first run hands over without ENDLIST, the second appends."""
    storage = LocalStorage(tmp_path / "store", "secret")
    first = _ingest(storage, tmp_path)
    _feed(first, recorder_webm)
    first.finish(keep_open=True)
    assert first.done.wait(120)
    key = f"assets/{ASSET}/live/480p/index.m3u8"
    handed_over = storage.get(key).decode()
    assert "#EXT-X-ENDLIST" not in handed_over  # players keep waiting for more
    before = live.playlist_segments(handed_over)

    plan = live_ffmpeg.LivePlan(resume=True)
    assert "append_list" in " ".join(live_ffmpeg.build_live_argv(plan, "/o"))
    second = _ingest(storage, tmp_path, plan=plan)
    _feed(second, recorder_webm)
    second.finish()
    assert second.done.wait(120)
    text = storage.get(key).decode()
    after = live.playlist_segments(text)
    assert after[: len(before)] == before and len(after) >= 2 * len(before) - 1
    assert int(after[-1][4:9]) == len(after) - 1  # numbering goes on, nothing overwritten
    assert "#EXT-X-DISCONTINUITY" in text.split(before[-1], 1)[1]
    assert text.rstrip().endswith("#EXT-X-ENDLIST")
    seconds = sum(float(line[8:].split(",")[0]) for line in text.splitlines()
                  if line.startswith("#EXTINF:"))  # fmt: skip
    assert 11.0 <= seconds <= 13.5  # both runs: the recording stays whole
    window = live.windowed_playlist(text.replace("#EXT-X-ENDLIST", ""), sign=str, window=2)
    assert "#EXT-X-DISCONTINUITY-SEQUENCE:1" in window
