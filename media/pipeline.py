"""Processing use cases the ``media.process_asset`` task strings together. Flush, never commit.

The lock is a lease on the asset row (``lock_owner`` + ``locked_until``) taken under a row lock;
a worker that dies leaves a lease that runs out, and the next worker (or the sweep) takes over.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import and_, or_, select

from elearn.extensions import db
from elearn.models import User
from media.containers import FORMATS, SNIFF_BYTES, MediaRejected, Sniffed, sniff_file
from media.models import Asset, AssetStatus
from media.service.uploads import accept_source, fail, new_asset
from media.settings import setting
from media.storage import Storage, StorageError, get_storage
from media.transcode import documents, ladder, runner

CONTENT_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".ts": "video/mp2t",
    ".jpg": "image/jpeg",
    ".png": "image/png",
    ".m4a": "audio/mp4",
}


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Claim:
    asset: Asset | None
    #: why nothing is to be done: "missing", "not_processing", "busy", "exhausted"
    skipped: str | None = None


def lease() -> timedelta:
    return timedelta(seconds=int(setting("MEDIA_LEASE_SECONDS")))


def claim(asset_id: str, *, worker: str) -> Claim:
    """Take the asset's lease for this worker and count the attempt, if it is ours to take."""
    asset = db.session.execute(
        select(Asset).where(Asset.id == asset_id).with_for_update(of=Asset)
    ).scalar_one_or_none()
    if asset is None:
        return Claim(None, "missing")
    if asset.status != AssetStatus.PROCESSING:
        return Claim(None, "not_processing")
    now = _now()
    held_until = asset.locked_until
    if asset.lock_owner not in (None, worker) and held_until is not None and held_until > now:
        return Claim(None, "busy")
    if asset.attempts >= asset.max_attempts:
        fail(asset, "processing_failed")
        return Claim(None, "exhausted")
    asset.attempts += 1
    asset.lock_owner = worker
    asset.locked_until = now + lease()
    asset.progress = max(asset.progress, 1)
    db.session.flush()
    return Claim(asset)


def report_progress(asset: Asset, *, worker: str, fraction: float) -> bool:
    """Record progress (5–95 % while ffmpeg runs) and extend the lease; False if the lease is lost."""
    db.session.refresh(asset, with_for_update=True)
    if asset.lock_owner != worker or asset.status != AssetStatus.PROCESSING:
        return False
    asset.progress = max(asset.progress, min(95, 5 + int(90 * fraction)))
    asset.locked_until = _now() + lease()
    db.session.flush()
    return True


def limits() -> runner.Limits:
    return runner.Limits(
        max_duration=float(setting("MEDIA_MAX_DURATION_SECONDS")),
        max_output_bytes=int(setting("MEDIA_MAX_OUTPUT_BYTES")),
        threads=int(setting("MEDIA_FFMPEG_THREADS")),
        max_document_pages=int(setting("MEDIA_DOCUMENT_PAGES")),
        timeout_base=float(setting("MEDIA_TIMEOUT_BASE_SECONDS")),
        timeout_factor=float(setting("MEDIA_TIMEOUT_FACTOR")),
    )


def sniffed_of(asset: Asset) -> Sniffed:
    found = FORMATS.get(asset.sniffed_type or "")
    if found is None:
        raise MediaRejected("unsupported_format")
    return found


def publish(asset: Asset, outputs: runner.Outputs, out_dir: Path, *, storage: Storage,
            worker: str) -> bool:  # fmt: skip
    """Upload the outputs under keys from the asset id and ladder version, then mark it ready.

    A rerun writes the same keys (after clearing them), so it replaces and never duplicates.
    Returns False (and publishes nothing) if another worker took the lease meanwhile.
    """
    db.session.refresh(asset, with_for_update=True)
    if asset.lock_owner != worker or asset.status != AssetStatus.PROCESSING:
        return False
    version = ladder.LADDER_VERSION
    prefix = asset.output_prefix(version)
    storage.remove_prefix(prefix)
    for name in outputs.files:
        path = out_dir / name
        storage.put_file(prefix + name, path,
                         content_type=CONTENT_TYPES.get(path.suffix, "application/octet-stream"))  # fmt: skip
    old_version = asset.ladder_version
    asset.kind = outputs.kind
    asset.duration_seconds = outputs.duration
    asset.width = outputs.width
    asset.height = outputs.height
    asset.page_count = outputs.page_count
    asset.renditions = [
        {"name": r["name"], "bandwidth": r["bandwidth"], "kind": r["kind"],
         "playlist_key": prefix + r["playlist"]}
        for r in outputs.renditions
    ]  # fmt: skip
    asset.master_key = prefix + "master.m3u8" if outputs.renditions else None
    asset.poster_key = (
        prefix + (outputs.poster or outputs.image or "")
        if (outputs.poster or outputs.image)
        else None
    )
    asset.thumbs_key = prefix + outputs.thumbs if outputs.thumbs else None
    meta = dict(outputs.meta)
    if outputs.image:
        meta["image_key"] = prefix + outputs.image
    if outputs.audio:
        meta["audio_key"] = prefix + outputs.audio
    asset.meta = meta
    asset.ladder_version = version
    asset.status = AssetStatus.READY
    asset.progress = 100
    asset.reason = None
    asset.reason_params = {}
    asset.ready_at = _now()
    asset.locked_until = None
    asset.lock_owner = None
    db.session.flush()
    if old_version and old_version != version:
        storage.remove_prefix(asset.output_prefix(old_version))
    return True


