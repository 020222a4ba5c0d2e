"""Periodic work of dispatch: release the anonymous survey responses still pooled."""

from __future__ import annotations

from celery import shared_task

from quizzes.dispatch.service import surveys


@shared_task(name="quizzes.release_survey_responses", ignore_result=True)
def release_survey_responses() -> int:
    """Release the responses still pooled for anonymous surveys that have closed; idempotent."""
    return surveys.release_closed()
