"""`make run`'s path on a bare machine: every migration and the demo seed work on SQLite."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FLASK = str(Path(sys.executable).with_name("flask"))


def test_migrations_and_demo_seed_run_on_the_embedded_sqlite(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ELEARN_", "DATABASE_URL", "REDIS_URL", "S3_"))
    }
    env.update(ELEARN_DEMO="1", PYTHONPATH=str(ROOT), FLASK_APP=str(ROOT / "app.py"))

    def flask(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [FLASK, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
        )

    upgraded = flask("db", "upgrade", "heads")
    assert upgraded.returncode == 0, upgraded.stderr[-3000:]
    seeded = flask("elearn", "seed", "--scale", "demo")
    assert seeded.returncode == 0, seeded.stderr[-3000:]
    assert "student1" in seeded.stdout and "demo1234" in seeded.stdout
    # the three demo courses' video lessons, transcoded into the local media folder
    masters = sorted((tmp_path / "instance" / "media").rglob("master.m3u8"))
    assert len(masters) == 3
    again = flask("elearn", "seed", "--scale", "demo")  # idempotent
    assert again.returncode == 0, again.stderr[-3000:]
    assert sorted((tmp_path / "instance" / "media").rglob("master.m3u8")) == masters
    assert (tmp_path / "instance" / "elearn.sqlite3").exists()
