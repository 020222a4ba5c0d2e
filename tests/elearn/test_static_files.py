"""Static files: named by their content, compressed, cached for a year; the favicon."""

from __future__ import annotations

import gzip
import hashlib
import re
from pathlib import Path

import brotli

from elearn.static_files import IMMUTABLE, build, fresh_manifest, is_built

ROOT = Path(__file__).resolve().parents[2]


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_pages_name_static_files_by_their_content(client):
    page = client.get("/login").get_data(as_text=True)
    for folder, name in (("css", "app"), ("js", "page")):
        source = ROOT / "elearn" / "static" / folder / f"{name}.{folder}"
        assert f"/static/{folder}/{name}-{_md5(source)}.{folder}" in page


def test_a_named_file_comes_compressed_and_is_kept_for_a_year(client):
    source = ROOT / "media" / "static" / "vendor" / "hls" / "hls.min.js"
    url = f"/media/static/vendor/hls/hls.min-{_md5(source)}.js"
    raw = source.read_bytes()

    as_brotli = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert as_brotli.status_code == 200
    assert as_brotli.headers["Content-Encoding"] == "br"
    assert as_brotli.headers["Cache-Control"] == IMMUTABLE
    assert "Accept-Encoding" in as_brotli.headers["Vary"]
    assert as_brotli.headers["Content-Type"].startswith("text/javascript")
    assert as_brotli.headers["X-Content-Type-Options"] == "nosniff"
    body = as_brotli.get_data()
    assert brotli.decompress(body) == raw
    assert len(body) < len(raw) / 3  # 624 KB of JavaScript is ~155 KB on the wire

    as_gzip = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert as_gzip.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(as_gzip.get_data()) == raw

    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers and plain.get_data() == raw
    # a revisit within the year asks nothing; a browser that asks anyway gets a 304
    again = client.get(url, headers={"If-None-Match": as_brotli.headers["ETag"]})
    assert again.status_code == 304


def test_a_plain_name_is_checked_again_at_each_use(client):
    response = client.get("/static/css/app.css", headers={"Accept-Encoding": "br"})
    assert response.status_code == 200 and response.headers["Content-Encoding"] == "br"
    assert response.headers["Cache-Control"] == "max-age=0, public"


def test_every_package_is_built_and_a_file_edited_since_keeps_its_plain_name(tmp_path):
    for package in ("elearn", "media", "courses", "quizzes", "live"):
        assert is_built(ROOT / package / "static"), package
    folder = tmp_path / "static"
    (folder / "js").mkdir(parents=True)
    script = folder / "js" / "a.js"
    script.write_text("var a = 1;\n" * 200)
    (folder / "LICENSE").write_text("licence text")
    assert not is_built(folder)
    assert build([folder]) == [folder]
    assert is_built(folder) and build([folder]) == []  # nothing to do the second time
    hashed = fresh_manifest(folder)["js/a.js"]
    assert hashed == f"js/a-{_md5(script)}.js"
    assert (folder / f"{hashed}.br").is_file() and (folder / f"{hashed}.gz").is_file()
    assert not any("LICENSE-" in p.name for p in folder.iterdir())  # licences keep their name

    script.write_text("var a = 2;\n")  # edited, not rebuilt: its old copy must not be named
    assert fresh_manifest(folder) == {} and not is_built(folder)
    build([folder])
    assert fresh_manifest(folder) == {"js/a.js": f"js/a-{_md5(script)}.js"}
    assert not (folder / hashed).exists()  # the stale copy is gone


def test_the_favicon(client):
    page = client.get("/login").get_data(as_text=True)
    match = re.search(r'<link rel="icon" href="(/static/favicon-[0-9a-f]{32}\.svg)"', page)
    assert match, "base.html links the SVG icon"
    svg = client.get(match.group(1))
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert svg.headers["Cache-Control"] == IMMUTABLE
    assert "script-src 'self'" in svg.headers["Content-Security-Policy"]  # an SVG is a document
    ico = client.get("/favicon.ico")
    assert ico.status_code == 200
    assert ico.mimetype in {"image/vnd.microsoft.icon", "image/x-icon"}
    assert ico.get_data()[:4] == b"\x00\x00\x01\x00"  # an ICO file
