"""Celery tasks on the ``media`` queue: ids in, idempotent, safe to retry."""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid

from celery import shared_task

from elearn.extensions import db
from elearn.metrics import TRANSCODES_IN_FLIGHT
from media import pipeline, service, transcode
from media.containers import MediaRejected
from media.models import Asset
from media.settings import setting
from media.storage import StorageError, get_storage

log = logging.getLogger(__name__)


def _worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@shared_task(name="media.process_asset", acks_late=True, ignore_result=True)
def process_asset(asset_id: str) -> str:
    """Probe and transcode one uploaded asset; returns what happened (for logs and tests)."""
    worker = _worker_id()
    claim = pipeline.claim(asset_id, worker=worker)
    db.session.commit()
    if claim.asset is None:
        return claim.skipped or "skipped"
    asset: Asset = claim.asset
    storage = get_storage()
    TRANSCODES_IN_FLIGHT.inc()
    try:
        last = [0.0]

        def on_progress(fraction: float) -> None:
            now = time.monotonic()
            if now - last[0] < 1.0 and fraction < 1.0:
                return
            last[0] = now
            pipeline.report_progress(asset, worker=worker, fraction=fraction)
            db.session.commit()

        published = pipeline.process(asset, worker=worker, storage=storage,
                                     on_progress=on_progress)  # fmt: skip
        db.session.commit()
        return "ready" if published else "lost_lease"
    except MediaRejected as rejected:
        db.session.rollback()
        pipeline.reject(asset, rejected, storage=storage)
        db.session.commit()
        return f"failed:{rejected.code}"
    except (transcode.TranscodeError, StorageError, OSError) as error:
        log.warning("media: processing %s failed (attempt %s): %s", asset_id, asset.attempts, error)
        db.session.rollback()
        again = pipeline.give_up_or_retry(asset, worker=worker)
        db.session.commit()
        if again:
            # queued after the commit; the attempt counter in the row bounds the retries
            countdown = int(setting("MEDIA_RETRY_SECONDS")) * asset.attempts
            process_asset.apply_async((asset_id,), countdown=countdown)
            return "retry"
        return "failed:processing_failed"
    finally:
        TRANSCODES_IN_FLIGHT.dec()


@shared_task(name="media.requeue_stale", ignore_result=True)
def requeue_stale() -> int:
    """Queue again the assets whose worker died mid-processing (their lease ran out)."""
    ids = pipeline.stale_assets()
    db.session.commit()
    for asset_id in ids:
        process_asset.delay(asset_id)
    return len(ids)


@shared_task(name="media.abandon_uploads", ignore_result=True)
def abandon_uploads() -> int:
    """Abort uploads nobody finished within MEDIA_UPLOAD_ABANDON_HOURS (assets end failed)."""
    storage = get_storage()
    abandoned = 0
    stale = service.stale_upload_ids()
    db.session.commit()
    for asset_id in stale:  # each in its own short transaction (a row lock)
        try:
            abandoned += int(service.abandon_if_stale(asset_id, storage=storage))
            db.session.commit()
        except StorageError as error:
            db.session.rollback()
            log.warning("media: could not abandon upload %s: %s", asset_id, error)
    try:
        orphans = service.abort_orphan_uploads(storage=storage)
    except StorageError as error:
        log.warning("media: could not list open uploads: %s", error)
        orphans = 0
    db.session.commit()
    return abandoned + orphans
