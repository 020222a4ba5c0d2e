"""Periodic work: close attempts whose time ran out or that were abandoned."""

from __future__ import annotations

from celery import shared_task

from quizzes import service


@shared_task(name="quizzes.close_expired_attempts", ignore_result=True)
def close_expired_attempts() -> int:
    """Close and grade attempts past their deadline (plus grace) or abandoned; idempotent."""
    return service.close_expired_attempts()
