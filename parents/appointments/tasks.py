"""Celery tasks of appointments: ids in, idempotent, safe to retry."""

from __future__ import annotations

from celery import shared_task

from parents.appointments import service


@shared_task(name="parents.appointment_reminders", acks_late=True, ignore_result=True)
def send_reminders() -> int:
    """Beat, every minute: remind both parties of each appointment starting within the hour,
    once (one unit of work: the task class commits it)."""
    return service.send_due_reminders()