def process(asset: Asset, *, worker: str, storage: Storage,
            on_progress: Callable[[float], None] | None = None) -> bool:  # fmt: skip
    """Fetch the source, sniff it again, probe and transcode it, publish the outputs.

    The caller holds the lease (``claim``). Raises MediaRejected for a refused file, and
    TranscodeError, StorageError or OSError for what may pass on another try. False if the
    lease was lost before publishing.
    """
    with tempfile.TemporaryDirectory(prefix="elearn-media-", dir=setting("MEDIA_WORK_DIR")) as tmp:
        src = Path(tmp) / "source"
        out_dir = Path(tmp) / "out"
        out_dir.mkdir()
        storage.download(asset.source_key, src)
        sniffed = sniff_file(src)  # the stored bytes decide, again, never the name
        if sniffed.kind == "document":
            outputs = documents.process_document(src, sniffed, out_dir, limits())
        else:
            outputs = ladder.process_media(src, sniffed, out_dir, limits(), on_progress)
        return publish(asset, outputs, out_dir, storage=storage, worker=worker)


def ingest_file(*, actor: User, path: Path, content_type: str, filename: str | None = None,
                storage: Storage | None = None) -> Asset:  # fmt: skip
    """Bring a local file in through the upload pipeline, synchronously (the demo seed, imports).

    The checks of a browser upload (role limit, declared type, then size and magic bytes of the
    stored source) and the processing of the task (probe, transcode, outputs stored under the
    asset's keys, asset ready), run in this process. A refused or failing file ends as a failed
    asset with its reason, as an upload would. Flush, never commit.
    """
    storage = storage or get_storage()
    size = path.stat().st_size
    asset = new_asset(actor=actor, filename=filename or path.name, size=size,
                      content_type=content_type)  # fmt: skip
    storage.put_file(asset.source_key, path, content_type="application/octet-stream")
    accept_source(asset, size=size, head=storage.read_range(asset.source_key, 0, SNIFF_BYTES))
    if asset.status != AssetStatus.PROCESSING:
        return asset
    worker = f"ingest:{uuid.uuid4().hex[:12]}"
    claimed = claim(asset.id, worker=worker)
    if claimed.asset is None:
        return asset
    try:
        process(asset, worker=worker, storage=storage)
    except MediaRejected as rejected:
        reject(asset, rejected, storage=storage)
    except (runner.TranscodeError, StorageError, OSError):
        storage.remove_prefix(asset.output_prefix(ladder.LADDER_VERSION))
        fail(asset, "processing_failed")
    return asset


def reject(asset: Asset, rejected: MediaRejected, *, storage: Storage) -> None:
    """The file is refused for good: failed with its reason, partial outputs removed."""
    storage.remove_prefix(asset.output_prefix(ladder.LADDER_VERSION))
    fail(asset, rejected.code, **rejected.params)


def give_up_or_retry(asset: Asset, *, worker: str) -> bool:
    """After a transient error: release the lease; True if another attempt should be queued."""
    db.session.refresh(asset, with_for_update=True)
    if asset.lock_owner not in (None, worker):
        return False
    if asset.attempts >= asset.max_attempts:
        fail(asset, "processing_failed")
        return False
    asset.lock_owner = None
    asset.locked_until = None
    db.session.flush()
    return True


def stale_assets(limit: int = 100) -> list[str]:
    """Ids of assets whose worker died (lease ran out) or whose message was lost."""
    now = _now()
    died = and_(Asset.lock_owner.is_not(None), Asset.locked_until < now)
    # a message that never reached a worker (a broker restart); waiting in a long queue is normal
    lost = and_(Asset.lock_owner.is_(None), Asset.updated_at < now - timedelta(minutes=30))
    query = (
        select(Asset.id)
        .where(Asset.status == AssetStatus.PROCESSING)
        .where(or_(died, lost))
        .limit(limit)
    )
    return list(db.session.scalars(query))
