"""This web process's identity and heartbeat (``live.service.processes`` says why).

The identity is ``host:pid:random``, made in the process that serves the sockets (after
gunicorn's fork), and named on every attendance interval the process opens. The heartbeat
starts with the process's first socket: one beat at once (so no interval names a process the
database has never heard of), then a background task (a greenlet under gevent) that beats every
``LIVE_HEARTBEAT_SECONDS``, each beat its own unit of work. A beat that fails (the database
restarting) is logged and the next one tries again. A beat that finds the process swept (too
busy, or the database away, for longer than the expiry) reopens its sockets' intervals.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable

from flask import Flask

from elearn import uow
from elearn.extensions import db, socketio
from live import service

log = logging.getLogger(__name__)


def make_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


class Heartbeat:
    def __init__(self, app: Flask) -> None:
        self._app = app
        self._lock = threading.Lock()
        self._identity = make_identity()
        #: the pid the identity and the running task belong to (a fork starts over)
        self._pid = os.getpid()
        self._running = False
        #: the sids of this process's sockets that are in a room (live/events.py tells)
        self._in_rooms: Callable[[], list[str]] = list

    @property
    def identity(self) -> str:
        """This process's identity (a new one in a forked child)."""
        with self._lock:
            self._refork()
            return self._identity

    def _refork(self) -> None:
        if self._pid != os.getpid():
            self._identity, self._pid, self._running = make_identity(), os.getpid(), False

    def ensure_running(self, in_rooms: Callable[[], list[str]]) -> None:
        """Beat now and keep beating, the first time this process is asked; later, nothing.
        ``in_rooms()`` lists the sids in a room, whose intervals a beat after a sweep reopens."""
        if self._app.testing:
            # in-process tests (Flask-SocketIO's test client) share the test's one database
            # connection and session: no writer of its own beside them
            return
        with self._lock:
            self._refork()
            if self._running:
                return
            self._running, self._in_rooms = True, in_rooms
        self.beat()
        socketio.start_background_task(self._run)

    def beat(self) -> bool:
        """One beat in a unit of work of its own; False (logged) if it could not be written."""
        try:
            with self._app.app_context():
                try:
                    with uow.unit():
                        if service.record_beat(process=self.identity):
                            # a sweep took this process for dead: it was only too busy to beat
                            opened = service.reopen_intervals(
                                process=self.identity, sids=self._in_rooms()
                            )
                            log.warning(
                                "web process %s was swept while alive; %d intervals reopened",
                                self.identity,
                                opened,
                            )
                finally:
                    db.session.remove()
        except Exception:  # noqa: BLE001 - the next beat tries again
            log.exception("the heartbeat of web process %s failed", self.identity)
            return False
        return True

    def _run(self) -> None:
        while True:
            socketio.sleep(float(self._app.config["LIVE_HEARTBEAT_SECONDS"]))
            self.beat()
