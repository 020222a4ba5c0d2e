"""The carrier's Celery tasks: ids in, load, call the service, commit; idempotent."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from celery import shared_task
from flask import current_app
from flask_babel import force_locale
from sqlalchemy import update

from elearn import delivery as channels
from elearn import localtime, uow
from elearn.extensions import db
from elearn.models import Job, JobStatus
from elearn.service import delivery, notifications, rosters

log = logging.getLogger(__name__)


class JobProgress:
    """Writes a job's state through its own short transactions on a second connection.

    The import itself runs in one long transaction (all or nothing); the page polling the job must
    see the progress move meanwhile, so progress never goes through that transaction.
    """

    def __init__(self, job_id: str):
        self.job_id = job_id
        self.last = -1
        # SQLite (the embedded default) allows one writer: once the import has written, a second
        # connection would wait for it, so there progress moves only while the rows are checked.
        self.sqlite = db.engine.dialect.name == "sqlite"

    def _write(self, **values: object) -> None:
        with db.engine.begin() as connection:
            connection.execute(update(Job).where(Job.id == self.job_id).values(**values))

    def started(self) -> None:
        self._write(
            status=JobStatus.RUNNING,
            started_at=datetime.now(UTC),
            attempts=Job.attempts + 1,
        )

    def __call__(self, percent: int) -> None:
        percent = max(0, min(99, percent))
        if percent <= self.last or (self.sqlite and percent > 20):
            return
        self.last = percent
        self._write(progress=percent)


@shared_task(name="elearn.import_roster", acks_late=True, ignore_result=True)
def import_roster(job_id: str) -> None:
    """Import an uploaded roster: check every row, then write them all in one transaction."""
    job = db.session.get(Job, job_id)
    if job is None or rosters.is_finished(job):
        return  # delivered twice: the first delivery did the work
    progress = JobProgress(job_id)
    progress.started()
    limits = rosters.RosterLimits.from_config(current_app.config)
    with force_locale(rosters.job_locale(job)):
        try:
            with uow.unit():  # all the rows or none
                rosters.run_import(job=job, limits=limits, progress=progress)
        except Exception:
            log.exception("roster import %s failed", job_id)
            job = db.session.get(Job, job_id)
            if job is None:
                return
            rosters.fail_unexpectedly(job)  # committed by the task's own unit


@shared_task(name="elearn.purge_read_notifications", ignore_result=True)
def purge_read_notifications() -> int:
    """Daily: drop notices read longer ago than the retention (idempotent)."""
    days = current_app.config["NOTIFICATION_RETENTION_DAYS"]
    return notifications.purge_read(timedelta(days=days))


def _send_claimed(claim: Callable[[str], list[delivery.Claimed]]) -> int:
    """Claim (committed), send each message, record each outcome; returns how many were sent."""
    sent = 0
    for name, channel in channels.channels(current_app.config).items():
        with uow.unit():
            claimed = claim(name)
        for one in claimed:
            outcome = delivery.send(one, channel)
            if outcome.error:
                log.warning("notice delivery on %s failed: %s", name, outcome.error)
            sent += outcome.error is None
            with uow.unit():
                delivery.record(one, outcome)
    return sent


@shared_task(name="elearn.deliver_notifications", ignore_result=True)
def deliver_notifications() -> int:
    """Every half minute: the notices due at once on e-mail and SMS (at most once each)."""
    return _send_claimed(delivery.claim_instant)


@shared_task(name="elearn.send_notification_digests", ignore_result=True)
def send_notification_digests(force: bool = False) -> int:
    """Hourly; at the configured local hour, each person's daily digest of unread notices."""
    hour = current_app.config["NOTIFICATION_DIGEST_HOUR"]
    if not force and datetime.now(localtime.zone()).hour != hour:
        return 0
    return _send_claimed(delivery.claim_digests)
