"""Browser tests: a real server in a subprocess (as production runs a web process: gunicorn with the
gevent WebSocket worker, `deploy/gunicorn.conf.py`, on PostgreSQL and Redis), an opt-in Celery
worker beside it, and headless Chromium driven by Playwright.

Fixtures for feature tests:

- ``live_url``: base URL of the server (migrated to heads, seeded with ``elearn seed --scale demo``);
- ``e2e_worker``: opt-in, a Celery worker (queues ``celery`` and ``media``) on the server's broker;
- ``browser`` (session), ``new_page(viewport=...)`` (a fresh context each: its own cookies); a
  test whose pages break the Content-Security-Policy fails (``csp_violations``);
- ``sign_in(page, username)``: signs in through the real login form;
- ``shot(page, name)``: a full-page screenshot in ``test-artifacts/e2e/<test>-<name>.png``.

Each run gets its own database and its own Redis database number (1–14, claimed with a key), so
runs of several developers on one machine don't cross. The server's and worker's logs are written
to ``test-artifacts/e2e/<name>-<pid>.log`` and their tails are attached to the report of a failing
test.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis as redis_lib

from tests.conftest import (
    REDIS_URL,
    _require_services,
    app_env,
    create_database,
    drop_database,
    free_port,
)

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
BIN = Path(sys.executable).parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--autoplay-policy=no-user-gesture-required",
    # a fake camera and microphone, allowed without a prompt (the lecturer's page needs them)
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
DEMO_PASSWORD = "demo1234"
CLAIM_KEY = "elearn-e2e:claim"
START_TIMEOUT = 40.0
#: how long a page's waits last unless a test says otherwise (milliseconds)
WAIT_MS = 10_000

#: log files of the processes this run started; their tails go into failing tests' reports
_LOGS: list[Path] = []


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]):
    outcome = yield
    report = outcome.get_result()
    if report.failed and {"live_url", "e2e_worker"} & set(getattr(item, "fixturenames", ())):
        for path in _LOGS:
            report.sections.append((f"log {path.name} (last 80 lines)", _tail(path, 80)))


def _tail(path: Path, lines: int) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as error:
        return f"(cannot read {path}: {error})"
    return "\n".join(text.splitlines()[-lines:]) or "(empty)"


def _run_step(argv: list[str], env: dict[str, str], log: Path) -> None:
    """Run one set-up command (migrate, seed) to completion; fail with its output if it fails."""
    with log.open("ab") as out:
        out.write(f"$ {' '.join(argv)}\n".encode())
        out.flush()
        result = subprocess.run(
            argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=300
        )
    if result.returncode != 0:
        pytest.fail(
            f"`{' '.join(argv)}` exited with {result.returncode}:\n{_tail(log, 60)}", pytrace=False
        )


def _start(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    out = log.open("ab")
    try:
        # its own process group, so stopping it also stops anything it forked
        return subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    finally:
        out.close()


def _stop(process: subprocess.Popen[bytes], grace: float = 8.0) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
    except ProcessLookupError:
        pass


def _claim_redis_db() -> tuple[int, redis_lib.Redis]:
    """A Redis database number no other run is using: claimed with a key that expires."""
    numbers = list(range(1, 15))
    random.shuffle(numbers)
    for number in numbers:
        client = redis_lib.Redis.from_url(_redis_url(number), socket_timeout=3)
        if client.set(CLAIM_KEY, os.getpid(), nx=True, ex=3 * 3600):
            for key in client.scan_iter(count=500):  # leftovers of a run that crashed
                if key != CLAIM_KEY.encode():
                    client.delete(key)
            return number, client
        client.close()
    pytest.fail("every Redis database 1–14 is claimed by another e2e run", pytrace=False)


def _redis_url(number: int) -> str:
    base = REDIS_URL.rsplit("/", 1)[0] if re.search(r"/\d+$", REDIS_URL) else REDIS_URL
    return f"{base}/{number}"


@pytest.fixture(scope="session")
def e2e_artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    stale = time.time() - 24 * 3600
    for old in ARTIFACTS.glob("*.log"):  # logs of earlier runs (each run names its own)
        if old.stat().st_mtime < stale:
            old.unlink(missing_ok=True)
    return ARTIFACTS


def _log_file(folder: Path, name: str) -> Path:
    """test-artifacts/e2e/<name>-<pid>.log: runs that overlap keep their logs apart."""
    path = folder / f"{name}-{os.getpid()}.log"
    path.write_text("")
    return path


# Other test folders re-export these fixtures in their conftest.py (``live_url = e2e.live_url``);
# pytest then holds one session instance per folder. The resources behind them exist once per
# process, counted by users, so every folder shares one database, server, worker and Chromium
# (two Playwright instances can't even run in one thread).
_SHARED: dict[str, list[Any]] = {}  # key -> [value, users, ExitStack]


@contextlib.contextmanager
def _shared(key: str, open_: Callable[[], contextlib.AbstractContextManager[Any]]) -> Iterator[Any]:
    if key not in _SHARED:
        stack = contextlib.ExitStack()
        with contextlib.ExitStack() as guard:
            guard.push(stack)  # closes what was opened if opening fails
            value = stack.enter_context(open_())
            guard.pop_all()
        _SHARED[key] = [value, 0, stack]
    entry = _SHARED[key]
    entry[1] += 1
    try:
        yield entry[0]
    finally:
        entry[1] -= 1
        if entry[1] == 0:
            del _SHARED[key]
            entry[2].close()


@contextlib.contextmanager
def _own_redis_db() -> Iterator[str]:
    _require_services()
    number, client = _claim_redis_db()
    try:
        yield _redis_url(number)
    finally:
        client.flushdb()
        client.close()


@contextlib.contextmanager
def _seeded_environment(
    redis_url: str, artifacts: Path, media_dir: Path, name: str | None = None
) -> Iterator[dict[str, str]]:
    """The demo installation in a database of its own (``name``, or this run's e2e database)
    with Redis at ``redis_url`` as its broker; yields the apps' environment."""
    name = name or f"elearn_e2e_{os.getpid()}"
    database_url = create_database(name)
    env = {
        **os.environ,
        **app_env(database_url),
        "REDIS_URL": redis_url,
        "ELEARN_BROKER_URL": redis_url,
        "ELEARN_MEDIA_DIR": str(media_dir),
        # the CLI steps and the Celery worker emit through the Redis queue without gevent's
        # patching; the web processes set gevent for themselves (deploy/wsgi.py, web_process)
        "ELEARN_ASYNC_MODE": "threading",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("ELEARN_DEMO", None)
    log = _log_file(artifacts, "setup")
    try:
        _run_step([str(BIN / "flask"), "--app", "app", "db", "upgrade", "heads"], env, log)
        _run_step(
            [str(BIN / "flask"), "--app", "app", "elearn", "seed", "--scale", "demo"], env, log
        )
        yield env
    finally:
        drop_database(name)


GUNICORN = [str(BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py"]
#: `flask elearn serve`: the Werkzeug threading server the CLI still offers (not for production)
WERKZEUG = [str(BIN / "flask"), "--app", "app", "elearn", "serve", "--host", "127.0.0.1"]


@contextlib.contextmanager
def web_process(
    env: dict[str, str], artifacts: Path, name: str, argv: list[str] = GUNICORN
) -> Iterator[str]:
    """A web process on a free port (gunicorn + gevent unless ``argv`` says otherwise), up once
    it answers /healthz; its log's tail goes into failing tests' reports. Yields its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = _log_file(artifacts, name)
    if argv is GUNICORN:
        env = {**env, "ELEARN_BIND": f"127.0.0.1:{port}", "ELEARN_ASYNC_MODE": "gevent"}
    else:
        argv = [*argv, "--port", str(port)]
    server = _start(argv, env, log)
    _LOGS.append(log)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if server.poll() is not None:
                pytest.fail(
                    f"the {name} process exited with {server.returncode}:\n{_tail(log, 60)}",
                    pytrace=False,
                )
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"the {name} process did not answer /healthz within {START_TIMEOUT:.0f} s:\n"
                    + _tail(log, 60),
                    pytrace=False,
                )
            time.sleep(0.2)
        yield url
    finally:
        _stop(server)
        _LOGS.remove(log)


@contextlib.contextmanager
def _worker(env: dict[str, str], artifacts: Path) -> Iterator[subprocess.Popen[bytes]]:
    from celery import Celery

    log = _log_file(artifacts, "worker")
    node = f"e2e-{os.getpid()}@%h"
    argv = [str(BIN / "celery"), "-A", "app.celery_app", "worker", "-Q", "celery,media"]
    worker = _start(
        [*argv, "--pool=solo", "-l", "warning", "-n", node, "--without-gossip", "--without-mingle"],
        env,
        log,
    )
    _LOGS.append(log)
    probe = Celery(broker=env["ELEARN_BROKER_URL"], set_as_current=False)  # never the tests' app
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not probe.control.ping(timeout=1.0):
            if worker.poll() is not None:
                pytest.fail(
                    f"the Celery worker exited with {worker.returncode}:\n{_tail(log, 60)}",
                    pytrace=False,
                )
            if time.monotonic() > deadline:
                pytest.fail(
                    f"the Celery worker did not answer within {START_TIMEOUT:.0f} s:\n"
                    + _tail(log, 60),
                    pytrace=False,
                )
        yield worker
    finally:
        probe.close()
        _stop(worker, grace=15.0)
        _LOGS.remove(log)


@contextlib.contextmanager
def _chromium() -> Iterator[Any]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's chromium package "
            "(run `bash scripts/system-deps.sh`, which `make test` does).",
            pytrace=False,
        )
    fonts = subprocess.run(
        ["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=False
    )
    if not fonts.stdout.strip():
        pytest.fail(
            "no Chinese font is installed, so screenshots would show boxes instead of text "
            "(run `bash scripts/system-deps.sh`, which `make test` does).",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def e2e_redis_url() -> Iterator[str]:
    """redis://…/<n>: this run's own Redis database, emptied at the start and at the end."""
    with _shared("redis", _own_redis_db) as url:
        yield url


@pytest.fixture(scope="session")
def e2e_env(
    e2e_redis_url: str, e2e_artifacts: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    """The environment of the server and worker, over a fresh database migrated and seeded."""

    def open_() -> contextlib.AbstractContextManager[dict[str, str]]:
        media = tmp_path_factory.mktemp("e2e-media")
        return _seeded_environment(e2e_redis_url, e2e_artifacts, media)

    with _shared("env", open_) as env:
        yield env


@pytest.fixture(scope="session")
def live_url(e2e_env: dict[str, str], e2e_artifacts: Path) -> Iterator[str]:
    """http://127.0.0.1:<port> of `flask elearn serve` running in a subprocess."""
    with _shared("server", lambda: web_process(e2e_env, e2e_artifacts, "server")) as url:
        yield url


@pytest.fixture(scope="session")
def second_live_url(live_url: str, e2e_env: dict[str, str], e2e_artifacts: Path) -> Iterator[str]:
    """A second web process on the same database and the same Redis (message queue): rooms
    shared across processes (/live, /messages); one for the whole run, whichever suite asks."""
    with _shared("server-2", lambda: web_process(e2e_env, e2e_artifacts, "server-2")) as url:
        yield url


@pytest.fixture(scope="session")
def e2e_worker(
    live_url: str, e2e_env: dict[str, str], e2e_artifacts: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """A Celery worker (queues celery and media) on the server's broker, answering a ping."""
    with _shared("worker", lambda: _worker(e2e_env, e2e_artifacts)) as worker:
        yield worker


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, through Playwright; a missing Chromium fails the test."""
    with _shared("browser", _chromium) as chromium:
        yield chromium


#: each page reports what the Content-Security-Policy refused (the browser fires the event; the
#: init script runs outside the page's policy) as a console message the harness listens for
CSP_REPORTER = """
document.addEventListener("securitypolicyviolation", function (event) {
  console.error("CSP violation: " + event.effectiveDirective + " refused "
    + (event.blockedURI || "inline") + " at " + event.sourceFile + ":" + event.lineNumber
    + (event.sample ? " (" + event.sample + ")" : ""));
}, true);
"""


def _is_csp_message(message: Any) -> bool:
    text = message.text
    return message.type in {"error", "warning"} and (
        text.startswith("CSP violation:")
        or "Content Security Policy" in text
        or "Content-Security-Policy" in text
    )


def _polled_from_here(page: Any) -> Callable[..., Any]:
    """``page.wait_for_function`` that works under the policy. Playwright's polls its predicate
    with ``eval()`` in the page's own timers, which a policy without ``'unsafe-eval'`` refuses
    (after a first check that passes); ``page.evaluate`` is the DevTools protocol's own and
    allowed: the same wait, asked from here."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    def wait_for_function(
        expression: str, *, arg: Any = None, timeout: float | None = None, polling: Any = None
    ) -> Any:
        limit = (timeout if timeout is not None else WAIT_MS) / 1000
        deadline = time.monotonic() + limit if limit else None
        while True:
            try:
                value = page.evaluate(expression, arg)
            except PlaywrightError as error:  # a navigation replaced the page: ask the new one
                if "context was destroyed" not in str(error) and "navigat" not in str(error):
                    raise
                value = None
            if value:
                return value
            if deadline is not None and time.monotonic() > deadline:
                raise PlaywrightTimeout(f"wait_for_function: {expression!r} stayed false")
            page.wait_for_timeout(polling if isinstance(polling, int | float) else 100)

    return wait_for_function


@pytest.fixture
def csp_violations() -> Iterator[list[str]]:
    """What the policy refused on this test's pages (``new_page``'s); any left fails the test.
    A test that provokes a violation on purpose clears the list after checking it."""
    violations: list[str] = []
    yield violations
    if violations:
        pytest.fail(
            "the Content-Security-Policy refused something on a page (an inline script or "
            "style, a handler attribute, a source the policy does not name):\n"
            + "\n".join(dict.fromkeys(violations)),
            pytrace=False,
        )


@pytest.fixture
def new_page(
    browser: Any, live_url: str, csp_violations: list[str]
) -> Iterator[Callable[..., Any]]:
    """``new_page(viewport=PHONE)`` → a page in its own browser context (own cookies)."""
    contexts: list[Any] = []

    def make(viewport: dict[str, int] | None = None, **options: Any) -> Any:
        context = browser.new_context(
            base_url=live_url,
            viewport=viewport or DESKTOP,
            is_mobile=bool(viewport and viewport["width"] < 720),
            has_touch=bool(viewport and viewport["width"] < 720),
            **{"locale": "zh-CN", "timezone_id": "Asia/Shanghai", **options},
        )
        context.set_default_timeout(WAIT_MS)
        context.add_init_script(CSP_REPORTER)
        context.on(
            "console",
            lambda message: _is_csp_message(message) and csp_violations.append(message.text),
        )
        contexts.append(context)
        page = context.new_page()
        page.wait_for_function = _polled_from_here(page)
        return page

    yield make
    for context in contexts:
        context.close()


def assert_fits(page: Any, viewport: dict[str, int] = PHONE) -> None:
    """No horizontal scrolling: nothing on the page is wider than the screen."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"], f"page is {width}px wide at {viewport['width']}px"


def sign_in(page: Any, username: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the real login form; leaves the page on wherever the app redirects."""
    page.goto("/login")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("form button[type=submit]")


@pytest.fixture
def shot(request: pytest.FixtureRequest, e2e_artifacts: Path) -> Callable[[Any, str], Path]:
    """``shot(page, "home")`` → test-artifacts/e2e/<test>-home.png, the whole page."""
    test = re.sub(r"[^\w.-]+", "_", request.node.name).strip("_")

    def take(page: Any, name: str) -> Path:
        path = e2e_artifacts / f"{test}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
