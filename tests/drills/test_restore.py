"""The restore drill: back up, lose the database, restore it, and the platform is as it was.

On a PostgreSQL cluster of the drill's own (``initdb`` into a temporary folder, ``pg_ctl`` on a
free port; the machine's shared server is never touched): the demo installation is migrated and
seeded, each table's row count and checksum (its rows as text, in primary-key order) and each
sequence's position are recorded, ``deploy/backup.sh`` dumps it, the database is dropped,
``deploy/restore.sh`` brings it back, and gunicorn starts on it as production runs (``/readyz``
ready, a demo user signs in with the password they had). Then the counts, checksums and
sequences must be what they were.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import psycopg
import requests
from psycopg import sql

from tests.drills.cluster import ROOT, demo_installation, own_cluster, run
from tests.e2e import conftest as e2e

e2e_artifacts = e2e.e2e_artifacts

DATABASE = "elearn_drill"


def fingerprint(url: str) -> dict[str, tuple[int, str]]:
    """{table: (rows, md5 of its rows as text in primary-key order)}, and each sequence's
    position as {"sequence <name>": (last_value, "")}."""
    found: dict[str, tuple[int, str]] = {}
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("SET TimeZone = 'UTC'")  # timestamps as text, the same both times
        keys = dict(
            connection.execute(
                """
                SELECT c.relname,
                       array_agg(a.attname ORDER BY array_position(i.indkey::int2[], a.attnum))
                FROM pg_index i
                JOIN pg_class c ON c.oid = i.indrelid
                JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY (i.indkey)
                WHERE i.indisprimary AND c.relnamespace = 'public'::regnamespace
                GROUP BY c.relname
                """
            ).fetchall()
        )
        tables = [
            row[0]
            for row in connection.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            )
        ]
        for table in tables:
            order = (
                sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(c)) for c in keys[table])
                if table in keys
                else sql.SQL("t::text")
            )
            query = sql.SQL(
                "SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY {}), ''))"
                " FROM {} AS t"
            ).format(order, sql.Identifier(table))
            count, digest = connection.execute(query).fetchone()
            found[table] = (count, digest)
        for name, last in connection.execute(
            "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'"
        ):
            found[f"sequence {name}"] = (last or 0, "")
    return found


def test_a_dump_dropped_and_restored_gives_the_same_data_and_the_app_starts(
    e2e_artifacts, tmp_path
):
    with own_cluster() as cluster:
        server = cluster.url
        url = f"{server}/{DATABASE}"
        env = demo_installation(cluster, DATABASE, tmp_path / "media")

        before = fingerprint(url)
        rows = {t: n for t, (n, _digest) in before.items() if not t.startswith("sequence ")}
        # a drill over next to nothing proves nothing: the demo fills the tables that matter
        assert rows["users"] > 200 and rows["alembic_version"] >= 1
        assert sum(1 for n in rows.values() if n) >= 20, rows

        backups = tmp_path / "backups"
        dumped = run(["bash", str(ROOT / "deploy/backup.sh"), str(backups)], env=env)
        archive = Path(dumped.stdout.strip().splitlines()[-1])
        assert archive.parent == backups and archive.stat().st_size > 10_000

        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{DATABASE}" WITH (FORCE)')
            assert admin.execute(
                "SELECT count(*) FROM pg_database WHERE datname = %s", (DATABASE,)
            ).fetchone() == (0,)

        run(["bash", str(ROOT / "deploy/restore.sh"), str(archive)], env=env)
        assert fingerprint(url) == before

        # a second restore over the restored data is refused, and changes nothing
        again = subprocess.run(
            ["bash", str(ROOT / "deploy/restore.sh"), str(archive)],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert again.returncode == 1 and "refusing" in again.stderr

        # the app starts on it as production runs it, and a demo user signs in as before
        with e2e.web_process(env, e2e_artifacts, "restored") as base:
            ready = requests.get(f"{base}/readyz", timeout=30)
            assert ready.status_code == 200, ready.text
            assert ready.json()["checks"]["database"] == "ok"
            signed_in = requests.post(
                f"{base}/api/v1/auth/token",
                json={"username": "student1", "password": "demo1234"},
                timeout=30,
            )
            assert signed_in.status_code == 200, signed_in.text
        assert fingerprint(url).keys() == before.keys()
