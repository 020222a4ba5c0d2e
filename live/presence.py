"""Which Socket.IO connections belong to whom, so a logout or a ban can close them at once.

With ``REDIS_URL`` set the map lives in Redis, so the process handling a logout finds sockets held
by every other web process (the disconnect itself then travels on the Socket.IO message queue).
Without Redis (the embedded default, one process) a dictionary does.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any, cast

import redis as redis_lib
from flask import Flask

#: a socket outlives no login session; keys expire even if a process dies without cleaning up
TTL_SECONDS = 24 * 3600


class MemoryPresence:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sids: dict[str, dict[str, str]] = {}
        self._by_user: dict[str, set[str]] = defaultdict(set)
        self._by_session: dict[str, set[str]] = defaultdict(set)

    def add(self, sid: str, *, user_id: int, session_key: str | None) -> None:
        with self._lock:
            self._sids[sid] = {"user": str(user_id), "session": session_key or "", "lecture": ""}
            self._by_user[str(user_id)].add(sid)
            if session_key:
                self._by_session[session_key].add(sid)

    def set_lecture(self, sid: str, lecture_id: int | None) -> None:
        with self._lock:
            if sid in self._sids:
                self._sids[sid]["lecture"] = str(lecture_id or "")

    def remove(self, sid: str) -> None:
        with self._lock:
            entry = self._sids.pop(sid, None)
            if entry is None:
                return
            self._by_user[entry["user"]].discard(sid)
            if entry["session"]:
                self._by_session[entry["session"]].discard(sid)

    def sids_of_session(self, session_key: str) -> list[str]:
        with self._lock:
            return sorted(self._by_session.get(session_key, ()))

    def sids_of_user(self, user_id: int, lecture_id: int | None = None) -> list[str]:
        with self._lock:
            sids = self._by_user.get(str(user_id), set())
            return sorted(
                sid
                for sid in sids
                if lecture_id is None or self._sids.get(sid, {}).get("lecture") == str(lecture_id)
            )


class RedisPresence:
    def __init__(self, url: str, prefix: str) -> None:
        self._redis = redis_lib.Redis.from_url(url, decode_responses=True)
        self._prefix = prefix

    def _key(self, *parts: Any) -> str:
        return ":".join([self._prefix, *(str(p) for p in parts)])

    def add(self, sid: str, *, user_id: int, session_key: str | None) -> None:
        pipe = self._redis.pipeline()
        pipe.hset(
            self._key("sid", sid),
            mapping={"user": user_id, "session": session_key or "", "lecture": ""},
        )
        pipe.expire(self._key("sid", sid), TTL_SECONDS)
        pipe.sadd(self._key("user", user_id), sid)
        pipe.expire(self._key("user", user_id), TTL_SECONDS)
        if session_key:
            pipe.sadd(self._key("session", session_key), sid)
            pipe.expire(self._key("session", session_key), TTL_SECONDS)
        pipe.execute()

    def set_lecture(self, sid: str, lecture_id: int | None) -> None:
        self._redis.hset(self._key("sid", sid), "lecture", str(lecture_id or ""))

    def remove(self, sid: str) -> None:
        entry = cast(dict[str, str], self._redis.hgetall(self._key("sid", sid)))
        pipe = self._redis.pipeline()
        pipe.delete(self._key("sid", sid))
        if entry.get("user"):
            pipe.srem(self._key("user", entry["user"]), sid)
        if entry.get("session"):
            pipe.srem(self._key("session", entry["session"]), sid)
        pipe.execute()

    def sids_of_session(self, session_key: str) -> list[str]:
        return sorted(cast(set[str], self._redis.smembers(self._key("session", session_key))))

    def sids_of_user(self, user_id: int, lecture_id: int | None = None) -> list[str]:
        sids = sorted(cast(set[str], self._redis.smembers(self._key("user", user_id))))
        if lecture_id is None:
            return sids
        return [
            sid
            for sid in sids
            if self._redis.hget(self._key("sid", sid), "lecture") == str(lecture_id)
        ]


Presence = MemoryPresence | RedisPresence


def from_app(app: Flask) -> Presence:
    url = app.config.get("REDIS_URL")
    if url:
        return RedisPresence(url, app.config.get("LIVE_KEY_PREFIX", "elearn-live"))
    return MemoryPresence()
