"""Error reports through the Sentry SDK when ``ELEARN_SENTRY_DSN`` is set.

The app runs in a subprocess (the SDK is process-wide, and the rest of the suite runs without
it) with its DSN pointing at a loopback HTTP server standing in for Sentry's ingest; the test
reads the envelopes that server received.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.conftest import app_env

REPO = Path(__file__).resolve().parents[2]

APP = """
from elearn.factory import create_app

app = create_app({"TESTING": False, "WTF_CSRF_ENABLED": False})


@app.route("/boom", methods=["POST"])
def boom():
    answer = "我的答案 secret-answer"  # a local variable with what a pupil wrote
    raise RuntimeError("the view broke")


client = app.test_client()
client.set_cookie("elearn_session", "cookie-value-1")
response = client.post(
    "/boom",
    json={"answer": "我的答案 secret-answer"},
    headers={"X-Request-ID": "sentry-probe-1"},
)
assert response.status_code == 500, response.status_code
assert response.headers["X-Request-ID"] == "sentry-probe-1"
import sentry_sdk

assert sentry_sdk.get_client().is_active()
sentry_sdk.flush(timeout=10)
print("flushed")
"""


class Ingest(BaseHTTPRequestHandler):
    received: list[tuple[str, bytes]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        elif encoding == "br":
            import brotli  # type: ignore[import-not-found]  # optional: the test skips when it is not installed

            body = brotli.decompress(body)
        self.received.append((self.path, body))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def events(received: list[tuple[str, bytes]]) -> list[dict]:
    """The ``event`` items of the envelopes received (header line, item header, payload...)."""
    found = []
    for _path, body in received:
        lines = body.split(b"\n")
        index = 1
        while index + 1 < len(lines):
            item = json.loads(lines[index])
            if item.get("type") == "event":
                found.append(json.loads(lines[index + 1]))
            index += 2
    return found


def test_an_unhandled_error_in_a_view_reaches_sentry_with_its_request_id(database_url):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Ingest)
    Ingest.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        env = {
            **os.environ,
            **app_env(database_url),
            "ELEARN_SENTRY_DSN": f"http://publickey@127.0.0.1:{port}/1",
            "ELEARN_SENTRY_ENVIRONMENT": "drill",
            "ELEARN_SENTRY_RELEASE": "elearn@test",
        }
        done = subprocess.run(
            [sys.executable, "-c", APP],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        server.shutdown()
        server.server_close()
    assert done.returncode == 0, done.stderr[-3000:]
    assert "flushed" in done.stdout
    assert all(path == "/api/1/envelope/" for path, _body in Ingest.received)
    reported = [
        event
        for event in events(Ingest.received)
        if any(
            v.get("type") == "RuntimeError" for v in event.get("exception", {}).get("values", [])
        )
    ]
    assert len(reported) == 1, events(Ingest.received)  # once, not once per integration
    event = reported[0]
    assert event["tags"]["request_id"] == "sentry-probe-1"
    assert event["environment"] == "drill" and event["release"] == "elearn@test"
    assert any(v.get("value") == "the view broke" for v in event["exception"]["values"])
    # nothing a pupil typed or holds: no body, no cookies, no local variables
    sent = b"".join(body for _path, body in Ingest.received)
    assert b"secret-answer" not in sent and b"cookie-value-1" not in sent
