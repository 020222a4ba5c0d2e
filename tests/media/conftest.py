"""Media fixtures: moto's S3 server on loopback, generated test media, a loopback listener."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port


def _expiry_enforcing(app):
    """WSGI middleware refusing presigned requests past X-Amz-Date + X-Amz-Expires.

    Real S3 and MinIO refuse them; moto accepts any signature, so the tests add the one check
    whose behaviour they assert.
    """
    from datetime import UTC, datetime, timedelta
    from urllib.parse import parse_qs

    def wrapped(environ, start_response):
        query = parse_qs(environ.get("QUERY_STRING", ""))
        if "X-Amz-Date" in query and "X-Amz-Expires" in query:
            signed_at = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ")
            expires = timedelta(seconds=int(query["X-Amz-Expires"][0]))
            if datetime.now(UTC).replace(tzinfo=None) > signed_at + expires:
                body = b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>"
                start_response("403 Forbidden", [("Content-Type", "application/xml")])
                return [body]
        return app(environ, start_response)

    return wrapped


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """moto's S3 server on 127.0.0.1 (stands in for MinIO); yields its endpoint."""
    from moto.moto_server import threaded_moto_server as tms
    from moto.server import ThreadedMotoServer

    class Server(ThreadedMotoServer):
        def _server_entry(self) -> None:
            app = _expiry_enforcing(tms.DomainDispatcherApplication(tms.create_backend_app))
            self._server = tms.make_server(
                self._ip_address, self._port, app, True, request_handler=tms.MotoRequestHandler
            )
            self._server_ready_event.set()
            self._server.serve_forever()

    port = free_port()
    server = Server(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def minio_storage(s3_server: str):
    """A MinioStorage on a fresh bucket of the moto server."""
    import uuid

    from media.storage import MinioStorage

    return MinioStorage(s3_server, "test-key", "test-secret", f"t-{uuid.uuid4().hex[:12]}")


def _ffmpeg(*args: str) -> None:
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *args],
        check=True,
        timeout=120,
    )


@pytest.fixture(scope="session")
def media_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Small generated media: a 3 s 640x360 video with sound, an audio file, an image, a PDF."""
    assert shutil.which("ffmpeg"), "ffmpeg is needed (scripts/system-deps.sh installs it)"
    root = tmp_path_factory.mktemp("media-src")
    files = {
        "video": root / "clip.mp4",
        "video_tail_moov": root / "tail.mp4",
        "webm": root / "clip.webm",
        "audio": root / "tone.mp3",
        "wav": root / "tone.wav",
        "image": root / "pic.png",
        "jpeg": root / "pic.jpg",
    }
    lavfi_v = "testsrc2=size=640x360:rate=25:duration=3"
    lavfi_a = "sine=frequency=440:duration=3"
    common = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"]
    _ffmpeg("-f", "lavfi", "-i", lavfi_v, "-f", "lavfi", "-i", lavfi_a, *common,
            "-movflags", "+faststart", str(files["video"]))  # fmt: skip
    _ffmpeg("-f", "lavfi", "-i", lavfi_v, "-f", "lavfi", "-i", lavfi_a, *common,
            str(files["video_tail_moov"]))  # fmt: skip
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=15:duration=2", "-f", "lavfi",
            "-i", "sine=duration=2", "-c:v", "libvpx", "-deadline", "realtime", "-b:v", "300k",
            "-c:a", "libopus", str(files["webm"]))  # fmt: skip
    _ffmpeg("-f", "lavfi", "-i", lavfi_a, "-c:a", "libmp3lame", "-b:a", "64k", str(files["audio"]))
    _ffmpeg("-f", "lavfi", "-i", lavfi_a, str(files["wav"]))
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=size=800x600", "-frames:v", "1", str(files["image"]))
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=size=800x600", "-frames:v", "1", str(files["jpeg"]))
    files["pdf"] = root / "doc.pdf"
    files["pdf"].write_bytes(make_pdf(3))
    return files


def make_pdf(pages: int) -> bytes:
    """A minimal valid PDF with ``pages`` pages, each with a line of text."""
    objects: list[bytes] = []
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(pages))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode())
    font_id = 3 + 2 * pages
    for i in range(pages):
        content_id = 4 + 2 * i
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 400] /Contents {content_id} 0 R "
            f"/Resources << /Font << /F1 {font_id} 0 R >> >> >>".encode()
        )
        stream = f"BT /F1 24 Tf 40 300 Td (Page {i + 1}) Tj ET".encode()
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


class Listener:
    """A TCP listener on loopback that records every connection made to it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    li = Listener()
    yield li
    li.close()


def upload(actor, path: Path | bytes, content_type: str, filename: str = "upload.bin"):
    """Upload bytes through the service and the storage backend (as the browser would)."""
    from elearn.extensions import db
    from media import service
    from media.storage import get_storage

    data = path if isinstance(path, bytes) else path.read_bytes()
    storage = get_storage()
    asset = service.create_upload(
        actor=actor, filename=filename, size=max(1, len(data)), content_type=content_type
    )
    for part in service.upload_plan(asset)["parts"] if data else []:
        chunk = data[part["offset"] : part["offset"] + part["size"]]
        storage.write_part(asset.source_key, asset.upload_id, part["number"], iter([chunk]),
                           max_bytes=asset.part_size)  # fmt: skip
    service.complete_upload(actor=actor, asset=asset)
    db.session.flush()
    return asset


# the browser tests' fixtures (tests/e2e/conftest.py), for the upload page journey
from tests.e2e import conftest as _e2e  # noqa: E402

e2e_artifacts = _e2e.e2e_artifacts
e2e_redis_url = _e2e.e2e_redis_url
e2e_env = _e2e.e2e_env
live_url = _e2e.live_url
e2e_worker = _e2e.e2e_worker
browser = _e2e.browser
new_page = _e2e.new_page
csp_violations = _e2e.csp_violations
shot = _e2e.shot
