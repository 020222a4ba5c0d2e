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
    # the exam path's hand-built SQL (ON CONFLICT, a locking CTE in an UPDATE … FROM) on SQLite:
    # student1 starts the demo quiz and saves an answer, twice with the same seq
    exam = subprocess.run(
        [sys.executable, "-c", EXAM_ON_SQLITE],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert exam.returncode == 0, exam.stderr[-3000:]
    assert exam.stdout.split() == ["201", "200", "409", "true"], exam.stdout


EXAM_ON_SQLITE = """
import app as module
from elearn.extensions import db
from elearn.service import accounts
from elearn.models import User
from sqlalchemy import select

app = module.app
with app.app_context():
    user = db.session.scalar(select(User).where(User.username == "student1"))
    token, _ = accounts.issue_api_token(user=user, hours=1)
    db.session.commit()
client = app.test_client()
auth = {"Authorization": "Bearer " + token}
quiz = client.get("/api/v1/quizzes", headers=auth).get_json()[0]
started = client.post(f"/api/v1/quizzes/{quiz['id']}/attempts", headers=auth)
body = started.get_json()
question = next(q for q in body["questions"] if q["type"] == "true_false")
url = f"/api/v1/attempts/{body['attempt_id']}/answers/{question['id']}"
saved = client.put(url, json={"answer": True, "seq": 1}, headers=auth)
again = client.put(url, json={"answer": False, "seq": 1}, headers=auth)
resumed = client.post(f"/api/v1/quizzes/{quiz['id']}/attempts", headers=auth).get_json()
print(started.status_code, saved.status_code, again.status_code)
print(str(resumed["answers"][str(question["id"])]["answer"]).lower())
"""
