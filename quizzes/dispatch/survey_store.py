"""Where anonymous surveys keep what must never sit in a database row next to a person.

Two things live here, never in PostgreSQL:

* the **in-progress session** of an anonymous survey (who is answering, and their answers so far),
  keyed by a random token, expiring with the survey's window;
* the **release pool** of submitted responses: a response goes to the database only in a shuffled
  batch of at least five from the same school, so neither the row's order nor its transaction
  (PostgreSQL's ``xmin``, shared by rows written together) lines up with a participation row.

With ``REDIS_URL`` set both live in Redis (any number of web processes); without it (the embedded
default, one process) a dictionary does.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any, Protocol, cast

import redis as redis_lib
from flask import Flask, current_app

from quizzes import rules

# set one answer only if the session still exists and the sequence number is newer
# (quizzes.rules.seq_newer, restated in Lua: Redis decides it atomically)
_SAVE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current and tonumber(cjson.decode(current)['seq']) >= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
"""


class SurveyStore(Protocol):
    def create(self, token: str, owner: str, meta: dict[str, Any], ttl: int) -> str: ...
    def load(self, token: str) -> tuple[dict[str, Any], dict[str, Any]] | None: ...
    def token_of(self, owner: str) -> str | None: ...
    def save(self, token: str, question_id: int, answer: Any, seq: int) -> int: ...
    def claim(self, token: str) -> tuple[dict[str, Any], dict[str, Any]] | None: ...
    def pool_add(self, pool: str, response: dict[str, Any]) -> int: ...
    def pool_take(self, pool: str) -> list[dict[str, Any]]: ...
    def pool_size(self, pool: str) -> int: ...
    def pools(self) -> list[str]: ...


def _split(raw: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]] | None:
    if not raw or "meta" not in raw:
        return None
    answers = {k[2:]: json.loads(v) for k, v in raw.items() if k.startswith("a:")}
    return json.loads(raw["meta"]), answers


class MemorySurveyStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[str, tuple[float, dict[str, str]]] = {}
        self._owners: dict[str, tuple[float, str]] = {}
        self._pools: dict[str, list[str]] = {}

    def _alive(self, token: str) -> dict[str, str] | None:
        entry = self._sessions.get(token)
        if entry is None or entry[0] < time.monotonic():
            self._sessions.pop(token, None)
            return None
        return entry[1]

    def create(self, token: str, owner: str, meta: dict[str, Any], ttl: int) -> str:
        with self._lock:
            held = self._owners.get(owner)
            if held and held[0] >= time.monotonic() and self._alive(held[1]) is not None:
                return held[1]
            expires = time.monotonic() + ttl
            self._sessions[token] = (expires, {"meta": json.dumps(meta), "owner": owner})
            self._owners[owner] = (expires, token)
            return token

    def load(self, token: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        with self._lock:
            raw = self._alive(token)
            return _split(dict(raw)) if raw else None

    def token_of(self, owner: str) -> str | None:
        with self._lock:
            held = self._owners.get(owner)
            return held[1] if held and self._alive(held[1]) is not None else None

    def save(self, token: str, question_id: int, answer: Any, seq: int) -> int:
        with self._lock:
            raw = self._alive(token)
            if raw is None:
                return -1
            current = raw.get(f"a:{question_id}")
            if current and not rules.seq_newer(json.loads(current)["seq"], seq):
                return 0
            raw[f"a:{question_id}"] = json.dumps({"answer": answer, "seq": seq})
            return 1

    def claim(self, token: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        with self._lock:
            raw = self._alive(token)
            self._sessions.pop(token, None)
            if raw is None:
                return None
            self._owners.pop(raw.get("owner", ""), None)
            return _split(raw)

    def pool_add(self, pool: str, response: dict[str, Any]) -> int:
        with self._lock:
            self._pools.setdefault(pool, []).append(json.dumps(response))
            return len(self._pools[pool])

    def pool_take(self, pool: str) -> list[dict[str, Any]]:
        with self._lock:
            return [json.loads(r) for r in self._pools.pop(pool, [])]

    def pool_size(self, pool: str) -> int:
        with self._lock:
            return len(self._pools.get(pool, []))

    def pools(self) -> list[str]:
        with self._lock:
            return sorted(p for p, items in self._pools.items() if items)


class RedisSurveyStore:
    def __init__(self, url: str, prefix: str) -> None:
        self._redis = redis_lib.Redis.from_url(url, decode_responses=True)
        self._prefix = prefix
        self._save = self._redis.register_script(_SAVE)

    def _key(self, *parts: Any) -> str:
        return ":".join([self._prefix, *(str(p) for p in parts)])

    def create(self, token: str, owner: str, meta: dict[str, Any], ttl: int) -> str:
        owner_key = self._key("owner", owner)
        # one session per person and survey, even with two tabs starting at once
        if not self._redis.set(owner_key, token, nx=True, ex=ttl):
            held = cast(str | None, self._redis.get(owner_key))
            if held and self._redis.exists(self._key("session", held)):
                return held
            self._redis.set(owner_key, token, ex=ttl)
        pipe = self._redis.pipeline()
        pipe.hset(self._key("session", token), mapping={"meta": json.dumps(meta), "owner": owner})
        pipe.expire(self._key("session", token), ttl)
        pipe.execute()
        return token

    def load(self, token: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        return _split(cast(dict[str, str], self._redis.hgetall(self._key("session", token))))

    def token_of(self, owner: str) -> str | None:
        held = cast(str | None, self._redis.get(self._key("owner", owner)))
        return held if held and self._redis.exists(self._key("session", held)) else None

    def save(self, token: str, question_id: int, answer: Any, seq: int) -> int:
        payload = json.dumps({"answer": answer, "seq": seq})
        return int(
            cast(
                int,
                self._save(
                    keys=[self._key("session", token)], args=[f"a:{question_id}", seq, payload]
                ),
            )
        )

    def claim(self, token: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        # read and delete in one transaction: of parallel submits, one gets the answers
        pipe = self._redis.pipeline(transaction=True)
        pipe.hgetall(self._key("session", token))
        pipe.delete(self._key("session", token))
        raw, _deleted = pipe.execute()
        if not raw:
            return None
        self._redis.delete(self._key("owner", raw.get("owner", "")))
        return _split(raw)

    def pool_add(self, pool: str, response: dict[str, Any]) -> int:
        pipe = self._redis.pipeline(transaction=True)
        pipe.rpush(self._key("pool", pool), json.dumps(response))
        pipe.sadd(self._key("pools"), pool)
        size, _added = pipe.execute()
        return int(size)

    def pool_take(self, pool: str) -> list[dict[str, Any]]:
        pipe = self._redis.pipeline(transaction=True)
        pipe.lrange(self._key("pool", pool), 0, -1)
        pipe.delete(self._key("pool", pool))
        pipe.srem(self._key("pools"), pool)
        items, _deleted, _removed = pipe.execute()
        return [json.loads(item) for item in items]

    def pool_size(self, pool: str) -> int:
        return int(cast(int, self._redis.llen(self._key("pool", pool))))

    def pools(self) -> list[str]:
        return sorted(cast(set[str], self._redis.smembers(self._key("pools"))))


def init_app(app: Flask) -> None:
    url = app.config.get("REDIS_URL")
    store: SurveyStore = (
        RedisSurveyStore(url, app.config.get("QUIZ_KEY_PREFIX", "elearn-quiz"))
        if url
        else MemorySurveyStore()
    )
    app.extensions["quizzes_survey_store"] = store


def survey_store() -> SurveyStore:
    return cast(SurveyStore, current_app.extensions["quizzes_survey_store"])
