"""Poll summaries, tallied on the server and broadcast at most once a second per poll.

Votes only mark their poll "dirty"; one background task per process wakes a few times a second,
and for each dirty poll takes a one-second gate (in Redis when configured, so the limit holds
across processes) before it tallies and emits. A burst of a thousand votes becomes one summary.
"""

from __future__ import annotations

import logging
import threading
import time

import redis as redis_lib
from flask import Flask

from elearn.extensions import db, socketio

log = logging.getLogger(__name__)

NAMESPACE = "/live"
TICK_SECONDS = 0.25
GATE_SECONDS = 1.0


def room_of(lecture_id: int) -> str:
    return f"lecture:{lecture_id}"


class PollSummaries:
    def __init__(self, app: Flask) -> None:
        self._app = app
        self._lock = threading.Lock()
        self._dirty: set[int] = set()
        self._started = False
        self._last: dict[int, float] = {}
        url = app.config.get("REDIS_URL")
        self._redis = redis_lib.Redis.from_url(url) if url else None
        self._prefix = app.config.get("LIVE_KEY_PREFIX", "elearn-live")

    def mark(self, poll_id: int) -> None:
        """The poll's tally changed: a summary goes out within about a second."""
        with self._lock:
            self._dirty.add(poll_id)
            if not self._started:
                self._started = True
                socketio.start_background_task(self._run)

    def _gate(self, poll_id: int) -> bool:
        if self._redis is not None:
            key = f"{self._prefix}:pollsum:{poll_id}"
            return bool(self._redis.set(key, "1", nx=True, px=int(GATE_SECONDS * 1000)))
        now = time.monotonic()
        if now - self._last.get(poll_id, 0.0) < GATE_SECONDS:
            return False
        self._last[poll_id] = now
        return True

    def _run(self) -> None:
        while True:
            socketio.sleep(TICK_SECONDS)
            with self._lock:
                dirty, self._dirty = self._dirty, set()
            if not dirty:
                continue
            try:
                waiting = self._flush(dirty)
            except Exception:  # noqa: BLE001 - the loop must outlive a failed tick
                log.exception("poll summary tick failed")
                waiting = dirty
            if waiting:
                with self._lock:
                    self._dirty |= waiting

    def _flush(self, dirty: set[int]) -> set[int]:
        from live import service
        from live.models import Poll

        waiting: set[int] = set()
        with self._app.app_context():
            try:
                for poll_id in sorted(dirty):
                    if not self._gate(poll_id):
                        waiting.add(poll_id)
                        continue
                    poll = db.session.get(Poll, poll_id)
                    if poll is None:
                        continue
                    socketio.emit(
                        "poll_summary",
                        service.poll_summary(poll),
                        to=room_of(poll.lecture_id),
                        namespace=NAMESPACE,
                    )
            finally:
                db.session.remove()
        return waiting
