"""Celery tasks of messaging: ids in, idempotent, safe to retry."""

from __future__ import annotations

import logging

from celery import shared_task

from parents.interaction import service

log = logging.getLogger(__name__)

#: how often the beat looks for messages whose quiet hours are over
WAITING_SECONDS = 60.0


@shared_task(name="parents.deliver_waiting_messages", acks_late=True, ignore_result=True)
def deliver_waiting_messages() -> int:
    """Beat, every minute: deliver the messages whose recipients' quiet hours ended (one unit
    of work: the task class commits it)."""
    delivered = service.deliver_waiting()
    if delivered:
        log.info("delivered %d messages after quiet hours", delivered)
    return delivered
