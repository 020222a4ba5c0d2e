"""`make run`'s path on a bare machine: the start script migrates, seeds and serves the demo on
SQLite, printing the URL and the logins once and nothing else; the seed is idempotent; an exam
works on SQLite."""

import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
FLASK = str(Path(sys.executable).with_name("flask"))
DEMO_LOGINS = ("pref_admin", "county_admin", "school_admin", "teacher1", "student1", "parent1")


def _checkout(tmp_path: Path) -> Path:
    """The project as a fresh clone sees it (its own instance/ folder), made of symlinks."""
    for entry in ROOT.iterdir():
        if entry.name not in {"instance", ".git"}:
            (tmp_path / entry.name).symlink_to(entry)
    return tmp_path


def _start(tmp_path: Path, env: dict[str, str], port: int) -> tuple[str, str]:
    """Run scripts/run.sh until the app answers, then stop it with Ctrl+C; (output, web page)."""
    script = subprocess.Popen(
        ["bash", str(tmp_path / "scripts" / "run.sh")],
        env={**env, "PORT": str(port)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert script.stdout is not None
    lines: list[str] = []
    try:
        for line in script.stdout:
            lines.append(line)
            if line.startswith("  Stop it with Ctrl+C"):
                break
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=30) as page:
            html = page.read().decode()
    finally:
        os.killpg(script.pid, signal.SIGINT)  # what Ctrl+C sends the terminal's process group
        rest, _ = script.communicate(timeout=60)
    return "".join(lines) + rest, html


def test_make_run_serves_the_demo_on_the_embedded_sqlite(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ELEARN_", "DATABASE_URL", "REDIS_URL", "S3_"))
    }
    checkout = _checkout(tmp_path)
    env.update(ELEARN_DEMO="1", PYTHONPATH=str(ROOT), FLASK_APP=str(ROOT / "app.py"))

    def flask(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [FLASK, *args], cwd=checkout, env=env, capture_output=True, text=True, timeout=600
        )

    port = free_port()
    output, login_page = _start(checkout, env, port)
    assert output.count(f"http://127.0.0.1:{port}") == 1, output
    listed = [line.split()[0] for line in output.splitlines() if line.startswith("    ")]
    assert sorted(listed) == sorted({*DEMO_LOGINS, "expert1"}), output
    assert output.count("demo1234") == 1, output
    for noise in ("WARNING", "Warning", "Werkzeug", "Traceback", "INFO", "celery@"):
        assert noise not in output, output
    assert "elearn stopped." in output
    assert 'name="csrf-token"' in login_page
    # the three demo courses' video lessons, transcoded into the local media folder
    masters = sorted((checkout / "instance" / "media").rglob("master.m3u8"))
    assert len(masters) == 3
    again = flask("elearn", "seed", "--scale", "demo")  # idempotent
    assert again.returncode == 0, again.stderr[-3000:]
    assert "student1" in again.stdout and "demo1234" in again.stdout
    assert sorted((checkout / "instance" / "media").rglob("master.m3u8")) == masters
    assert (checkout / "instance" / "elearn.sqlite3").exists()
    # the exam path's hand-built SQL (ON CONFLICT, a locking CTE in an UPDATE … FROM) on SQLite:
    # student1 starts the demo quiz and saves an answer, twice with the same seq
    exam = subprocess.run(
        [sys.executable, "-c", EXAM_ON_SQLITE],
        cwd=checkout,
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
