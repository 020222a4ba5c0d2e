"""Uploads nobody finished: found after MEDIA_UPLOAD_ABANDON_HOURS and aborted (the asset ends
failed), and open multipart uploads no asset knows of. Flush, never commit."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from elearn.extensions import db
from media.models import Asset, AssetStatus
from media.service.uploads import fail
from media.settings import setting
from media.storage import Storage, StorageError, get_storage


def _abandon_cutoff(now: datetime | None) -> datetime:
    hours = int(setting("MEDIA_UPLOAD_ABANDON_HOURS"))
    return (now or datetime.now(UTC)) - timedelta(hours=hours)


def stale_upload_ids(*, now: datetime | None = None, limit: int = 200) -> list[str]:
    """Assets still uploading that were started longer ago than the abandon age."""
    query = (
        select(Asset.id)
        .where(Asset.status == AssetStatus.UPLOADING, Asset.created_at < _abandon_cutoff(now))
        .order_by(Asset.created_at)
        .limit(limit)
    )
    return list(db.session.scalars(query))


def abandon_if_stale(asset_id: str, *, storage: Storage | None = None,
                     now: datetime | None = None) -> bool:  # fmt: skip
    """Abort an upload that received nothing within the abandon age; the asset ends failed.

    A part that arrived recently keeps a slow, resumed upload alive. The multipart upload is
    aborted (MinIO) or its folder removed (local), and every object under the asset's keys goes,
    so nothing is left behind. True if the upload was abandoned.
    """
    storage = storage or get_storage()
    cutoff = _abandon_cutoff(now)
    asset = db.session.execute(
        select(Asset).where(Asset.id == asset_id).with_for_update(of=Asset)
    ).scalar_one_or_none()
    if asset is None or asset.status != AssetStatus.UPLOADING:
        return False
    if asset.upload_id:
        try:
            parts = storage.list_parts(asset.source_key, asset.upload_id)
        except StorageError:
            parts = []  # the upload is gone already
        latest = max((p.modified for p in parts if p.modified is not None), default=None)
        if latest is not None and latest > cutoff:
            return False
        with contextlib.suppress(StorageError):
            storage.abort_multipart(asset.source_key, asset.upload_id)
    storage.remove_prefix(f"assets/{asset.id}/")
    asset.upload_id = None
    fail(asset, "abandoned_upload", hours=int(setting("MEDIA_UPLOAD_ABANDON_HOURS")))
    return True


def abort_orphan_uploads(*, storage: Storage | None = None, now: datetime | None = None) -> int:
    """Abort open multipart uploads older than the abandon age that no uploading asset owns."""
    storage = storage or get_storage()
    cutoff = _abandon_cutoff(now)
    owned = set(
        db.session.scalars(
            select(Asset.upload_id).where(
                Asset.status == AssetStatus.UPLOADING, Asset.upload_id.is_not(None)
            )
        )
    )
    aborted = 0
    for upload in storage.open_uploads("assets/"):
        if upload.upload_id in owned or upload.started is None or upload.started > cutoff:
            continue
        with contextlib.suppress(StorageError):
            storage.abort_multipart(upload.key or "", upload.upload_id)
            aborted += 1
    return aborted
