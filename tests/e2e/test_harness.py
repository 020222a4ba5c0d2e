"""The harness itself: the server runs on PostgreSQL and Redis, the worker consumes both queues."""

from __future__ import annotations

import json
import urllib.request

import pytest

pytestmark = pytest.mark.e2e


def test_server_is_ready_on_postgresql_and_redis(live_url, e2e_env):
    with urllib.request.urlopen(f"{live_url}/readyz", timeout=5) as response:
        body = json.load(response)
    assert response.status == 200, body
    assert body["checks"]["database"] == "ok" and body["checks"]["redis"] == "ok"
    assert e2e_env["DATABASE_URL"].startswith("postgresql")


def test_worker_consumes_the_default_and_media_queues(e2e_worker, e2e_env):
    from celery import Celery

    probe = Celery(broker=e2e_env["ELEARN_BROKER_URL"], set_as_current=False)
    try:
        replies = probe.control.inspect(timeout=2.0).active_queues() or {}
    finally:
        probe.close()
    assert len(replies) == 1, replies  # this run's worker only: the Redis database is ours
    (queues,) = replies.values()
    assert {queue["name"] for queue in queues} == {"celery", "media"}
