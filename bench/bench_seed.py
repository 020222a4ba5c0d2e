"""The prefecture-scale seed on a fresh PostgreSQL database: time (target ≤ 600 s) and peak memory.

The seed runs as the operator runs it (``flask --app app elearn seed --scale prefecture``) in a
child process, so its peak RSS is its own; a second run checks that it changes nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import psycopg

from bench import REPO, app_env, build_app, load, throwaway_database

TARGET_SECONDS = 600


def run_seed(url: str, env: dict[str, str]) -> tuple[float, float, list[str]]:
    """Run the seed command; returns (seconds, peak RSS in MB, its output lines)."""
    started = time.monotonic()
    child = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "elearn", "seed", "--scale", "prefecture"],
        cwd=REPO,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert child.stdout is not None
    output = []
    for line in child.stdout:
        output.append(line.rstrip())
        print(f"    | {line.rstrip()}", flush=True)
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.monotonic() - started
    if child.returncode != 0:
        raise RuntimeError(f"seed exited with {child.returncode}: {output[-5:]}")
    return elapsed, usage.ru_maxrss / 1024, output


def _counts(url: str) -> tuple[int, int, int, int]:
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM units),"
            " (SELECT count(*) FROM role_assignments), (SELECT count(*) FROM guardian_links)"
        ).fetchone()
    assert row is not None
    return row[0], row[1], row[2], row[3]


def run() -> list[str]:
    lines = []
    with throwaway_database("bench_seed") as url:
        build_app(url)  # migrations at heads
        env = app_env(url)
        seconds, rss, _ = run_seed(url, env)
        users, units, roles, links = _counts(url)
        verdict = "ok" if seconds <= TARGET_SECONDS else "OVER TARGET"
        lines.append(
            f"prefecture seed on PostgreSQL: {users:,} users, {units:,} units in {seconds:.0f} s "
            f"(target ≤ {TARGET_SECONDS} s: {verdict})"
        )
        lines.append(f"  {roles:,} role assignments, {links:,} guardian links")
        lines.append(f"  peak RSS of the seed process: {rss:.0f} MB; load average now {load()}")
        again, again_rss, _ = run_seed(url, env)
        unchanged = _counts(url) == (users, units, roles, links)
        lines.append(
            f"second run: {again:.1f} s, {'nothing changed' if unchanged else 'COUNTS CHANGED'} "
            f"(peak RSS {again_rss:.0f} MB)"
        )
        if not unchanged:
            raise RuntimeError("the second seed run changed the counts: " + "; ".join(lines))
    return lines
