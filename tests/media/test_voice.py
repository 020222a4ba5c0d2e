"""Attachments (``purpose`` "attachment": a message's picture, file or voice): every role may
upload them within its own, smaller limit, and a voice recording from a browser (WebM/Opus, as
MediaRecorder makes it) becomes one AAC file in MP4 that a plain <audio> element plays."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from elearn.extensions import db
from elearn.service.errors import ServiceError
from media import service, tasks
from media.models import Asset
from media.settings import DEFAULTS
from media.storage import get_storage
from tests.conftest import csrf_token, user

MB = 1024 * 1024


@pytest.fixture(scope="module")
def voice_webm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 3 s voice-like recording, WebM with Opus audio and no video (MediaRecorder's shape)."""
    path = tmp_path_factory.mktemp("voice") / "voice.webm"
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", "sine=frequency=300:duration=3:sample_rate=48000",
         "-ac", "1", "-c:a", "libopus", "-b:a", "32k", "-f", "webm", str(path)],
        check=True, timeout=60,
    )  # fmt: skip
    return path


def _upload(actor, data: bytes, content_type: str, filename: str) -> Asset:
    """As the browser does: announce (purpose attachment), send the parts, complete."""
    storage = get_storage()
    asset = service.create_upload(
        actor=actor, filename=filename, size=len(data), content_type=content_type,
        purpose="attachment",
    )  # fmt: skip
    for part in service.upload_plan(asset)["parts"]:
        chunk = data[part["offset"] : part["offset"] + part["size"]]
        storage.write_part(asset.source_key, asset.upload_id, part["number"], iter([chunk]),
                           max_bytes=asset.part_size)  # fmt: skip
    service.complete_upload(actor=actor, asset=asset)
    db.session.flush()
    return asset


def _ffprobe(path: Path) -> dict:
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)],
        capture_output=True, check=True, timeout=60,
    )  # fmt: skip
    return json.loads(result.stdout)


def test_a_browser_voice_recording_becomes_aac_in_mp4(app, ctx, voice_webm, tmp_path):
    parent = user("parent1")
    asset = _upload(parent, voice_webm.read_bytes(), "audio/webm;codecs=opus", "语音.webm")
    asset_id = asset.id
    assert asset.status == "processing" and asset.sniffed_type == "webm"
    assert tasks.process_asset(asset_id) == "ready"
    db.session.expire_all()
    asset = db.session.get(Asset, asset_id)
    assert asset.kind == "audio" and abs(asset.duration_seconds - 3.0) < 0.3
    key = asset.meta["audio_key"]
    assert key.startswith(asset.output_prefix()) and key.endswith(".m4a")

    out = tmp_path / "voice.m4a"
    get_storage().download(key, out)
    probed = _ffprobe(out)
    assert "mp4" in probed["format"]["format_name"]
    [stream] = probed["streams"]
    assert stream["codec_type"] == "audio" and stream["codec_name"] == "aac"
    assert abs(float(probed["format"]["duration"]) - 3.0) < 0.3
    # the index comes first (faststart): a player starts before the whole file arrived
    head = out.read_bytes()[:4096]
    assert head.find(b"moov") != -1 and head.find(b"moov") < max(head.find(b"mdat"), 4096)

    url = service.audio_url(asset)
    assert url is not None
    client = app.test_client()
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("audio/mp4")
    assert response.get_data() == out.read_bytes()


def test_a_hostile_voice_recording_ends_failed_with_its_reason(ctx):
    # WebM's magic bytes, then nothing ffprobe can read
    junk = b"\x1a\x45\xdf\xa3" + b"\x9f\x42\x86\x81\x01" + bytes(range(256)) * 40
    asset = _upload(user("parent1"), junk, "audio/webm", "voice.webm")
    asset_id = asset.id
    assert tasks.process_asset(asset_id).startswith("failed:")
    db.session.expire_all()
    asset = db.session.get(Asset, asset_id)
    assert asset.status == "failed" and service.reason_text(asset)
    assert "audio_key" not in (asset.meta or {})


def test_families_upload_attachments_only_within_their_smaller_limit(ctx):
    parent, teacher = user("parent1"), user("teacher1")
    assert service.attachment_limit(parent) == DEFAULTS["MEDIA_ATTACHMENT_LIMIT_FAMILY"]
    assert service.attachment_limit(teacher) == DEFAULTS["MEDIA_ATTACHMENT_LIMIT_STAFF"]
    assert service.attachment_limit(parent) < service.attachment_limit(teacher)
    # the media library stays the staff's
    with pytest.raises(ServiceError) as refused:
        service.create_upload(actor=parent, filename="a.mp3", size=10, content_type="audio/mpeg")
    assert refused.value.status == 403
    too_big = service.attachment_limit(parent) + 1
    with pytest.raises(ServiceError) as refused:
        service.create_upload(actor=parent, filename="a.mp3", size=too_big,
                              content_type="audio/mpeg", purpose="attachment")  # fmt: skip
    assert refused.value.status == 413 and "20 MB" in refused.value.message
    # a teacher's bigger attachment is fine; no video as an attachment, for anyone
    made = service.create_upload(actor=teacher, filename="a.pdf", size=too_big,
                                 content_type="application/pdf", purpose="attachment")  # fmt: skip
    assert made.kind == "document"
    with pytest.raises(ServiceError) as refused:
        service.create_upload(actor=teacher, filename="v.mp4", size=1000,
                              content_type="video/mp4", purpose="attachment")  # fmt: skip
    assert refused.value.status == 415


def test_the_upload_api_takes_the_attachment_purpose(as_user):
    parent = as_user("parent1")
    headers = {"X-CSRFToken": csrf_token(parent, "/")}
    body = {"filename": "语音.webm", "size": 1000, "content_type": "audio/webm"}
    assert parent.post("/api/v1/media/uploads", json=body, headers=headers).status_code == 403
    made = parent.post(
        "/api/v1/media/uploads", json={**body, "purpose": "attachment"}, headers=headers
    )
    assert made.status_code == 201, made.get_data(as_text=True)
    assert made.get_json()["upload"]["parts"]
    wrong = parent.post(
        "/api/v1/media/uploads", json={**body, "purpose": "anything"}, headers=headers
    )
    assert wrong.status_code in {400, 422}
