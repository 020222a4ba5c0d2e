"""Celery tasks on the ``media`` queue: ids in, idempotent, safe to retry.

Each task is one unit of work (``elearn.uow``), except that ``process_asset`` commits each of its
steps in its own ``uow.unit()``: the lease, the progress and the outcome must be seen by other
workers (and the asset page) while ffmpeg runs, and a crash mid-transcode leaves a committed lease
that runs out, so the asset stays retryable.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid

from celery import shared_task

from elearn import uow
from elearn.metrics import TRANSCODES_IN_FLIGHT
from media import pipeline, service
from media.containers import MediaRejected
from media.models import Asset
from media.settings import setting
from media.storage import Storage, StorageError, get_storage
from media.transcode import runner

log = logging.getLogger(__name__)


def _worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@shared_task(name="media.process_asset", acks_late=True, ignore_result=True)
def process_asset(asset_id: str) -> str:
    """Probe and transcode one uploaded asset; returns what happened (for logs and tests)."""
    worker = _worker_id()
    with uow.unit():  # the lease is seen before the hour of ffmpeg
        claim = pipeline.claim(asset_id, worker=worker)
    if claim.asset is None:
        return claim.skipped or "skipped"
    asset: Asset = claim.asset
    storage = get_storage()
    TRANSCODES_IN_FLIGHT.inc()
    try:
        return _process_claimed(asset, worker=worker, storage=storage)
    finally:
        TRANSCODES_IN_FLIGHT.dec()


def _process_claimed(asset: Asset, *, worker: str, storage: Storage) -> str:
    """Transcode and publish a claimed asset, each outcome committed in its own unit."""
    asset_id = asset.id
    last = [0.0]

    def on_progress(fraction: float) -> None:
        now = time.monotonic()
        if now - last[0] < 1.0 and fraction < 1.0:
            return
        last[0] = now
        with uow.unit():  # progress and the extended lease are seen while ffmpeg runs
            pipeline.report_progress(asset, worker=worker, fraction=fraction)

    try:
        with uow.unit():
            published = pipeline.process(asset, worker=worker, storage=storage,
                                         on_progress=on_progress)  # fmt: skip
        return "ready" if published else "lost_lease"
    except MediaRejected as rejected:
        with uow.unit():
            pipeline.reject(asset, rejected, storage=storage)
        return f"failed:{rejected.code}"
    except (runner.TranscodeError, StorageError, OSError) as error:
        log.warning("media: processing %s failed (attempt %s): %s", asset_id, asset.attempts, error)
        with uow.unit():
            again = pipeline.give_up_or_retry(asset, worker=worker)
            if again:
                # sent after the commit; the attempt counter in the row bounds the retries
                countdown = int(setting("MEDIA_RETRY_SECONDS")) * asset.attempts
                uow.send_task(process_asset, asset_id, countdown=countdown)
        return "retry" if again else "failed:processing_failed"


@shared_task(name="media.requeue_stale", ignore_result=True)
def requeue_stale() -> int:
    """Queue again the assets whose worker died mid-processing (their lease ran out)."""
    ids = pipeline.stale_assets()
    for asset_id in ids:
        uow.send_task(process_asset, asset_id)
    return len(ids)


@shared_task(name="media.abandon_uploads", ignore_result=True)
def abandon_uploads() -> int:
    """Abort uploads nobody finished within MEDIA_UPLOAD_ABANDON_HOURS (assets end failed)."""
    storage = get_storage()
    abandoned = 0
    with uow.unit():
        stale = service.stale_upload_ids()
    for asset_id in stale:  # each in its own short unit (a row lock)
        try:
            with uow.unit():
                abandoned += int(service.abandon_if_stale(asset_id, storage=storage))
        except StorageError as error:
            log.warning("media: could not abandon upload %s: %s", asset_id, error)
    try:
        orphans = service.abort_orphan_uploads(storage=storage)
    except StorageError as error:
        log.warning("media: could not list open uploads: %s", error)
        orphans = 0
    return abandoned + orphans
