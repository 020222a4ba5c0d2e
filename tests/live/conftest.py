"""Socket.IO tests run against real servers: the e2e harness's web process (gunicorn with the
gevent WebSocket worker, on PostgreSQL, its own Redis database as the message queue), and for
scale-out a second one on the same database and Redis.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis as redis_lib
import requests
import socketio

from tests.e2e import conftest as e2e

# the browser tests' fixtures, shared: one seeded server (and Chromium) per run of this folder
e2e_artifacts = e2e.e2e_artifacts
e2e_redis_url = e2e.e2e_redis_url
e2e_env = e2e.e2e_env
live_url = e2e.live_url
e2e_worker = e2e.e2e_worker
browser = e2e.browser
new_page = e2e.new_page
csp_violations = e2e.csp_violations
shot = e2e.shot
second_live_url = e2e.second_live_url

NAMESPACE = "/live"
PASSWORD = "demo1234"
WAIT = 30.0  # patience on a busy machine; no test measures time


@pytest.fixture(scope="session")
def werkzeug_live_url(live_url: str, e2e_env: dict[str, str], e2e_artifacts: Path) -> Iterator[str]:
    """`flask elearn serve` beside the e2e server (the Werkzeug threading server the CLI offers),
    on the same database and Redis."""
    with e2e.web_process(e2e_env, e2e_artifacts, "server-werkzeug", e2e.WERKZEUG) as url:
        yield url


_TOKENS: dict[tuple[str, str], str] = {}


@pytest.fixture
def token(live_url: str) -> Callable[[str], str]:
    """``token("student1")`` → an API token for that demo user on the live server."""

    def get(username: str) -> str:
        key = (live_url, username)
        if key not in _TOKENS:
            response = requests.post(
                f"{live_url}/api/v1/auth/token",
                json={"username": username, "password": PASSWORD},
                timeout=30,
            )
            assert response.status_code == 200, response.text
            _TOKENS[key] = response.json()["token"]
        return _TOKENS[key]

    return get


class Peer:
    """A python-socketio client on /live that records every event it receives."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.events: list[tuple[str, Any]] = []
        self.connect_error: Any = None
        self.disconnected = False
        self.client = socketio.Client(reconnection=False)
        self.client.on("*", self._record, namespace=NAMESPACE)
        self.client.on("connect_error", self._refused, namespace=NAMESPACE)
        self.client.on("disconnect", self._gone, namespace=NAMESPACE)

    def _record(self, event: str, data: Any = None) -> None:
        self.events.append((event, data))

    def _refused(self, data: Any = None) -> None:
        self.connect_error = data

    def _gone(self, *args: Any) -> None:
        self.disconnected = True

    def connect(
        self,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        transport: str = "websocket",
    ) -> Peer:
        self.client.connect(
            self.url,
            namespaces=[NAMESPACE],
            auth={"token": token} if token else None,
            headers=headers or {},
            transports=[transport],
            wait_timeout=WAIT,
        )
        return self

    def call(self, event: str, data: Any = None) -> Any:
        return self.client.call(
            event, data if data is not None else {}, namespace=NAMESPACE, timeout=WAIT
        )

    def emit(self, event: str, data: Any = None) -> None:
        self.client.emit(event, data if data is not None else {}, namespace=NAMESPACE)

    def got(self, event: str) -> list[Any]:
        return [data for name, data in self.events if name == event]

    def wait_for(self, predicate: Callable[[], Any], what: str) -> Any:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}; events: {self.events[-10:]}")

    def close(self) -> None:
        if self.client.connected:
            self.client.disconnect()


@pytest.fixture
def peers(e2e_redis_url: str) -> Iterator[Callable[[str], Peer]]:
    # each test starts with full chat budgets, as the suite's rate limits are reset per test: the
    # buckets are per user and live in Redis, and a fast server leaves the last test's spent
    redis = redis_lib.Redis.from_url(e2e_redis_url)
    for key in redis.scan_iter(match="*:rate:*", count=500):
        redis.delete(key)
    redis.close()
    made: list[Peer] = []

    def make(url: str) -> Peer:
        peer = Peer(url)
        made.append(peer)
        return peer

    yield make
    for peer in made:
        peer.close()


def unit_id(base_url: str, token: str, code_path: list[str]) -> int:
    """Walk the org tree through the API: ["C01", "S0101"] → that unit's id."""
    headers = {"Authorization": f"Bearer {token}"}
    me = requests.get(f"{base_url}/api/v1/me", headers=headers, timeout=10).json()
    current = min(me["roles"], key=lambda r: r["unit_id"])["unit_id"]
    for code in code_path:
        children = requests.get(
            f"{base_url}/api/v1/units/{current}/children", headers=headers, timeout=10
        ).json()
        current = next(child["id"] for child in children if child["code"] == code)
    return current


def create_lecture(base_url: str, token: str, audience: list[dict], **extra: Any) -> int:
    response = requests.post(
        f"{base_url}/api/v1/lectures",
        json={
            "title": extra.pop("title", "禁毒直播课"),
            "starts_at": "2030-03-01T09:00:00+08:00",
            "audience": audience,
            **extra,
        },
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


CSRF_RE = re.compile(r'name="csrf-token" content="([^"]+)"')


def browser_session(base_url: str, username: str) -> requests.Session:
    """A requests session signed in through the login form (a page's cookie)."""
    session = requests.Session()
    page = session.get(f"{base_url}/login", timeout=10).text
    token = CSRF_RE.search(page).group(1)  # type: ignore[union-attr]  # the page always carries a CSRF token; a test fails loudly if not
    response = session.post(
        f"{base_url}/login",
        data={"login": username, "password": PASSWORD, "csrf_token": token},
        allow_redirects=False,
        timeout=30,
    )
    assert response.status_code == 302, response.text[:300]
    return session


def cookie_header(session: requests.Session) -> str:
    return "; ".join(f"{c.name}={c.value}" for c in session.cookies)


@pytest.fixture(scope="session")
def recorder_webm(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """8 s of what MediaRecorder sends: VP8 + Opus WebM without duration or cues (``-live 1``)."""
    path = tmp_path_factory.mktemp("webm") / "recorder.webm"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25",
         "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "8",
         "-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "800k",
         "-c:a", "libopus", "-f", "webm", "-live", "1", str(path)],
        check=True,
        timeout=120,
    )  # fmt: skip
    return path.read_bytes()
