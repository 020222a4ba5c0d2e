"""Celery tasks of care files."""

from __future__ import annotations

import logging

from celery import shared_task

from parents.care import service

log = logging.getLogger(__name__)

#: how often the beat purges the files closed longer than CARE_PURGE_DAYS ago
PURGE_SECONDS = 6 * 3600.0


@shared_task(name="parents.purge_care_files", acks_late=True, ignore_result=True)
def purge_care_files() -> int:
    """Beat: delete the files closed more than CARE_PURGE_DAYS ago (their access logs stay)."""
    purged = service.purge()
    if purged:
        log.info("purged %d closed care files", purged)
    return purged
