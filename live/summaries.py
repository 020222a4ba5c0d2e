"""Poll and quick-quiz summaries, tallied on the server and broadcast at most once a second each.

Votes and answers only mark their poll or quiz "dirty"; one background task per process wakes a
few times a second, and for each dirty one takes a one-second gate (in Redis when configured, so
the limit holds across processes) before it tallies and emits. A burst of a thousand votes
becomes one summary. A quiz's summary goes to the room (how many answered) and, with the
tallies, to the hosts (``quiz_tally``).
"""

from __future__ import annotations

import logging
import threading
import time

import redis as redis_lib
from flask import Flask

from elearn.extensions import db, socketio
from live import service
from live.models import LectureQuiz, Poll

log = logging.getLogger(__name__)

NAMESPACE = "/live"
TICK_SECONDS = 0.25
GATE_SECONDS = 1.0


def room_of(lecture_id: int) -> str:
    return f"lecture:{lecture_id}"


def hosts_room(lecture_id: int) -> str:
    return f"lecture:{lecture_id}:hosts"


class PollSummaries:
    def __init__(self, app: Flask) -> None:
        self._app = app
        self._lock = threading.Lock()
        #: ("poll", id) or ("quiz", id)
        self._dirty: set[tuple[str, int]] = set()
        self._started = False
        self._last: dict[tuple[str, int], float] = {}
        url = app.config.get("REDIS_URL")
        self._redis = redis_lib.Redis.from_url(url) if url else None
        self._prefix = app.config.get("LIVE_KEY_PREFIX", "elearn-live")

    def mark(self, poll_id: int) -> None:
        """The poll's tally changed: a summary goes out within about a second."""
        self._mark(("poll", poll_id))

    def mark_quiz(self, quiz_id: int) -> None:
        """The quiz's tally changed (or it opened or closed): summaries within about a second."""
        self._mark(("quiz", quiz_id))

    def _mark(self, key: tuple[str, int]) -> None:
        with self._lock:
            self._dirty.add(key)
            if not self._started:
                self._started = True
                socketio.start_background_task(self._run)

    def _gate(self, key: tuple[str, int]) -> bool:
        if self._redis is not None:
            name = f"{self._prefix}:{key[0]}sum:{key[1]}"
            return bool(self._redis.set(name, "1", nx=True, px=int(GATE_SECONDS * 1000)))
        now = time.monotonic()
        if now - self._last.get(key, 0.0) < GATE_SECONDS:
            return False
        self._last[key] = now
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

    def _flush(self, dirty: set[tuple[str, int]]) -> set[tuple[str, int]]:
        waiting: set[tuple[str, int]] = set()
        with self._app.app_context():
            try:
                for key in sorted(dirty):
                    if not self._gate(key):
                        waiting.add(key)
                        continue
                    if key[0] == "poll":
                        self._emit_poll(key[1])
                    else:
                        self._emit_quiz(key[1])
            finally:
                db.session.remove()
        return waiting

    def _emit_poll(self, poll_id: int) -> None:
        poll = db.session.get(Poll, poll_id)
        if poll is None:
            return
        socketio.emit(
            "poll_summary",
            service.poll_summary(poll),
            to=room_of(poll.lecture_id),
            namespace=NAMESPACE,
        )

    def _emit_quiz(self, quiz_id: int) -> None:
        quiz = db.session.get(LectureQuiz, quiz_id)
        if quiz is None:
            return
        summary = service.quiz_summary(quiz)
        socketio.emit("quiz_summary", summary, to=room_of(quiz.lecture_id), namespace=NAMESPACE)
        if quiz.is_open:
            socketio.emit(
                "quiz_tally",
                service.quiz_summary(quiz, for_hosts=True),
                to=hosts_room(quiz.lecture_id),
                namespace=NAMESPACE,
            )
