"""Celery tasks of live lectures: ids in, idempotent, safe to retry."""

from __future__ import annotations

import logging

from celery import shared_task

from elearn import uow
from elearn.extensions import db
from live import service
from live.models import Lecture
from live.service import broadcast, send_due_reminders
from live.summaries import NAMESPACE, room_of

log = logging.getLogger(__name__)

RETRY_SECONDS = 5


@shared_task(name="live.publish_recording", bind=True, acks_late=True, ignore_result=True,
             max_retries=40)  # fmt: skip
def publish_recording(self, lecture_id: int) -> str:
    """Make an ended lecture's stream a ready recording and a lesson in the library (media queue)."""
    # its own unit: a lecture still "waiting" for its stream is committed before the retry
    # (which rolls back the task's unit), and the room hears of a recording once it is committed
    with uow.unit():
        lecture = db.session.get(Lecture, lecture_id, with_for_update=True)
        if lecture is None:
            return "missing"
        result = broadcast.publish_recording(lecture)
        if result == "published":
            lesson_id = lecture.recording_lesson_id
            uow.emit(
                "recording",
                {"lesson_id": lesson_id, "url": f"/lessons/{lesson_id}"},
                to=room_of(lecture_id),
                namespace=NAMESPACE,
            )
    if result == "waiting":
        raise self.retry(countdown=RETRY_SECONDS)
    log.info("recording of lecture %s: %s", lecture_id, result)
    return result


@shared_task(name="live.send_reminders", acks_late=True, ignore_result=True)
def send_reminders() -> int:
    """Beat, every minute: remind each lecture's audience once, shortly before it starts (one unit
    of work: the task class commits it)."""
    return send_due_reminders()


@shared_task(name="live.sweep_dead_processes", acks_late=True, ignore_result=True)
def sweep_dead_processes() -> int:
    """Beat, every 30 s: close the attendance intervals of web processes whose heartbeat stopped
    (killed without running their disconnects), at their last beat (one unit of work)."""
    closed = service.sweep_dead_processes()
    if closed:
        log.warning("closed %d attendance intervals of dead web processes", closed)
    return closed
