"""Periodic work: close attempts whose time ran out or that were abandoned."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="quizzes.close_expired_attempts", ignore_result=True)
def close_expired_attempts() -> int:
    """Close and grade attempts past their deadline (plus grace) or abandoned; idempotent."""
    from quizzes import service

    return service.close_expired_attempts()


@shared_task(name="quizzes.release_survey_responses", ignore_result=True)
def release_survey_responses() -> int:
    """Release the responses still pooled for anonymous surveys that have closed; idempotent."""
    from quizzes.dispatch.service import surveys

    return surveys.release_closed()
