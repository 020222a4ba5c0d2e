"""Benchmarks: ``make bench`` (``python -m bench [NAME...]``) runs every ``bench/bench_*.py``.

Each bench module has ``run() -> list[str]`` (printable lines). Benches make their own throwaway
PostgreSQL databases with the helpers here and never touch the test or development databases.
"""

from __future__ import annotations

import os
import platform
import resource
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg

#: the server benches create their databases on (as the postgres superuser, trust auth)
PG_ADMIN_URL = os.environ.get("ELEARN_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("ELEARN_BENCH_REDIS", "redis://127.0.0.1:6379/14")
REPO = Path(__file__).resolve().parent.parent


def database_url(name: str) -> str:
    """The SQLAlchemy URL of database ``name`` on the bench server."""
    return f"postgresql+psycopg://{urlsplit(PG_ADMIN_URL).netloc}/{name}"


def create_database(prefix: str = "bench") -> str:
    """Create an empty database with a fresh name; returns its name."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name


def drop_database(name: str) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def throwaway_database(prefix: str = "bench") -> Iterator[str]:
    """A fresh database for the ``with`` block, dropped afterwards; yields its URL."""
    name = create_database(prefix)
    try:
        yield database_url(name)
    finally:
        drop_database(name)


def app_env(url: str) -> dict[str, str]:
    """Environment for an app (in this process or a subprocess) bound to database ``url``."""
    return {
        "ELEARN_SECRET_KEY": os.environ.get("ELEARN_BENCH_SECRET") or secrets.token_urlsafe(40),
        "DATABASE_URL": url,
        "REDIS_URL": REDIS_URL,
        "ELEARN_COOKIE_SECURE": "0",
        "ELEARN_LOG_JSON": "0",
    }


def build_app(url: str, config: dict[str, Any] | None = None, *, migrate: bool = True) -> Any:
    """An app bound to database ``url``, migrated to "heads" (Celery eager, in memory)."""
    os.environ.update(app_env(url))
    from elearn.factory import create_app

    app = create_app(
        {
            "CELERY": {"task_always_eager": True, "broker_url": "memory://"},
            "RATELIMIT_KEY_PREFIX": f"elearn-bench-{os.getpid()}",
            **(config or {}),
        }
    )
    app.extensions["celery"].conf.update(task_always_eager=True, broker_url="memory://")
    if migrate:
        with app.app_context():
            from flask_migrate import upgrade

            upgrade(revision="heads")
    return app


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _ram_gb() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GB"
    except OSError:
        pass
    return "unknown"


def _postgres_version() -> str:
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            return str(row[0]) if row else "unknown"
    except psycopg.Error as error:
        return f"unreachable at {PG_ADMIN_URL} ({error.__class__.__name__})"


def machine() -> list[str]:
    """What the figures were measured on."""
    return [
        f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"CPU: {_cpu_model()}, {os.cpu_count()} cores",
        f"RAM: {_ram_gb()}",
        f"Python: {platform.python_version()} ({platform.system()} {platform.release()})",
        f"PostgreSQL: {_postgres_version()}",
        f"load: {load()} (other work on the machine slows every figure)",
    ]


@contextmanager
def cpu_spent(server_session: int) -> Iterator[dict[str, float]]:
    """CPU seconds (user + system) spent during the ``with`` block, by kind, filled in at its end:
    "server" (every process of the server's session), "postgres" (the backends), any other
    process by its command's name, "this process", and "children" (this process's children that
    ended within the block: a load generator run with ``subprocess.run``). A process started in
    the block counts whole; one that ended in it, other than a child, is missed. Per-process
    figures come from Linux's ``/proc`` (none elsewhere)."""
    spent: dict[str, float] = {}
    before = _process_cpu(server_session)
    usage_before = {name: resource.getrusage(who) for name, who in _RUSAGE.items()}
    yield spent
    for pid, (kind, seconds) in _process_cpu(server_session).items():
        start = before.get(pid)
        used = seconds - start[1] if start is not None and start[0] == kind else seconds
        spent[kind] = spent.get(kind, 0.0) + used
    for name, who in _RUSAGE.items():
        usage, start_usage = resource.getrusage(who), usage_before[name]
        spent[name] = usage.ru_utime + usage.ru_stime - start_usage.ru_utime - start_usage.ru_stime


_RUSAGE = {"this process": resource.RUSAGE_SELF, "children": resource.RUSAGE_CHILDREN}


def _process_cpu(server_session: int) -> dict[int, tuple[str, float]]:
    """Each process's kind (as ``cpu_spent`` names them) and CPU seconds so far, by pid."""
    found: dict[int, tuple[str, float]] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone since listed
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        session, seconds = int(fields[3]), (int(fields[11]) + int(fields[12])) / tick
        kind = "server" if session == server_session else name
        found[int(entry.name)] = ("postgres" if kind.startswith("postgres") else kind, seconds)
    return found


def load() -> str:
    """The 1, 5 and 15 minute load averages."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f} {five:.1f} {fifteen:.1f}"
