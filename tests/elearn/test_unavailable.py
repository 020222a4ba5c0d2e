"""With no database, a request is answered 503 with ``Retry-After: 5`` and a page or message in the
user's language, on rate-limited endpoints too (Flask-Limiter sets Retry-After on every response
of a limited view to when its window resets: minutes, not the seconds an outage lasts).

The app runs in a subprocess whose database URL names a port nothing listens on.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import app_env, free_port

REPO = Path(__file__).resolve().parents[2]

APP = """
import json
from elearn.factory import create_app

app = create_app({"TESTING": False, "WTF_CSRF_ENABLED": False})
client = app.test_client()
seen = {}
token = client.post("/api/v1/auth/token", json={"username": "teacher1", "password": "x" * 8})
seen["api"] = [token.status_code, token.headers.get("Retry-After"), token.get_json()]
login = client.post(
    "/login", data={"login": "teacher1", "password": "x" * 8}, headers={"Accept-Language": "zh-CN"}
)
seen["page"] = [login.status_code, login.headers.get("Retry-After"), login.get_data(as_text=True)]
print(json.dumps(seen))
"""


def test_without_the_database_limited_views_answer_503_retry_after_5_seconds():
    env = {
        **app_env(f"postgresql+psycopg://127.0.0.1:{free_port()}/nothing"),
        "PATH": "/usr/bin:/bin",
        "ELEARN_ASYNC_MODE": "threading",
    }
    done = subprocess.run(
        [sys.executable, "-c", APP], cwd=REPO, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])

    status, retry_after, body = seen["api"]
    assert (status, retry_after) == (503, "5"), seen["api"]
    assert body["retryable"] is True and "稍后" in body["message"]

    status, retry_after, page = seen["page"]
    assert (status, retry_after) == (503, "5"), (status, retry_after)
    assert "503" in page and "请稍后再试" in page
    assert "<nav" not in page  # rendered without the database: no menu
