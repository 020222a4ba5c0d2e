"""The processing task: outputs, idempotency, retries, the lease, progress."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta

from elearn.extensions import db
from media import tasks
from media.models import Asset
from media.storage import get_storage
from tests.conftest import user
from tests.media.conftest import upload


def _reload(asset_id: str) -> Asset:
    db.session.expire_all()
    return db.session.get(Asset, asset_id)


def test_video_becomes_ready_with_ladder_poster_and_thumbs(ctx, media_files):
    asset = upload(user("teacher1"), media_files["video"], "video/mp4", "lesson.mp4")
    asset_id = asset.id
    assert asset.status == "processing"
    assert tasks.process_asset.delay(asset_id) is not None
    asset = _reload(asset_id)
    assert asset.status == "ready", asset.reason
    assert asset.progress == 100 and asset.attempts == 1
    assert [r["name"] for r in asset.renditions] == ["audio", "360p"]
    assert {r["kind"] for r in asset.renditions} == {"audio", "video"}
    assert abs(asset.duration_seconds - 3.0) < 0.2
    assert (asset.width, asset.height) == (640, 360)
    storage = get_storage()
    keys = storage.list_keys(f"assets/{asset.id}/v{asset.ladder_version}/")
    assert asset.master_key in keys and asset.poster_key in keys and asset.thumbs_key in keys
    assert all(not k.endswith("lesson.mp4") for k in storage.list_keys(f"assets/{asset.id}/"))
    master = storage.get(asset.master_key).decode()
    assert "360p/index.m3u8" in master and "audio/index.m3u8" in master
    playlist = storage.get(f"assets/{asset.id}/v{asset.ladder_version}/360p/index.m3u8").decode()
    assert "#EXT-X-TARGETDURATION:2" in playlist and "#EXT-X-ENDLIST" in playlist
    assert asset.meta["thumbs"]["count"] >= 1
    assert asset.lock_owner is None and asset.locked_until is None


def test_moov_at_end_mp4_is_accepted(ctx, media_files):
    asset = upload(user("teacher1"), media_files["video_tail_moov"], "video/mp4")
    asset_id = asset.id
    tasks.process_asset(asset_id)
    assert _reload(asset_id).status == "ready"


def test_audio_file_gets_audio_rendition_only(ctx, media_files):
    asset = upload(user("teacher1"), media_files["audio"], "audio/mpeg", "talk.mp3")
    asset_id = asset.id
    tasks.process_asset(asset_id)
    asset = _reload(asset_id)
    assert asset.status == "ready" and asset.kind == "audio"
    assert [(r["name"], r["kind"]) for r in asset.renditions] == [("audio", "audio")]
    assert asset.poster_key is None


def test_webm_and_wav(ctx, media_files):
    for name, content_type in (("webm", "video/webm"), ("wav", "audio/wav")):
        asset_id = upload(user("teacher1"), media_files[name], content_type).id
        tasks.process_asset(asset_id)
        assert _reload(asset_id).status == "ready", name


def test_image_is_reencoded_without_metadata(ctx, media_files):
    asset = upload(user("teacher1"), media_files["jpeg"], "image/jpeg", "photo.jpg")
    asset_id = asset.id
    tasks.process_asset(asset_id)
    asset = _reload(asset_id)
    assert asset.status == "ready" and asset.kind == "image"
    assert (asset.width, asset.height) == (800, 600)
    data = get_storage().get(asset.meta["image_key"])
    assert data.startswith(b"\xff\xd8\xff") and b"Exif" not in data[:64]


def test_pdf_gets_page_count_and_cover(ctx, media_files):
    asset = upload(user("teacher1"), media_files["pdf"], "application/pdf", "handout.pdf")
    asset_id = asset.id
    tasks.process_asset(asset_id)
    asset = _reload(asset_id)
    assert asset.status == "ready" and asset.kind == "document"
    assert asset.page_count == 3
    assert get_storage().get(asset.poster_key).startswith(b"\xff\xd8\xff")


def test_epub_gets_spine_count_and_cover(ctx, media_files, tmp_path):
    from tests.media.test_hostile import make_epub

    cover = media_files["image"].read_bytes()
    asset = upload(user("teacher1"), make_epub(chapters=4, cover=cover), "application/epub+zip")
    asset_id = asset.id
    tasks.process_asset(asset_id)
    asset = _reload(asset_id)
    assert asset.status == "ready", asset.reason
    assert asset.page_count == 4 and asset.poster_key


def test_rerun_replaces_outputs_and_never_duplicates(ctx, media_files):
    asset = upload(user("teacher1"), media_files["video"], "video/mp4")
    asset_id = asset.id
    tasks.process_asset(asset_id)
    storage = get_storage()
    first = storage.list_keys(f"assets/{asset_id}/")
    # a redelivered message for a finished asset does nothing
    assert tasks.process_asset(asset_id) == "not_processing"
    # an explicit reprocess writes the same keys again
    asset = _reload(asset_id)
    asset.status = "processing"
    storage.put(
        f"assets/{asset_id}/v{asset.ladder_version}/360p/seg_99999.ts",
        b"stale leftover of a crashed run",
    )
    db.session.flush()
    assert tasks.process_asset(asset_id) == "ready"
    assert storage.list_keys(f"assets/{asset_id}/") == first
    assert _reload(asset_id).attempts == 2


def test_killed_worker_lease_expires_and_next_worker_finishes(ctx, media_files):
    asset = upload(user("teacher1"), media_files["video"], "video/mp4")
    asset_id = asset.id
    # a worker took the lease and died mid-transcode
    asset.attempts = 1
    asset.lock_owner = "dead-host:123:abc"
    asset.locked_until = datetime.now(UTC) + timedelta(minutes=4)
    db.session.flush()
    assert tasks.process_asset(asset_id) == "busy"
    assert _reload(asset_id).status == "processing"
    asset = _reload(asset_id)
    asset.locked_until = datetime.now(UTC) - timedelta(seconds=1)
    asset.updated_at = datetime.now(UTC) - timedelta(minutes=5)
    db.session.flush()
    # the sweep finds it and queues it again (eager here, so it runs at once)
    assert tasks.requeue_stale() == 1
    asset = _reload(asset_id)
    assert asset.status == "ready" and asset.attempts == 2


def test_ffmpeg_crashing_every_time_fails_after_max_attempts(
    ctx, media_files, tmp_path, monkeypatch
):
    crash = tmp_path / "ffmpeg"
    crash.write_text("#!/bin/sh\nkill -SEGV $$\n")
    crash.chmod(crash.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setattr("media.transcode.runner.FFMPEG", str(crash))
    asset = upload(user("teacher1"), media_files["video"], "video/mp4")
    asset_id = asset.id
    asset.max_attempts = 3
    db.session.flush()
    assert tasks.process_asset(asset_id) == "retry"
    asset = _reload(asset_id)
    assert asset.status == "failed" and asset.attempts == 3
    assert asset.reason == "processing_failed"
    assert not get_storage().list_keys(f"assets/{asset.id}/v{asset.ladder_version}/")


def test_progress_is_reported_while_transcoding(ctx, media_files, monkeypatch):
    from media import pipeline

    seen: list[int] = []
    original = pipeline.report_progress

    def spy(asset, *, worker, fraction):
        result = original(asset, worker=worker, fraction=fraction)
        seen.append(_reload(asset_id).progress)
        return result

    monkeypatch.setattr(pipeline, "report_progress", spy)
    asset = upload(user("teacher1"), media_files["video"], "video/mp4")
    asset_id = asset.id
    tasks.process_asset(asset_id)
    assert seen and all(5 <= p <= 95 for p in seen)
    assert seen == sorted(seen)
    assert _reload(asset_id).progress == 100


def test_the_lease_is_committed_before_ffmpeg_runs(ctx, media_files, monkeypatch):
    """Other workers (and the sweep) see the lease, and the asset page the progress, while ffmpeg
    runs: process_asset commits each step in its own unit, not once at the end."""
    from elearn import uow
    from media.transcode import ladder

    events: list[tuple[str, str | None]] = []
    commit, run_ffmpeg = uow.commit, ladder.run_ffmpeg

    def spy_commit() -> None:
        events.append(("commit", db.session.get(Asset, asset_id).lock_owner))
        commit()

    def spy_ffmpeg(*args, **kwargs):
        events.append(("ffmpeg", None))
        return run_ffmpeg(*args, **kwargs)

    asset = upload(user("teacher1"), media_files["video"], "video/mp4")
    asset_id = asset.id
    monkeypatch.setattr(uow, "commit", spy_commit)
    monkeypatch.setattr(ladder, "run_ffmpeg", spy_ffmpeg)
    assert tasks.process_asset(asset_id) == "ready"
    first_run = events.index(("ffmpeg", None))
    leases = [owner for kind, owner in events[:first_run] if kind == "commit"]
    assert leases and leases[0] is not None  # the claim's unit committed the lease
    assert ("commit", None) in events[first_run:]  # publishing released it in a later unit
