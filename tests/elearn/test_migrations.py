"""Migrations that change data, run as a deploy runs them (``flask db upgrade``) on a fresh database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg

from tests.conftest import app_env, create_database, drop_database, pg_url

ROOT = Path(__file__).resolve().parents[2]
FLASK = str(Path(sys.executable).parent / "flask")


def _upgrade(env: dict[str, str], revision: str) -> None:
    result = subprocess.run(
        [FLASK, "--app", "app", "db", "upgrade", revision],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]


def test_0003_retires_the_derivable_initial_passwords_of_earlier_imports():
    name = f"elearn_migration_{os.getpid()}"
    url = create_database(name)
    try:
        env = {**os.environ, **app_env(url)}
        _upgrade(env, "0002_notifications")
        plain = pg_url(name).replace("postgresql+psycopg://", "postgresql://")
        derived = "scrypt:256:8:1$salt$0123"  # the old roster import's cheap hash
        chosen = "scrypt:32768:8:1$salt$4567"
        with psycopg.connect(plain, autocommit=True) as conn:
            for username, password_hash, must_change in (
                ("waiting", derived, True),  # never changed the derived password: retired
                ("changed", chosen, False),
                ("demo", chosen, False),
            ):
                conn.execute(
                    "INSERT INTO users (username, display_name, password_hash, is_active_account,"
                    " must_change_password, failed_login_count, created_at)"
                    " VALUES (%s, %s, %s, true, %s, 0, now())",
                    (username, username, password_hash, must_change),
                )
        _upgrade(env, "0003_account_slips")
        with psycopg.connect(plain) as conn:
            hashes = dict(conn.execute("SELECT username, password_hash FROM users").fetchall())
        assert hashes == {"waiting": "!unusable", "changed": chosen, "demo": chosen}
    finally:
        drop_database(name)
