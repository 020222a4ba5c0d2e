"""The production process model on one machine: nginx in front of Socket.IO web processes, an API
process, a Celery worker and beat, on PostgreSQL and Redis.

``make serve`` runs it (``python -m deploy.serve``) and so does the stack suite
(``tests/stack/``), with its own database, Redis database and ports: what the suite checks is
what ``make serve`` starts. Each process runs in its own session, so Ctrl+C reaches this launcher
alone, which stops them in order: nginx first (no new requests), then the web and API processes
(gunicorn finishes the requests in flight), then the worker (a warm shutdown: the task in hand
finishes, or goes back to the queue, since tasks are acknowledged late) and beat.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from deploy import nginx

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
START_TIMEOUT = 60.0
#: where nginx sends the objects of the local-folder backend (deploy/nginx/elearn.conf.j2)
ACCEL_PREFIX = "/_media/"


class StackError(RuntimeError):
    """A process of the stack did not start (the message has the tail of its log)."""


@dataclass(frozen=True)
class Ports:
    nginx: int
    web: tuple[int, ...]
    api: int


@dataclass
class Process:
    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    #: its own port, answering /healthz (gunicorn processes and nginx)
    port: int | None = None
    popen: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def tail(self, lines: int = 40) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError as error:
            return f"(cannot read {self.log}: {error})"
        return "\n".join(text.splitlines()[-lines:]) or "(empty)"


class Stack:
    """``with Stack(env=…, run_dir=…, ports=…) as stack:`` every process up, nginx answering at
    ``stack.url``; all stopped in order on leaving."""

    def __init__(
        self,
        *,
        env: dict[str, str],
        run_dir: Path,
        ports: Ports,
        api_workers: int = 2,
        worker_concurrency: int = 2,
        log_level: str = "info",
        nginx_connections: int | None = None,
    ) -> None:
        self.run_dir = run_dir
        self.ports = ports
        self.log_dir = run_dir / "logs"
        media_root = Path(env["ELEARN_MEDIA_DIR"]).resolve()
        self.nginx_dir = run_dir / "nginx"
        folder = self.nginx_dir
        # nginx checks the HLS segments' signatures itself: the app and nginx share this secret
        segment_secret = env.get("ELEARN_MEDIA_SEGMENT_SECRET") or secrets.token_urlsafe(48)
        nginx.write_segment_secret(folder / "segment-secret.conf", segment_secret)
        self.nginx_conf = nginx.write(
            folder,
            nginx.local_main(folder, worker_connections=nginx_connections),
            nginx.local_site(
                folder,
                port=ports.nginx,
                web_ports=list(ports.web),
                api_ports=[ports.api],
                media_root=media_root,
                segment_secret_file=folder / "segment-secret.conf",
            ),
        )
        base = {
            **env,
            # nginx appends the client's address to X-Forwarded-For; believe that one entry
            "ELEARN_PROXY_HOPS": "1",
            "ELEARN_MEDIA_ACCEL_REDIRECT": ACCEL_PREFIX,
            "ELEARN_MEDIA_SEGMENT_SECRET": segment_secret,
            "PYTHONUNBUFFERED": "1",
        }
        gunicorn = [str(BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py"]
        celery = [str(BIN / "celery"), "-A", "app.celery_app"]
        # the worker and beat emit through the Redis queue without gevent's patching; the
        # gunicorn processes set gevent for themselves (deploy/wsgi.py)
        quiet = {**base, "ELEARN_ASYNC_MODE": "threading"}
        self.processes: list[Process] = []
        for number, port in enumerate(ports.web, start=1):
            self._add(f"web-{number}", gunicorn, _gunicorn_env(base, port, workers=1), port)
        self._add("api", gunicorn, _gunicorn_env(base, ports.api, workers=api_workers), ports.api)
        node = f"stack-{os.getpid()}@%h"
        self._add(
            "worker",
            [*celery, "worker", "-Q", "celery,media", "--concurrency", str(worker_concurrency),
             "-n", node, "--without-gossip", "--without-mingle", f"--loglevel={log_level}"],
            quiet,
        )  # fmt: skip
        self._add(
            "beat",
            [*celery, "beat", "--schedule", str(run_dir / "celerybeat-schedule"),
             "--pidfile", str(run_dir / "celerybeat.pid"), f"--loglevel={log_level}"],
            quiet,
        )  # fmt: skip
        self._add("nginx", nginx.argv(self.nginx_conf, "-g", "daemon off;"), base, ports.nginx)

    def _add(
        self, name: str, argv: list[str], env: dict[str, str], port: int | None = None
    ) -> None:
        log = self.log_dir / f"{name}.log"
        self.processes.append(Process(name, argv, env, log, port))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.ports.nginx}"

    def process(self, name: str) -> Process:
        return next(p for p in self.processes if p.name == name)

    @property
    def web(self) -> list[Process]:
        return [p for p in self.processes if p.name.startswith("web-")]

    def __enter__(self) -> Stack:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        checked = nginx.check(self.nginx_conf)
        if checked.returncode != 0:
            raise StackError(f"nginx -t refused {self.nginx_conf}:\n{checked.stderr}")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for process in self.processes:
            out = process.log.open("ab")
            try:
                process.popen = subprocess.Popen(
                    process.argv,
                    cwd=ROOT,
                    env=process.env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            finally:
                out.close()
        deadline = time.monotonic() + START_TIMEOUT
        for process in self.processes:
            if process.port is not None:
                self._wait_healthy(process, deadline)
        for process in self.processes:
            if not process.alive():
                raise StackError(self.exit_message(process))

    def _wait_healthy(self, process: Process, deadline: float) -> None:
        url = f"http://127.0.0.1:{process.port}/healthz"
        while True:
            if not process.alive():
                raise StackError(self.exit_message(process))
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise StackError(
                    f"the {process.name} process did not answer {url} within "
                    f"{START_TIMEOUT:.0f} s; the last lines of {process.log}:\n{process.tail()}"
                )
            time.sleep(0.2)

    @staticmethod
    def exit_message(process: Process) -> str:
        code = process.popen.returncode if process.popen else None
        return (
            f"the {process.name} process exited with {code}; the last lines of "
            f"{process.log}:\n{process.tail()}"
        )

    def exited(self) -> Process | None:
        """A process that stopped by itself, if any."""
        return next((p for p in self.processes if p.popen and not p.alive()), None)

    def stop(self) -> None:
        """nginx, then the web and API processes, then the worker, then beat."""
        order = [
            (["nginx"], signal.SIGQUIT, 10.0),  # graceful: finishes the requests in flight
            ([p.name for p in self.web] + ["api"], signal.SIGTERM, 15.0),
            (["worker"], signal.SIGTERM, 20.0),  # warm shutdown; a task cut short is requeued
            (["beat"], signal.SIGTERM, 10.0),
        ]
        for names, signum, grace in order:
            group = [p for p in self.processes if p.name in names and p.alive()]
            for process in group:
                _signal(process, signum)
            deadline = time.monotonic() + grace
            for process in group:
                assert process.popen is not None
                try:
                    process.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    _signal(process, signal.SIGKILL)
                    process.popen.wait(timeout=5)


def _signal(process: Process, signum: int) -> None:
    """Signal the process; SIGKILL its whole session (gunicorn's and celery's workers too), while
    its leader still runs (so the group is surely ours)."""
    assert process.popen is not None
    try:
        if signum == signal.SIGKILL:
            os.killpg(process.popen.pid, signum)
        else:
            os.kill(process.popen.pid, signum)  # the master stops its own workers in order
    except ProcessLookupError:
        pass


def _gunicorn_env(base: dict[str, str], port: int, *, workers: int) -> dict[str, str]:
    return {
        **base,
        "ELEARN_BIND": f"127.0.0.1:{port}",
        "ELEARN_WEB_WORKERS": str(workers),
        "ELEARN_ASYNC_MODE": "gevent",
    }
