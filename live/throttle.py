"""Per-user message rate limits in the room: a token bucket (1 a second, bursts of 5 by default).

With ``REDIS_URL`` set the buckets live in Redis, so a user with sockets on two processes (or two
tabs behind different processes) has one budget.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from typing import Any

import redis as redis_lib
from flask import Flask

from elearn.extensions import socketio

log = logging.getLogger(__name__)

_BUCKET = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local data = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(data[1]) or burst
local ts = tonumber(data[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
return allowed
"""


class MemoryThrottle:
    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            tokens, ts = self._buckets.get(key, (float(self.burst), now))
            tokens = min(self.burst, tokens + (now - ts) * self.rate)
            allowed = tokens >= 1
            self._buckets[key] = (tokens - 1 if allowed else tokens, now)
            return allowed


class RedisThrottle:
    def __init__(self, url: str, prefix: str, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self._redis = redis_lib.Redis.from_url(url)
        self._script = self._redis.register_script(_BUCKET)
        self._prefix = prefix
        self._ttl = math.ceil(burst / rate) + 1

    def allow(self, key: str) -> bool:
        try:
            return bool(
                self._script(
                    keys=[f"{self._prefix}:rate:{key}"],
                    args=[self.rate, self.burst, time.time(), self._ttl],
                )
            )
        except redis_lib.RedisError as error:
            # Redis restarting: the room keeps talking (lines are stored and replayed to those
            # who missed them) rather than refusing everyone until it is back
            log.warning("live rate limit unavailable, allowing: %s", error)
            return True


Throttle = MemoryThrottle | RedisThrottle


def from_app(app: Flask) -> Throttle:
    rate = float(app.config.get("LIVE_RATE_PER_SECOND", 1.0))
    burst = int(app.config.get("LIVE_RATE_BURST", 5))
    url = app.config.get("REDIS_URL")
    if url:
        return RedisThrottle(url, app.config.get("LIVE_KEY_PREFIX", "elearn-live"), rate, burst)
    return MemoryThrottle(rate, burst)


class RateCheck:
    """One rate check of ``throttle``, asked in a background task started now (beside the
    event's other round trips), answered by ``allowed``."""

    def __init__(self, throttle: Any, key: str) -> None:
        self._answer: bool | None = None
        self._error: Exception | None = None
        self._task = socketio.start_background_task(self._ask, throttle, key)

    def _ask(self, throttle: Any, key: str) -> None:
        try:
            self._answer = bool(throttle.allow(key))
        except Exception as error:  # noqa: BLE001 - raised again in the handler
            self._error = error

    def allowed(self) -> bool:
        self._task.join()
        if self._error is not None:
            raise self._error
        return bool(self._answer)
