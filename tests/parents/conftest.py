"""Fixtures of the messaging tests. The Socket.IO tests (``test_events.py``) run against real
servers: the e2e harness's web process (gunicorn with the gevent WebSocket worker, on PostgreSQL,
its own Redis database as the message queue) and a second one on the same database and Redis.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
import socketio

from tests.e2e import conftest as e2e

# the browser tests' fixtures, shared: one seeded server per run of this folder
e2e_artifacts = e2e.e2e_artifacts
e2e_redis_url = e2e.e2e_redis_url
e2e_env = e2e.e2e_env
live_url = e2e.live_url
browser = e2e.browser
new_page = e2e.new_page
csp_violations = e2e.csp_violations
shot = e2e.shot
second_live_url = e2e.second_live_url
e2e_worker = e2e.e2e_worker

NAMESPACE = "/messages"
PASSWORD = "demo1234"
WAIT = 30.0  # patience on a busy machine; no test measures time


_TOKENS: dict[tuple[str, str], str] = {}


def api_token(base_url: str, username: str) -> str:
    key = (base_url, username)
    if key not in _TOKENS:
        response = requests.post(
            f"{base_url}/api/v1/auth/token",
            json={"username": username, "password": PASSWORD},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        _TOKENS[key] = response.json()["token"]
    return _TOKENS[key]


class Api:
    """The JSON API as one demo user, with a bearer token."""

    def __init__(self, base_url: str, username: str) -> None:
        self.base_url = base_url
        self.token = api_token(base_url, username)

    def call(self, method: str, path: str, body: Any = None) -> requests.Response:
        return requests.request(
            method,
            f"{self.base_url}/api/v1{path}",
            json=body,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=30,
        )

    def me(self) -> int:
        return int(self.call("GET", "/me").json()["id"])


class Peer:
    """A python-socketio client on /messages that records every event it receives."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.events: list[tuple[str, Any]] = []
        self.disconnected = False
        self.client = socketio.Client(reconnection=False)
        self.client.on("*", self._record, namespace=NAMESPACE)
        self.client.on("disconnect", self._gone, namespace=NAMESPACE)

    def _gone(self, *args: Any) -> None:
        self.disconnected = True

    def _record(self, event: str, data: Any = None) -> None:
        self.events.append((event, data))

    def connect(self, *, token: str | None = None, headers: dict[str, str] | None = None) -> Peer:
        self.client.connect(
            self.url,
            namespaces=[NAMESPACE],
            auth={"token": token} if token else None,
            headers=headers or {},
            transports=["websocket"],
            wait_timeout=WAIT,
        )
        return self

    def call(self, event: str, data: Any = None) -> Any:
        return self.client.call(event, data or {}, namespace=NAMESPACE, timeout=WAIT)

    def messages(self) -> list[dict[str, Any]]:
        return [data for name, data in self.events if name == "message"]

    def wait_for(self, predicate: Callable[[], Any], what: str) -> Any:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}; events: {self.events[-10:]}")

    def wait_for_message(self, message_id: int) -> dict[str, Any]:
        return self.wait_for(
            lambda: next((m for m in self.messages() if m["message"]["id"] == message_id), None),
            f"message {message_id}",
        )

    def close(self) -> None:
        if self.client.connected:
            self.client.disconnect()


@pytest.fixture
def peers() -> Iterator[Callable[[str], Peer]]:
    made: list[Peer] = []

    def make(url: str) -> Peer:
        peer = Peer(url)
        made.append(peer)
        return peer

    yield make
    for peer in made:
        peer.close()
