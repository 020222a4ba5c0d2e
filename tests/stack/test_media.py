"""A teacher's video through the stack: uploaded through nginx to the API process, transcoded
into the HLS ladder by the Celery worker (real ffmpeg), then played through nginx: the signed
playlists from the app, compressed; the segments signed by the app and checked and sent by nginx
alone (secure_link)."""

from __future__ import annotations

import gzip
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest
import requests

from media.storage import LocalStorage
from media.storage.secure_link import segment_url
from tests.stack.conftest import served_by

HLS = "application/vnd.apple.mpegurl"
TRANSCODE_WAIT = 180.0  # a busy machine; no test measures time


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2.5 s of 640×360 H.264 with AAC sound, as a phone's MP4."""
    path = tmp_path_factory.mktemp("clip") / "禁毒宣传.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25",
         "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100", "-t", "2.5",
         "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac",
         "-movflags", "+faststart", str(path)],
        check=True,
        timeout=120,
    )  # fmt: skip
    return path


def _upload(stack, headers: dict[str, str], clip: Path) -> str:
    data = clip.read_bytes()
    created = requests.post(
        f"{stack.url}/api/v1/media/uploads",
        json={"filename": clip.name, "size": len(data), "content_type": "video/mp4"},
        headers=headers,
        timeout=30,
    )
    assert created.status_code == 201, created.text
    asset_id, plan = created.json()["asset_id"], created.json()["upload"]
    for part in plan["parts"]:
        body = data[part["offset"] : part["offset"] + part["size"]]
        sent = requests.put(
            f"{stack.url}{part['url']}", data=body, headers=plan["headers"], timeout=60
        )
        assert sent.status_code == 200, sent.text
    done = requests.post(
        f"{stack.url}/api/v1/media/uploads/{asset_id}/complete", headers=headers, timeout=30
    )
    assert done.status_code == 202 and done.json()["status"] == "processing", done.text
    return asset_id


def _ready(stack, headers: dict[str, str], asset_id: str) -> dict:
    deadline = time.monotonic() + TRANSCODE_WAIT
    while True:
        asset = requests.get(
            f"{stack.url}/api/v1/media/assets/{asset_id}", headers=headers, timeout=30
        ).json()
        if asset["status"] == "ready":
            return asset
        assert asset["status"] == "processing", asset
        assert time.monotonic() < deadline, f"not transcoded in {TRANSCODE_WAIT:.0f} s: {asset}"
        time.sleep(0.5)


def test_upload_ladder_and_playback_through_nginx(stack, token, clip):
    headers = {"Authorization": f"Bearer {token('teacher1')}"}
    asset_id = _upload(stack, headers, clip)
    asset = _ready(stack, headers, asset_id)
    assert {r["kind"] for r in asset["renditions"]} == {"audio", "video"}

    # the master playlist: signed for this viewer, never cached
    master = requests.get(f"{stack.url}{asset['playlist_url']}", timeout=30)
    assert master.status_code == 200
    assert master.headers["Content-Type"].startswith(HLS)
    assert "no-store" in master.headers["Cache-Control"]
    variants = [line for line in master.text.splitlines() if line and not line.startswith("#")]
    assert variants, master.text
    base = asset["playlist_url"].rsplit("/", 1)[0]

    # a rendition's playlist: every segment URI freshly signed; compressed by nginx
    variant = requests.get(
        f"{stack.url}{base}/{variants[0]}",
        headers={"Accept-Encoding": "gzip"},
        stream=True,
        timeout=30,
    )
    assert variant.status_code == 200 and variant.headers["Content-Type"].startswith(HLS)
    assert variant.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in variant.headers["Vary"]
    text = gzip.decompress(variant.raw.read()).decode()
    segments = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert segments and all(s.startswith("/media/s/") for s in segments), text

    # a segment: signed by the app, checked and sent by nginx with no app asked
    segment = requests.get(f"{stack.url}{segments[0]}", timeout=30)
    assert segment.status_code == 200
    assert segment.headers["Content-Type"] == "video/mp2t"
    assert segment.content[:1] == b"G" and len(segment.content) % 188 == 0  # MPEG-TS packets
    assert segment.headers["Cache-Control"] == "private, max-age=60"
    assert segment.headers["Accept-Ranges"] == "bytes"
    assert "Content-Encoding" not in segment.headers  # video does not compress
    ranged = requests.get(
        f"{stack.url}{segments[0]}", headers={"Range": "bytes=188-375"}, timeout=30
    )
    assert ranged.status_code == 206 and ranged.content == segment.content[188:376]
    [logged, *_] = served_by(stack, segments[0].split("?")[0])
    assert logged.upstream_ports == ()  # nginx alone

    # a tampered or expired signature is refused by nginx; its internal folder is unreachable
    md5 = segments[0].split("md5=")[1].split("&")[0]
    forged = segments[0].replace(md5, ("A" if md5[0] != "A" else "B") + md5[1:])
    assert requests.get(f"{stack.url}{forged}", timeout=30).status_code == 403
    key = segments[0].split("?")[0].removeprefix("/media/s/")
    secret = stack.process("api").env["ELEARN_MEDIA_SEGMENT_SECRET"]
    expired = segment_url(key, int(time.time()) - 1, secret)
    assert requests.get(f"{stack.url}{expired}", timeout=30).status_code == 403
    assert requests.get(f"{stack.url}/_media/{key}", timeout=30).status_code == 404
    assert requests.get(f"{stack.url}/media/s/{key}", timeout=30).status_code == 403

    # other objects (posters, documents) still go through the app's check, sent by nginx
    env = stack.process("api").env
    storage = LocalStorage(Path(env["ELEARN_MEDIA_DIR"]), env["ELEARN_SECRET_KEY"])
    through_app = storage.presigned_get(key, timedelta(minutes=1))
    assert through_app.startswith("/media/o/")
    sent = requests.get(f"{stack.url}{through_app}", timeout=30)
    assert sent.status_code == 200 and sent.content == segment.content
    [logged, *_] = served_by(stack, through_app)
    assert logged.upstream_ports == (stack.ports.api,)  # the signature was checked there
    token_part = through_app.rsplit("/", 1)[1]
    forged = through_app.replace(
        token_part, token_part[:-3] + ("AAA" if token_part[-3:] != "AAA" else "BBB")
    )
    assert requests.get(f"{stack.url}{forged}", timeout=30).status_code == 403
