"""This web process's identity and heartbeat (``live.service.processes`` says why).

The identity is ``host:pid:random``, made in the process that serves the sockets (after
gunicorn's fork), and named on every attendance interval the process opens. The heartbeat
starts with the process's first socket: one beat at once (so no interval names a process the
database has never heard of), then a background task (a greenlet under gevent) that beats every
``LIVE_HEARTBEAT_SECONDS``, each beat its own unit of work. A beat that fails (the database
restarting) is logged and the next one tries again.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading

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

    @property
    def identity(self) -> str:
        """This process's identity (a new one in a forked child)."""
        with self._lock:
            self._refork()
            return self._identity

    def _refork(self) -> None:
        if self._pid != os.getpid():
            self._identity, self._pid, self._running = make_identity(), os.getpid(), False

    def ensure_running(self) -> None:
        """Beat now and keep beating, the first time this process is asked; later, nothing."""
        with self._lock:
            self._refork()
            if self._running:
                return
            self._running = True
        self.beat()
        socketio.start_background_task(self._run)

    def beat(self) -> bool:
        """One beat in a unit of work of its own; False (logged) if it could not be written."""
        try:
            with self._app.app_context():
                try:
                    with uow.unit():
                        service.record_beat(process=self.identity)
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
