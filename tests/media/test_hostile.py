"""Hostile uploads end failed with a readable reason, read no local file, open no connection."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import pytest

from elearn.extensions import db
from media import service, tasks
from media.models import Asset
from media.storage import get_storage
from tests.conftest import user
from tests.media.conftest import upload

MARKER = "ELEARN-LOCAL-MARKER-7f3a9c"


@pytest.fixture
def marker_file(tmp_path):
    path = tmp_path / "secret.txt"
    path.write_text(MARKER + "\n")
    return path


def make_epub(*, chapters: int = 2, cover: bytes | None = None, bomb: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip")
        archive.writestr(
            "META-INF/container.xml",
            '<?xml version="1.0"?><container version="1.0" '
            'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
            '<rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
            "</rootfiles></container>",
        )
        items = "".join(
            f'<item id="c{i}" href="c{i}.xhtml" media-type="application/xhtml+xml"/>'
            for i in range(chapters)
        )
        if cover:
            items += '<item id="cover" href="cover.png" media-type="image/png" properties="cover-image"/>'
        spine = "".join(f'<itemref idref="c{i}"/>' for i in range(chapters))
        opf = (
            '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0">'
            f"<metadata/><manifest>{items}</manifest><spine>{spine}</spine></package>"
        )
        archive.writestr("OEBPS/content.opf", opf, compress_type=zipfile.ZIP_DEFLATED)
        for i in range(chapters):
            archive.writestr(f"OEBPS/c{i}.xhtml", f"<html><body>Chapter {i}</body></html>")
        if cover:
            archive.writestr("OEBPS/cover.png", cover)
        if bomb:
            archive.writestr("OEBPS/bomb.xhtml", b"\0" * (16 * 1024 * 1024),
                             compress_type=zipfile.ZIP_DEFLATED)  # fmt: skip
    return buffer.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_with_size(width: int, height: int, rows: int | None = None) -> bytes:
    """A PNG header declaring ``width``×``height``, with a (possibly tiny) zero-filled body."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    raw_rows = height if rows is None else rows
    body = zlib.compress(b"\0" * ((width + 1) * raw_rows), 9)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", body)
        + _png_chunk(b"IEND", b"")
    )


def xlsx_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("xl/worksheets/sheet1.xml", b"<c>0</c>" * (2 * 1024 * 1024))
    return buffer.getvalue()


def zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for i in range(4):
            archive.writestr(f"layer{i}.bin", b"\0" * (8 * 1024 * 1024))
    return buffer.getvalue()


def _hostile_input(name: str, port: int, marker: str, media_files) -> tuple[bytes, str]:
    playlist = (
        "#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:10.0,\n"
        f"file://{marker}\n#EXTINF:10.0,\nhttp://127.0.0.1:{port}/seg.ts\n#EXT-X-ENDLIST\n"
    ).encode()
    ftyp = struct.pack(">I4s4sI4s", 20, b"ftyp", b"isom", 0, b"isom")
    video = media_files["video"].read_bytes()
    inputs = {
        "m3u8 disguised as mp4": lambda: (playlist, "video/mp4"),
        "ffconcat script": lambda: (
            f"ffconcat version 1.0\nfile '{marker}'\nfile 'http://127.0.0.1:{port}/x.mp4'\n".encode(),
            "video/mp4",
        ),
        "concat script": lambda: (f"file '{marker}'\n".encode(), "video/mp4"),
        "polyglot ftyp+m3u8": lambda: (ftyp + b"\n" + playlist, "video/mp4"),
        "polyglot pdf+m3u8": lambda: (b"%PDF-1.4\n" + playlist, "application/pdf"),
        "zip bomb as epub": lambda: (make_epub(bomb=True), "application/epub+zip"),
        "zip bomb": lambda: (zip_bomb(), "application/epub+zip"),
        "xlsx bomb": lambda: (xlsx_bomb(), "video/mp4"),
        "image bomb": lambda: (png_with_size(30000, 30000, rows=64), "image/png"),
        "40000x40000 frame": lambda: (png_with_size(40000, 40000, rows=1), "image/png"),
        "svg": lambda: (
            f'<svg xmlns="http://www.w3.org/2000/svg"><image href="file://{marker}"/>'
            f'<image href="http://127.0.0.1:{port}/"/></svg>'.encode(),
            "image/png",
        ),
        "truncated mp4": lambda: (video[: len(video) // 2], "video/mp4"),
        "truncated webm": lambda: (
            media_files["webm"].read_bytes()[: media_files["webm"].stat().st_size // 3],
            "video/webm",
        ),
        "zero-length": lambda: (b"", "video/mp4"),
    }
    return inputs[name]()


HOSTILE_NAMES = [
    "m3u8 disguised as mp4", "ffconcat script", "concat script", "polyglot ftyp+m3u8",
    "polyglot pdf+m3u8", "zip bomb as epub", "zip bomb", "xlsx bomb", "image bomb",
    "40000x40000 frame", "svg", "truncated mp4", "truncated webm", "zero-length",
]  # fmt: skip


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_file_fails_safely(ctx, name, media_files, marker_file, listener):
    data, content_type = _hostile_input(name, listener.port, str(marker_file), media_files)
    asset = upload(user("teacher1"), data, content_type, filename="lesson.mp4")
    asset_id = asset.id
    if asset.status == "processing":
        tasks.process_asset(asset_id)
    db.session.expire_all()
    asset = db.session.get(Asset, asset_id)
    assert asset.status == "failed", name
    assert asset.reason and service.reason_text(asset)
    assert asset.attempts <= 1, "refused files are not retried"
    storage = get_storage()
    for key in storage.list_keys(f"assets/{asset.id}/"):
        assert MARKER.encode() not in storage.get(key), key
    assert not storage.list_keys(f"assets/{asset.id}/v1/")
    assert listener.connections == 0


def test_mkv_with_an_hls_subtitle_trick_never_reads_files(
    ctx, media_files, marker_file, listener, tmp_path
):
    """A real WebM with an extra subtitle stream naming a local file: subtitles are dropped."""
    import subprocess

    sub = tmp_path / "s.srt"
    sub.write_text(f"1\n00:00:00,000 --> 00:00:01,000\nfile://{marker_file}\n")
    out = tmp_path / "x.mkv"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(media_files["webm"]), "-i",
                    str(sub), "-map", "0", "-map", "1", "-c", "copy", str(out)], check=True)  # fmt: skip
    asset_id = upload(user("teacher1"), out, "video/webm").id
    tasks.process_asset(asset_id)
    db.session.expire_all()
    asset = db.session.get(Asset, asset_id)
    assert asset.status == "ready"
    storage = get_storage()
    for key in storage.list_keys(f"assets/{asset.id}/v1/"):
        assert MARKER.encode() not in storage.get(key)
    assert listener.connections == 0
