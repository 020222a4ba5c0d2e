"""Celery tasks of the family pages: the weekly digest to guardians (idempotent)."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.schedules import crontab

from parents.family import service

log = logging.getLogger(__name__)

#: Fridays 12:00 UTC (20:00 in China): the week's digest, before the weekend
WEEKLY = crontab(minute=0, hour=12, day_of_week="fri")


@shared_task(name="parents.family_weekly_digest", acks_late=True, ignore_result=True)
def family_weekly_digest() -> int:
    """Beat, weekly: each guardian's notice of their children's week (one unit of work)."""
    sent = service.send_weekly_digests()
    log.info("sent %d weekly family digests", sent)
    return sent
