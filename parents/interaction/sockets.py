"""Which sockets of ``/messages`` belong to which login, across every web process: a logout or
a password change closes them at once, whichever process holds them.

The map lives in Redis when ``REDIS_URL`` is set (each entry expires after a day; a socket
that outlives it re-checks its login at its next event anyway), and in this process's memory
for the embedded default (one process). The disconnect itself travels on the Socket.IO queue.
"""

from __future__ import annotations

import threading
from typing import Any, cast

import redis as redis_lib
from flask import Flask

TTL_SECONDS = 24 * 3600


class MemorySockets:
    def __init__(self) -> None:
        self._entries: dict[str, tuple[int, str]] = {}
        self._lock = threading.Lock()

    def add(self, sid: str, *, user_id: int, login_key: str) -> None:
        with self._lock:
            self._entries[sid] = (user_id, login_key)

    def remove(self, sid: str) -> None:
        with self._lock:
            self._entries.pop(sid, None)

    def of_user(self, user_id: int) -> list[tuple[str, str]]:
        """(sid, login key) of each socket of the user."""
        with self._lock:
            return sorted((sid, key) for sid, (uid, key) in self._entries.items() if uid == user_id)


class RedisSockets:
    def __init__(self, url: str, prefix: str) -> None:
        self._redis = redis_lib.Redis.from_url(url, decode_responses=True)
        self._prefix = prefix

    def _key(self, *parts: Any) -> str:
        return ":".join([self._prefix, *(str(p) for p in parts)])

    def add(self, sid: str, *, user_id: int, login_key: str) -> None:
        pipe = self._redis.pipeline()
        pipe.hset(self._key("sid", sid), mapping={"user": user_id, "login": login_key})
        pipe.expire(self._key("sid", sid), TTL_SECONDS)
        pipe.hset(self._key("user", user_id), sid, login_key)
        pipe.expire(self._key("user", user_id), TTL_SECONDS)
        pipe.execute()

    def remove(self, sid: str) -> None:
        entry = cast(dict[str, str], self._redis.hgetall(self._key("sid", sid)))
        pipe = self._redis.pipeline()
        pipe.delete(self._key("sid", sid))
        if entry.get("user"):
            pipe.hdel(self._key("user", entry["user"]), sid)
        pipe.execute()

    def of_user(self, user_id: int) -> list[tuple[str, str]]:
        return sorted(cast(dict[str, str], self._redis.hgetall(self._key("user", user_id))).items())


Sockets = MemorySockets | RedisSockets


def from_app(app: Flask) -> Sockets:
    url = app.config.get("REDIS_URL")
    if url:
        return RedisSockets(url, app.config.get("MESSAGES_KEY_PREFIX", "elearn-messages"))
    return MemorySockets()
