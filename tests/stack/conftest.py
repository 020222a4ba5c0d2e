"""The stack suite: the production process model on this machine, started as ``make serve``
starts it (``deploy/stack.py``: nginx in front of two Socket.IO processes, a two-worker API
process, a Celery worker and beat) but on a throwaway database, its own Redis database and free
ports, and tested through nginx.

Fixtures:

- ``stack`` (session): the running ``deploy.stack.Stack``; ``stack.url`` is nginx;
- ``token(username)``: an API token of a demo user, asked through nginx;
- ``access_log(stack)``: nginx's access log as records (which upstream answered each request).

The processes' logs are in ``test-artifacts/stack/run-<pid>/logs/``; their tails are attached to
the report of a failing test. A missing nginx fails the suite with how to install it.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from deploy import nginx
from deploy.stack import Ports, Stack, StackError
from tests import demo_api
from tests.conftest import app_env, create_database, drop_database, free_port
from tests.e2e import conftest as e2e

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "stack"
#: the running stack, for the failure reports
_RUNNING: list[Stack] = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]):
    outcome = yield
    report = outcome.get_result()
    if report.failed and _RUNNING and "stack" in getattr(item, "fixturenames", ()):
        stack = _RUNNING[-1]
        for process in stack.processes:
            report.sections.append((f"log {process.log.name} (last 40 lines)", process.tail(40)))
        error_log = stack.nginx_dir / "error.log"
        if error_log.exists():
            tail = "\n".join(error_log.read_text(errors="replace").splitlines()[-20:])
            report.sections.append(("nginx error.log (last 20 lines)", tail or "(empty)"))


def _run_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    stale = time.time() - 24 * 3600
    for old in ARTIFACTS.glob("run-*"):  # folders of earlier runs (each run names its own)
        if old.stat().st_mtime < stale:
            shutil.rmtree(old, ignore_errors=True)
    folder = ARTIFACTS / f"run-{os.getpid()}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


@contextlib.contextmanager
def running_stack(
    run_dir: Path,
    media: Path,
    *,
    name: str,
    extra_env: dict[str, str] | None = None,
    **options: Any,
) -> Iterator[Stack]:
    """The demo migrated and seeded into database ``name`` (dropped after), a Redis database of
    its own, and the stack on free ports in front of them (``options`` go to ``Stack``)."""
    with e2e._own_redis_db() as redis_url:
        database_url = create_database(name)
        try:
            env = {
                **os.environ,
                **app_env(database_url),
                "REDIS_URL": redis_url,
                "ELEARN_BROKER_URL": redis_url,
                "ELEARN_MEDIA_DIR": str(media),
                "ELEARN_COMMIT": "stacktest",
                # the CLI steps below emit through the Redis queue without gevent's patching
                "ELEARN_ASYNC_MODE": "threading",
                **(extra_env or {}),
            }
            env.pop("ELEARN_DEMO", None)
            setup_log = run_dir / "setup.log"
            flask = [str(e2e.BIN / "flask"), "--app", "app"]
            e2e._run_step([*flask, "db", "upgrade", "heads"], env, setup_log)
            e2e._run_step([*flask, "elearn", "seed", "--scale", "demo"], env, setup_log)
            free: set[int] = set()
            while len(free) < 4:  # four different ones
                free.add(free_port())
            nginx_port, web_1, web_2, api_port = sorted(free)
            ports = Ports(nginx=nginx_port, web=(web_1, web_2), api=api_port)
            running = Stack(env=env, run_dir=run_dir, ports=ports, **options)
            try:
                running.start()
            except StackError as error:
                running.stop()
                pytest.fail(f"the stack did not start: {error}", pytrace=False)
            except BaseException:
                running.stop()
                raise
            try:
                yield running
            finally:
                running.stop()
        finally:
            drop_database(name)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The whole stack, up: every gunicorn process and nginx answering /healthz."""
    try:
        nginx.binary()
    except nginx.NginxMissing as error:
        pytest.fail(str(error), pytrace=False)
    media = tmp_path_factory.mktemp("stack-media")
    with running_stack(
        _run_dir(),
        media,
        name=f"elearn_stack_{os.getpid()}",
        api_workers=2,
        worker_concurrency=1,
    ) as running:
        _RUNNING.append(running)
        try:
            yield running
        finally:
            _RUNNING.remove(running)


