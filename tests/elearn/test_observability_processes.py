"""Metrics and request ids across real processes, as production runs them.

A gunicorn process with two workers (``deploy/gunicorn.conf.py``) and a Celery worker with a
prefork pool, both logging JSON lines, on the e2e harness's seeded database and a Redis database
of their own as the broker (so no other worker of the run takes their tasks):
- a request's id reaches the log lines of the task it queued, on the worker;
- ``/metrics`` adds up both gunicorn workers (whichever answers) and keeps a killed worker's
  counts; the sockets on ``/live`` are counted while they are open;
- the worker's own metrics port shows the task its pool ran, to the scraper only.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests
import socketio
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import free_port
from tests.e2e import conftest as e2e
from tests.elearn.test_rosters import csv_bytes

e2e_artifacts = e2e.e2e_artifacts
e2e_redis_url = e2e.e2e_redis_url
e2e_env = e2e.e2e_env

WAIT = 60.0  # patience on a busy machine; nothing here measures time


@dataclass
class Stack:
    url: str
    worker_metrics: str
    worker_log: Path
    web_dir: Path
    database_url: str


@contextlib.contextmanager
def _own_broker() -> Iterator[str]:
    number, client = e2e._claim_redis_db()
    try:
        yield e2e._redis_url(number)
    finally:
        client.flushdb()
        client.close()


@pytest.fixture(scope="module")
def stack(e2e_env: dict[str, str], e2e_artifacts: Path, tmp_path_factory) -> Iterator[Stack]:
    web_dir = tmp_path_factory.mktemp("web-metrics")
    worker_dir = tmp_path_factory.mktemp("worker-metrics")
    worker_port = free_port()
    with _own_broker() as broker:
        env = {**e2e_env, "ELEARN_BROKER_URL": broker, "ELEARN_LOG_JSON": "1"}
        web_env = {**env, "ELEARN_WEB_WORKERS": "2", "PROMETHEUS_MULTIPROC_DIR": str(web_dir)}
        worker_env = {
            **env,
            "PROMETHEUS_MULTIPROC_DIR": str(worker_dir),
            "ELEARN_WORKER_METRICS_BIND": f"127.0.0.1:{worker_port}",
        }
        log = e2e._log_file(e2e_artifacts, "observed-worker")
        argv = [str(e2e.BIN / "celery"), "-A", "app.celery_app", "worker", "-Q", "celery,media"]
        worker = e2e._start(
            [*argv, "--concurrency", "1", "-l", "info", "-n", f"observed-{os.getpid()}@%h",
             "--without-gossip", "--without-mingle"],
            worker_env,
            log,
        )  # fmt: skip
        try:
            metrics_url = f"http://127.0.0.1:{worker_port}/metrics"
            _wait_for(lambda: _get(metrics_url) is not None, worker, log)
            with e2e.web_process(web_env, e2e_artifacts, "observed-web") as url:
                yield Stack(url, metrics_url, log, web_dir, env["DATABASE_URL"])
        finally:
            e2e._stop(worker, grace=15.0)


def _get(url: str, headers: dict[str, str] | None = None) -> str | None:
    try:
        request = urllib.request.Request(url, headers=headers or {})
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.read().decode()
    except OSError:
        return None


def _wait_for(ready: Any, process: Any = None, log: Path | None = None) -> None:
    deadline = time.monotonic() + WAIT
    while not ready():
        if process is not None and process.poll() is not None:
            pytest.fail(f"exited with {process.returncode}:\n{e2e._tail(log, 60)}", pytrace=False)
        if time.monotonic() > deadline:
            pytest.fail("not there in time" + (f":\n{e2e._tail(log, 60)}" if log else ""))
        time.sleep(0.2)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def healthz_count(url: str) -> float:
    text = _get(f"{url}/metrics")
    assert text is not None
    key = (
        "elearn_http_requests_total",
        (("endpoint", "ops.healthz"), ("method", "GET"), ("status", "200")),
    )
    return samples(text).get(key, 0.0)


def _pids_counted(folder: Path) -> set[int]:
    return {int(p.stem.rsplit("_", 1)[1]) for p in folder.glob("counter_*.db")}


def _token(url: str, username: str) -> str:
    response = requests.post(
        f"{url}/api/v1/auth/token", json={"username": username, "password": "demo1234"}, timeout=30
    )
    assert response.status_code == 200, response.text
    return response.json()["token"]


def _school_id(database_url: str, code: str) -> int:
    with psycopg.connect(database_url.replace("+psycopg", "")) as connection:
        row = connection.execute("SELECT id FROM units WHERE code = %s", (code,)).fetchone()
    assert row is not None
    return row[0]


def test_a_request_id_reaches_the_worker_and_the_worker_reports_the_task_to_the_scraper(stack):
    """The roster upload queues its import on the worker: the task's log lines there carry the
    request's id, and the worker's metrics port shows the task its pool's process ran."""
    token = _token(stack.url, "school_admin")
    request_id = f"across-processes-{os.getpid()}"
    # a roster the job refuses (an unknown role): the task runs, nothing is imported
    data = csv_bytes([["", "五年级", "1班", "校长", "H1", "某", "", "", ""]])
    response = requests.post(
        f"{stack.url}/api/v1/rosters",
        files={"file": ("roster.csv", io.BytesIO(data))},
        data={"unit": str(_school_id(stack.database_url, "S0101"))},
        headers={"Authorization": f"Bearer {token}", "X-Request-ID": request_id},
        timeout=30,
    )
    assert response.status_code == 202, response.text
    assert response.headers["X-Request-ID"] == request_id
    job = response.json()["job_id"]

    def finished() -> bool:
        state = requests.get(
            f"{stack.url}/api/v1/jobs/{job}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        ).json()
        return state["status"] in {"done", "failed"}

    _wait_for(finished)
    lines = []
    for raw in stack.worker_log.read_text(errors="replace").splitlines():
        with contextlib.suppress(ValueError):
            lines.append(json.loads(raw))
    of_request = [line for line in lines if line.get("request_id") == request_id]
    assert any(
        "elearn.import_roster" in line["message"] and "succeeded" in line["message"]
        for line in of_request
    ), e2e._tail(stack.worker_log, 40)
    assert all(line["message"] for line in of_request)

    # the task ran in the pool's child process; the worker's main process reports it
    found = samples(_get(stack.worker_metrics) or "")
    ran = (
        "elearn_task_duration_seconds_count",
        (("state", "SUCCESS"), ("task", "elearn.import_roster")),
    )
    assert found.get(ran) == 1.0, found
    assert found.get(("elearn_media_transcodes_in_flight", ())) == 0.0
    assert _get(stack.worker_metrics, {"X-Forwarded-For": "198.51.100.7"}) is None  # 403


def test_metrics_add_up_every_gunicorn_worker_and_keep_a_killed_ones_counts(stack):
    before = healthz_count(stack.url)
    sent = 0
    # each request on its own connection: the kernel hands each to either worker
    while sent < 400 and (sent < 40 or len(_pids_counted(stack.web_dir)) < 2):
        assert _get(f"{stack.url}/healthz") is not None
        sent += 1
    counted = _pids_counted(stack.web_dir)
    assert len(counted) >= 2, "one worker took every connection"
    # whichever worker answers the scrape reports the requests of both
    for _ in range(6):
        assert healthz_count(stack.url) - before == sent
    victim = next(pid for pid in counted if _parent(pid) is not None)
    master = _parent(victim)
    os.kill(victim, signal.SIGKILL)
    _wait_for(lambda: victim not in _children(master) and len(_children(master)) == 2)
    assert healthz_count(stack.url) - before == sent


def _parent(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def _children(ppid: int | None) -> set[int]:
    return {
        int(entry.name)
        for entry in Path("/proc").iterdir()
        if entry.name.isdigit() and _parent(int(entry.name)) == ppid
    }


def test_sockets_on_live_are_counted_while_open(stack):
    token = _token(stack.url, "student1")
    key = ("elearn_live_sockets", ())

    def sockets() -> float:
        text = _get(f"{stack.url}/metrics")
        return samples(text or "").get(key, -1.0)

    start = sockets()
    clients = []
    try:
        for _ in range(3):
            client = socketio.Client(reconnection=False)
            client.connect(
                stack.url,
                namespaces=["/live"],
                auth={"token": token},
                transports=["websocket"],
                wait_timeout=WAIT,
            )
            clients.append(client)
        _wait_for(lambda: sockets() == start + 3)
    finally:
        for client in clients:
            client.disconnect()
    _wait_for(lambda: sockets() == start)


def test_a_gunicorn_killed_before_its_exit_hook_leaves_no_folder_behind_for_long(
    e2e_env, e2e_artifacts
):
    """deploy/gunicorn.conf.py makes a temporary metrics folder per process and removes it on
    exit; one killed outright (SIGKILL) leaves it, and the next gunicorn to start sweeps it once
    it is an hour old and no process of it runs."""
    import tempfile

    abandoned = Path(tempfile.mkdtemp(prefix="elearn-metrics-"))
    (abandoned / "counter_999999999.db").write_bytes(b"\0" * 64)
    recent = Path(tempfile.mkdtemp(prefix="elearn-metrics-"))
    (recent / "counter_999999999.db").write_bytes(b"\0" * 64)
    running = Path(tempfile.mkdtemp(prefix="elearn-metrics-"))
    (running / f"counter_{os.getpid()}.db").write_bytes(b"\0" * 64)
    hour_ago = time.time() - 2 * 3600
    for folder in (abandoned, running):
        os.utime(folder, (hour_ago, hour_ago))
    env = {key: value for key, value in e2e_env.items() if key != "PROMETHEUS_MULTIPROC_DIR"}
    try:
        with e2e.web_process(env, e2e_artifacts, "sweeping"):
            assert not abandoned.exists()
            assert recent.exists() and running.exists()
    finally:
        for folder in (abandoned, recent, running):
            shutil.rmtree(folder, ignore_errors=True)
