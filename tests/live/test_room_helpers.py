"""The room's helpers without Redis (the embedded default): rate buckets and the sid map."""

from __future__ import annotations

from live.presence import MemoryPresence
from live.throttle import MemoryThrottle


def test_memory_throttle_allows_a_burst_then_refuses():
    throttle = MemoryThrottle(rate=0.001, burst=5)
    assert [throttle.allow("user:1") for _ in range(7)] == [True] * 5 + [False] * 2
    assert throttle.allow("user:2")  # buckets are per user


def test_memory_presence_maps_sessions_users_and_lectures():
    presence = MemoryPresence()
    presence.add("a", user_id=1, session_key="s1")
    presence.add("b", user_id=1, session_key="s2")
    presence.add("c", user_id=2, session_key=None)
    presence.set_lecture("a", 7)
    assert presence.sids_of_session("s1") == ["a"]
    assert presence.sids_of_user(1) == ["a", "b"]
    assert presence.sids_of_user(1, 7) == ["a"]
    presence.remove("a")
    assert presence.sids_of_session("s1") == [] and presence.sids_of_user(1) == ["b"]


def test_redis_backends_share_state_between_instances():
    """Two processes = two instances on one Redis: one budget and one sid map."""
    import uuid

    from live.presence import RedisPresence
    from live.throttle import RedisThrottle
    from tests.conftest import REDIS_URL, _require_services

    _require_services()
    prefix = f"elearn-live-test-{uuid.uuid4().hex}"
    first, second = (RedisThrottle(REDIS_URL, prefix, rate=0.001, burst=3) for _ in range(2))
    assert [first.allow("user:1"), second.allow("user:1"), first.allow("user:1")] == [True] * 3
    assert not second.allow("user:1")
    here, there = RedisPresence(REDIS_URL, prefix), RedisPresence(REDIS_URL, prefix)
    here.add("a", user_id=1, session_key="s1")
    here.set_lecture("a", 7)
    assert there.sids_of_session("s1") == ["a"] and there.sids_of_user(1, 7) == ["a"]
    there.remove("a")
    assert here.sids_of_user(1) == []
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)
