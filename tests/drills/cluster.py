"""What the drills share: a PostgreSQL cluster of their own, and the demo installation on it.

Each drill restarts only what it started: ``initdb`` into a temporary folder and ``pg_ctl`` on a
free port; the machine's shared server is never touched.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.conftest import REDIS_URL, app_env, free_port
from tests.e2e import conftest as e2e

ROOT = Path(__file__).resolve().parents[2]


def pg_bin(name: str) -> str:
    """A PostgreSQL server program: on PATH, or in Debian's versioned folder."""
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(
        Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda p: int(p.parts[-3])
    )
    if not versions:
        pytest.fail(
            f"{name} is missing: the drill needs Debian's postgresql package", pytrace=False
        )
    return str(versions[-1])


def run(argv: list[str], **options) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300, **options)
    if done.returncode != 0:
        pytest.fail(
            f"`{' '.join(map(str, argv))}` exited with {done.returncode}:\n"
            f"{done.stdout[-2000:]}\n{done.stderr[-3000:]}",
            pytrace=False,
        )
    return done


class Cluster:
    """A running cluster of the drill's own: ``url`` is ``postgresql://postgres@host:port``;
    ``stop()`` and ``start()`` take it down and bring it back on the same port and data."""

    def __init__(self, root: Path, as_owner: list[str]) -> None:
        self.data, self.log = root / "data", root / "server.log"
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}"
        self._options = f"-p {self.port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._pg_ctl = [*as_owner, pg_bin("pg_ctl"), "-D", str(self.data)]

    def start(self) -> None:
        run([*self._pg_ctl, "-l", str(self.log), "-o", self._options, "-w", "-t", "120", "start"])

    def stop(self) -> None:
        """A fast shutdown, as a restart or a failover does it: open connections are cut."""
        subprocess.run(
            [*self._pg_ctl, "-m", "fast", "-w", "stop"], capture_output=True, timeout=120
        )


@contextlib.contextmanager
def own_cluster() -> Iterator[Cluster]:
    """A cluster of the drill's own on a free port. initdb and postgres refuse to run as root: as
    root (this machine, CI) they run as the ``postgres`` account, which owns the temporary
    folder."""
    root = Path(tempfile.mkdtemp(prefix="elearn-drill-pg-"))
    as_owner: list[str] = []
    if os.geteuid() == 0:
        account = pwd.getpwnam("postgres")
        os.chown(root, account.pw_uid, account.pw_gid)
        as_owner = ["runuser", "-u", "postgres", "--"]
    cluster = Cluster(root, as_owner)
    run([*as_owner, pg_bin("initdb"), "-D", str(cluster.data), "-U", "postgres", "-A", "trust",
         "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"])  # fmt: skip
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


def demo_installation(cluster: Cluster, database: str, media: Path) -> dict[str, str]:
    """The demo migrated and seeded into ``database`` on ``cluster``; returns the app's
    environment for it (production-like: not demo mode)."""
    with psycopg.connect(f"{cluster.url}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    env = {
        **os.environ,
        **app_env(f"{cluster.url}/{database}"),
        "ELEARN_MEDIA_DIR": str(media),
        "ELEARN_ASYNC_MODE": "threading",
        "REDIS_URL": REDIS_URL,
    }
    env.pop("ELEARN_DEMO", None)
    flask = str(e2e.BIN / "flask")
    run([flask, "--app", "app", "db", "upgrade", "heads"], cwd=ROOT, env=env)
    run([flask, "--app", "app", "elearn", "seed", "--scale", "demo"], cwd=ROOT, env=env)
    return env
