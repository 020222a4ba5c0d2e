"""Socket.IO tests run against real servers: the e2e harness's `flask elearn serve` subprocess
(PostgreSQL, its own Redis database as the message queue), and for scale-out a second one on the
same database and Redis.
"""

from __future__ import annotations

import re
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio

from tests.conftest import free_port
from tests.e2e import conftest as e2e
from tests.e2e.conftest import BIN, START_TIMEOUT, _start, _stop, _tail

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

NAMESPACE = "/live"
PASSWORD = "demo1234"
WAIT = 30.0  # patience on a busy machine; no test measures time


@pytest.fixture(scope="session")
def second_live_url(live_url: str, e2e_env: dict[str, str], e2e_artifacts: Path) -> Iterator[str]:
    """A second server process on the same database and the same Redis (message queue)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = e2e_artifacts / "server-2.log"
    log.write_text("")
    argv = [str(BIN / "flask"), "--app", "app", "elearn", "serve"]
    server = _start([*argv, "--host", "127.0.0.1", "--port", str(port)], e2e_env, log)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if server.poll() is not None:
                pytest.fail(f"the second server exited:\n{_tail(log, 60)}", pytrace=False)
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the second server did not start:\n{_tail(log, 60)}", pytrace=False)
            time.sleep(0.2)
        yield url
    finally:
        _stop(server)


@pytest.fixture(scope="session")
def gevent_live_url(live_url: str, e2e_env: dict[str, str], e2e_artifacts: Path) -> Iterator[str]:
    """The production web process beside the e2e server: gunicorn with the gevent websocket
    worker (deploy/gunicorn.conf.py), on the same database and Redis."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = e2e_artifacts / "server-gevent.log"
    log.write_text("")
    env = {**e2e_env, "PORT": str(port), "ELEARN_ASYNC_MODE": "gevent"}
    server = _start([str(BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py"], env, log)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if server.poll() is not None:
                pytest.fail(f"gunicorn exited:\n{_tail(log, 60)}", pytrace=False)
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not start:\n{_tail(log, 60)}", pytrace=False)
            time.sleep(0.2)
        yield url
    finally:
        _stop(server)


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
def peers() -> Iterator[Callable[[str], Peer]]:
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
    token = CSRF_RE.search(page).group(1)  # type: ignore[union-attr]
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
