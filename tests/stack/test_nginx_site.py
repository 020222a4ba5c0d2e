"""What nginx itself does to answers (deploy/nginx/elearn.conf.j2), with a plain file server
standing in for the API process: static files under content-hashed names are cached a year,
immutable, kept by nginx and compressed; plain names and misses are not; pages are never
compressed (BREACH); /metrics answers the inside network only; HLS segments signed by the app
(secure_link) are checked and sent by nginx alone."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from deploy import nginx
from media.storage.secure_link import segment_url
from tests.conftest import free_port

HASH = "0123456789abcdef" * 2
CSS = "body { color: #333; margin: 0 auto; }\n" * 60
SECRET = "nginx-test-" + "k" * 40
SEGMENT = "assets/abc/v1/360p/seg_00003.ts"
TS = b"G" + b"\x10" * 187 + b"G" + b"\x20" * 187


class Upstream(SimpleHTTPRequestHandler):
    """Files from a folder, counting requests; it sets a cookie on everything (as a careless
    app might), which a year-long public cache must never keep."""

    seen: list[str]

    def end_headers(self) -> None:
        self.send_header("Set-Cookie", "session=secret; Path=/")
        super().end_headers()

    def do_GET(self) -> None:
        self.seen.append(self.path)
        super().do_GET()

    def log_message(self, *args: object) -> None:
        pass


@dataclass
class Site:
    url: str
    seen: list[str]


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    nginx.binary()  # a missing nginx fails here, saying how to install it
    root = tmp_path / "app"
    (root / "static" / "css").mkdir(parents=True)
    (root / "media" / "static").mkdir(parents=True)
    (root / "static" / "css" / f"app-{HASH}.css").write_text(CSS)
    (root / "static" / "css" / "app.css").write_text(CSS)
    (root / "media" / "static" / f"upload-{HASH}.css").write_text(CSS)
    (root / "index.html").write_text("<p>csrf-token abcdef</p>\n" * 100)
    seen: list[str] = []
    handler = type("Handler", (Upstream,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    upstream = server.server_address[1]
    (tmp_path / "objects" / SEGMENT).parent.mkdir(parents=True)
    (tmp_path / "objects" / SEGMENT).write_bytes(TS)
    folder, port = tmp_path / "nginx", free_port()
    nginx.write_segment_secret(folder / "segment-secret.conf", SECRET)
    conf = nginx.write(
        folder,
        nginx.local_main(folder),
        nginx.local_site(
            folder,
            port=port,
            web_ports=[upstream],
            api_ports=[upstream],
            media_root=tmp_path,
            segment_secret_file=folder / "segment-secret.conf",
        ),
    )
    process = subprocess.Popen(
        nginx.argv(conf, "-g", "daemon off;"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
            try:
                requests.get(f"{url}/index.html", timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "nginx did not answer"
                time.sleep(0.1)
        seen.clear()
        yield Site(url, seen)
    finally:
        os.killpg(process.pid, signal.SIGQUIT)
        process.wait(timeout=10)
        server.shutdown()
        server.server_close()


def test_a_hashed_static_file_is_cached_a_year_and_kept_by_nginx(site):
    url = f"{site.url}/static/css/app-{HASH}.css"
    first = requests.get(url, timeout=10)
    assert first.status_code == 200 and first.text == CSS
    assert first.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "Set-Cookie" not in first.headers
    again = requests.get(url, headers={"Accept-Encoding": "gzip"}, timeout=10)
    assert again.headers["X-Cache-Status"] == "HIT" and again.text == CSS
    assert again.headers["Content-Encoding"] == "gzip"
    assert site.seen == [f"/static/css/app-{HASH}.css"]  # the app was asked once
    # a blueprint's static folder too
    blueprint = requests.get(f"{site.url}/media/static/upload-{HASH}.css", timeout=10)
    assert blueprint.headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_a_plain_name_or_a_miss_is_not_cached(site):
    plain = requests.get(f"{site.url}/static/css/app.css", timeout=10)
    assert plain.status_code == 200 and "immutable" not in plain.headers.get("Cache-Control", "")
    missing = requests.get(f"{site.url}/static/css/gone-{HASH}.css", timeout=10)
    assert missing.status_code == 404 and "Cache-Control" not in missing.headers
    requests.get(f"{site.url}/static/css/app.css", timeout=10)
    assert site.seen.count("/static/css/app.css") == 2


def test_pages_are_never_compressed(site):
    """A page carries the CSRF token beside text a visitor may have put in it (BREACH)."""
    page = requests.get(f"{site.url}/index.html", headers={"Accept-Encoding": "gzip"}, timeout=10)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "Content-Encoding" not in page.headers


def _get_from(address: str, url: str, path: str) -> int:
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(
        host, int(port), timeout=10, source_address=(address, 0)
    )
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    finally:
        connection.close()


def test_metrics_answer_the_inside_network_only(site):
    assert _get_from("127.0.0.1", site.url, "/metrics") == 404  # passed on: the stand-in has none
    assert _get_from("127.0.0.2", site.url, "/metrics") == 403
    assert site.seen == ["/metrics"]


def test_nginx_sends_a_segment_the_app_signed_and_refuses_a_forged_or_expired_one(site):
    later = int(time.time()) + 300
    url = site.url + segment_url(SEGMENT, later, SECRET)
    sent = requests.get(url, timeout=10)
    assert sent.status_code == 200 and sent.content == TS
    assert sent.headers["Content-Type"] == "video/mp2t"
    assert sent.headers["Cache-Control"] == "private, max-age=60"
    ranged = requests.get(url, headers={"Range": "bytes=188-375"}, timeout=10)
    assert ranged.status_code == 206 and ranged.content == TS[188:]
    md5 = url.split("md5=")[1].split("&")[0]
    tampered = url.replace(md5, ("A" if md5[0] != "A" else "B") + md5[1:])
    other_key = url.replace("seg_00003", "seg_00004")
    longer = url.replace(f"expires={later}", f"expires={later + 3600}")
    expired = site.url + segment_url(SEGMENT, int(time.time()) - 1, SECRET)
    wrong_secret = site.url + segment_url(SEGMENT, later, SECRET[::-1])
    unsigned = f"{site.url}/media/s/{SEGMENT}"
    for refused in (tampered, other_key, longer, expired, wrong_secret, unsigned):
        assert requests.get(refused, timeout=10).status_code == 403, refused
    assert site.seen == []  # the app was never asked
