"""Uploads nobody finished: the periodic sweep aborts them and leaves nothing behind."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta

import requests

from elearn.extensions import db
from elearn.service.errors import ServiceError
from media import service, tasks
from media.models import Asset, AssetStatus
from media.storage import get_storage
from tests.conftest import user

DAY = timedelta(days=1)


def _start(storage, *, size=3 * 1024 * 1024, ago=timedelta(0)) -> Asset:
    asset = service.create_upload(
        actor=user("teacher1"), filename="lesson.mp4", size=size, content_type="video/mp4",
        storage=storage,
    )  # fmt: skip
    asset.created_at = datetime.now(UTC) - ago
    db.session.flush()
    return asset


def _age(path, ago: timedelta) -> None:
    moment = time.time() - ago.total_seconds()
    os.utime(path, (moment, moment))


def test_local_upload_left_for_a_day_is_aborted_with_a_readable_reason(ctx):
    storage = get_storage()
    asset = _start(storage, ago=2 * DAY)
    part = storage.write_part(asset.source_key, asset.upload_id, 1, iter([b"\0" * 1000]), 10**7)
    folder = storage._upload_dir(asset.upload_id)
    (folder / ".00002.partial").write_bytes(b"half a part")  # a connection dropped mid-part
    for path in [folder, *folder.iterdir()]:
        _age(path, 2 * DAY)
    assert part.modified is not None
    fresh = _start(storage)  # started just now: left alone
    asset_id, fresh_id, fresh_upload = asset.id, fresh.id, fresh.upload_id
    assert tasks.abandon_uploads() >= 1
    asset = db.session.get(Asset, asset_id)
    assert asset.status == AssetStatus.FAILED and asset.upload_id is None
    assert asset.reason == "abandoned_upload"
    assert service.reason_text(asset) == "上传未在 24 小时内完成，已被取消。请重新上传文件。"
    assert not folder.exists() and storage.list_keys(f"assets/{asset.id}/") == []
    assert db.session.get(Asset, fresh_id).status == AssetStatus.UPLOADING
    assert storage._upload_dir(fresh_upload).is_dir()


def test_a_slow_upload_still_receiving_parts_is_kept(ctx):
    storage = get_storage()
    asset = _start(storage, ago=3 * DAY)  # started long ago, but a part came in an hour ago
    storage.write_part(asset.source_key, asset.upload_id, 1, iter([b"x" * 100]), 10**7)
    _age(storage._upload_dir(asset.upload_id) / "00001", timedelta(hours=1))
    assert service.abandon_if_stale(asset.id, storage=storage) is False
    assert db.session.get(Asset, asset.id).status == AssetStatus.UPLOADING
    # the age is configurable: a day later it goes
    assert service.abandon_if_stale(asset.id, storage=storage, now=datetime.now(UTC) + DAY)


def test_the_sweep_and_a_late_completion_do_not_both_win(ctx):
    storage = get_storage()
    asset = _start(storage, size=100, ago=2 * DAY)
    assert service.abandon_if_stale(asset.id, storage=storage)
    refused = None
    try:
        service.complete_upload(actor=user("teacher1"), asset=asset, storage=storage)
    except ServiceError as error:
        refused = error
    assert refused is not None and refused.status == 409


def test_orphan_local_upload_folder_is_removed(ctx):
    storage = get_storage()
    upload_id = storage.create_multipart("assets/nobody/source", "application/octet-stream")
    folder = storage._upload_dir(upload_id)
    storage.write_part("assets/nobody/source", upload_id, 1, iter([b"y" * 10]), 10**7)
    assert service.abort_orphan_uploads(storage=storage) == 0  # too young
    assert service.abort_orphan_uploads(storage=storage, now=datetime.now(UTC) + 2 * DAY) >= 1
    assert not folder.exists()


def test_minio_multipart_upload_is_aborted_and_nothing_is_left(ctx, minio_storage):
    asset = _start(minio_storage, size=6 * 1024 * 1024, ago=timedelta(hours=1))
    plan = service.upload_plan(asset, storage=minio_storage)
    first = plan["parts"][0]
    sent = requests.put(first["url"], data=b"\0" * first["size"], headers=plan["headers"],
                        timeout=30)  # fmt: skip
    assert sent.status_code == 200
    # a source object left by a completion whose commit was lost would be an orphan too
    minio_storage.put(f"assets/{asset.id}/v1/stray.ts", b"partial output")
    orphan_key = "assets/lost/source"
    orphan = minio_storage.create_multipart(orphan_key, "application/octet-stream")
    open_ids = {u.upload_id for u in minio_storage.open_uploads("assets/")}
    assert {asset.upload_id, orphan} <= open_ids
    upload_id = asset.upload_id

    assert service.abandon_if_stale(asset.id, storage=minio_storage) is False  # a part just came
    later = datetime.now(UTC) + 2 * DAY
    assert service.abandon_if_stale(asset.id, storage=minio_storage, now=later) is True
    assert service.abort_orphan_uploads(storage=minio_storage, now=later) == 1
    db.session.flush()
    assert asset.status == AssetStatus.FAILED and asset.reason == "abandoned_upload"
    assert minio_storage.open_uploads("assets/") == []
    assert minio_storage.list_keys("assets/") == []
    assert upload_id not in {u.upload_id for u in minio_storage.open_uploads("")}


def test_the_sweep_is_on_the_beat_schedule(app):
    schedule = app.extensions["celery"].conf.beat_schedule
    assert schedule["media.abandon_uploads"]["task"] == "media.abandon_uploads"