_TOKENS: dict[tuple[str, str], str] = {}


@pytest.fixture
def token(stack: Stack) -> Callable[[str], str]:
    """``token("student1")`` → an API token for that demo user, asked through nginx."""

    def get(username: str) -> str:
        key = (stack.url, username)
        if key not in _TOKENS:
            _TOKENS[key] = demo_api.token(stack.url, username)
        return _TOKENS[key]

    return get


@dataclass(frozen=True)
class Logged:
    """One line of nginx's access log (``log_format elearn``, deploy/nginx/nginx.conf.j2)."""

    method: str
    uri: str
    status: int
    #: the upstream ports that answered (more than one when nginx tried the next)
    upstream_ports: tuple[int, ...]


#: nginx writes its buffered access log at least this often (deploy/nginx/nginx.conf.j2)
LOG_FLUSH_SECONDS = 1.0

LINE = re.compile(
    r'"(?P<method>[A-Z]+) (?P<uri>\S+) [^"]*" (?P<status>\d{3}) .* upstream=(?P<up>.+?) ut='
)


def access_log(stack: Stack) -> list[Logged]:
    records = []
    for line in (stack.nginx_dir / "access.log").read_text(errors="replace").splitlines():
        match = LINE.search(line)
        if match is None:
            continue
        ports = tuple(
            int(part.rsplit(":", 1)[1])
            for part in re.split(r"[,:] ", match["up"])
            if part.startswith("127.0.0.1:")
        )
        records.append(Logged(match["method"], match["uri"], int(match["status"]), ports))
    return records


def served_by(
    stack: Stack,
    fragment: str,
    *,
    status: int | None = None,
    wait: float = 10.0,
    at_least: int = 1,
) -> list[Logged]:
    """The logged requests whose URI contains ``fragment``, once there are ``at_least`` (one with
    ``status``, if given): nginx writes a line when the request is over (a moment after the
    client has its answer), a websocket's when it closes.

    Each nginx worker buffers its lines for up to a second (``access_log … flush=1s``): once they
    are there, others of the same moment may still sit in another worker's buffer, so the log
    is read again after that second."""
    deadline = time.monotonic() + wait
    while True:
        found = [record for record in access_log(stack) if fragment in record.uri]
        done = len(found) >= at_least and (
            status is None or status in {record.status for record in found}
        )
        if done:
            time.sleep(LOG_FLUSH_SECONDS + 0.3)
            return [record for record in access_log(stack) if fragment in record.uri]
        if time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def parent_pid(pid: int) -> int:
    """The parent of a process (a gunicorn worker's is its master)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[1])


def landing_port(stack: Stack, cookie: str) -> int:
    """The web process nginx sends a browser with this elearn_node cookie to (from its log)."""
    marker = uuid.uuid4().hex
    response = requests.get(
        f"{stack.url}/socket.io/?EIO=4&transport=polling&probe={marker}",
        headers={"Cookie": f"elearn_node={cookie}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    [logged] = served_by(stack, marker)
    [port] = logged.upstream_ports
    return port


def cookies_per_process(stack: Stack) -> dict[int, str]:
    """An elearn_node cookie that lands on each web process, by the process's port."""
    found: dict[int, str] = {}
    for number in range(40):
        cookie = f"{number:032x}"
        found.setdefault(landing_port(stack, cookie), cookie)
        if len(found) == len(stack.ports.web):
            return found
    raise AssertionError(f"40 cookies all hashed to {set(found)}")
