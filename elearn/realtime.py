"""The Socket.IO message queue between web processes (Redis), and what a process tells its own
sockets when the queue comes back after an outage.

python-socketio's Redis manager reconnects by itself after a Redis restart, but what was
published while Redis was away reached no process: those events are lost for every socket. Once
the manager is subscribed again, every socket of this process hears ``resync`` and asks for what
it missed (the live room joins again with its ``last_seen_id`` and gets the lines since).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import socketio

#: the event a process sends its own sockets when its message queue is back
RESYNC_EVENT = "resync"
#: Flask-SocketIO's channel, which the Celery workers' emits use too
CHANNEL = "flask-socketio"

log = logging.getLogger(__name__)


class MessageQueue(socketio.RedisManager):
    """The Redis manager, announcing a reconnection to this process's sockets."""

    def __init__(self, url: str, **options: Any) -> None:
        super().__init__(url, channel=CHANNEL, **options)
        #: the listener's thread (a greenlet under gevent), and how often it connected
        self._listener: int | None = None
        self._listener_connects = 0
        self._announcing = False

    def _listen(self) -> Any:
        self._listener = threading.get_ident()
        yield from super()._listen()

    def _redis_connect(self) -> None:
        super()._redis_connect()
        if threading.get_ident() != self._listener:
            return  # a publish connecting: says nothing about what the listener missed
        self._listener_connects += 1
        # the listener connects again only after it lost Redis: it missed what was published
        if self._listener_connects > 1 and not self._announcing:
            self._announcing = True
            self.server.start_background_task(self._announce_when_back)

    def _announce_when_back(self) -> None:
        """Wait until the listener is subscribed again and Redis answers, then tell every local
        socket (not through the queue: each process tells its own)."""
        try:
            while not self._listening():
                self.server.sleep(0.5)
            self.server.sleep(0.2)
            for namespace in list(self.rooms):
                socketio.Manager.emit(self, RESYNC_EVENT, {}, namespace=namespace)
            log.warning("message queue back: sockets told to resync")
        finally:
            self._announcing = False

    def _listening(self) -> bool:
        try:
            return bool(self.pubsub is not None and self.pubsub.subscribed and self.redis.ping())
        except Exception:  # noqa: BLE001 - still away: ask again
            return False


def client_manager(url: str | None) -> dict[str, Any]:
    """Flask-SocketIO's options for the queue at ``url`` (none: one process, no queue)."""
    if url and url.startswith(("redis://", "rediss://")):
        return {"client_manager": MessageQueue(url)}
    return {"message_queue": url}
