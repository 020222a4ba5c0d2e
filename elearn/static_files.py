"""Static files: under names that change with their content, compressed, cached for a year.

A phone on a school's shared line should fetch the app's scripts and styles once, small, and
never ask again until they change. Two kept libraries, each for its half:

- **flask-static-digest builds** (``build``, run by ``make install`` through
  ``scripts/static.py``): beside each package's static files, a copy named by the MD5 of its
  content (``css/app-<md5>.css``), its gzip and brotli forms, and ``cache_manifest.json``
  mapping each name to its copy. Built, not committed, like the translations' ``.mo`` files.
- **WhiteNoise serves**, in front of Flask: brotli or gzip as the browser accepts, with
  ``Vary: Accept-Encoding``, ETags and ranges; a hashed name is cached for a year and
  ``immutable`` (its content can never change); a plain name is revalidated at each use.

``url_for('<blueprint>.static', filename=…)`` answers the hashed name whenever the manifest has
one whose hash still matches the file: a file edited since the last build keeps its plain name
(revalidated), so a stale copy is never served. Neither library does the other's half:
flask-static-digest leaves serving (and compression negotiation) to a proxy we do not have in
``make run``, and WhiteNoise hashes names only inside Django.

Pages themselves are not compressed: each carries the CSRF token, and compressing a secret
beside text a visitor can put in the page lets an attacker who watches sizes guess it (BREACH).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import json
import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from flask import Flask
from whitenoise import WhiteNoise

from elearn.headers import security_headers

MANIFEST = "cache_manifest.json"
#: a copy the build named by its content: ``name-<32 hex>.ext``
HASHED = re.compile(r"-([0-9a-f]{32})(\.[^/.]+)\Z")
#: not copied under a hashed name: licence texts and version notes (no extension)
UNHASHED_EXTENSIONS = ["", ".LICENSE"]
IMMUTABLE = "public, max-age=31536000, immutable"
#: static files a browser may open as a page, which get every security header
DOCUMENTS = ("text/html", "image/svg+xml")


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()


def _sources(folder: Path) -> Iterable[Path]:
    """The files the build hashes: everything but its own outputs and the unhashed kinds."""
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        if path.name == MANIFEST or path.suffix in {".gz", ".br"} or HASHED.search(path.name):
            continue
        if path.suffix in UNHASHED_EXTENSIONS:
            continue
        yield path


def fresh_manifest(folder: Path) -> dict[str, str]:
    """``{name: hashed name}`` for the files of ``folder`` whose built copy has their content."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return {}
    fresh = {}
    for name, hashed in manifest.items():
        match = HASHED.search(hashed)
        source = folder / name
        if match is None or not source.is_file() or not (folder / hashed).is_file():
            continue
        if _md5(source) == match.group(1):
            fresh[name] = hashed
    return fresh


def is_built(folder: Path) -> bool:
    """Whether every file of ``folder`` has its hashed, gzip and brotli copies, and only those."""
    manifest = fresh_manifest(folder)
    names = {path.relative_to(folder).as_posix() for path in _sources(folder)}
    if set(manifest) != names:
        return False
    return all(
        (folder / f"{hashed}{suffix}").is_file()
        for hashed in manifest.values()
        for suffix in (".gz", ".br")
    )


def build(folders: Iterable[Path]) -> list[Path]:
    """Hash and compress the static files of each folder that changed; the folders rebuilt."""
    from flask_static_digest import digester  # only `make install` builds: not in a serving app

    rebuilt = []
    for folder in folders:
        if not folder.is_dir():
            continue
        # runs of the suite may start at once in one tree: one builds, the others then see it built
        lock = Path(tempfile.gettempdir()) / f"elearn-static-{_md5_text(str(folder))}.lock"
        with lock.open("w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            if is_built(folder):
                continue
            root = str(folder) + os.sep
            with contextlib.redirect_stdout(io.StringIO()):  # it prints where it wrote
                digester.clean(root, UNHASHED_EXTENSIONS, True, True)
                digester.compile(root, root, UNHASHED_EXTENSIONS, True, True)
            rebuilt.append(folder)
    return rebuilt


def _md5_text(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def init_app(app: Flask) -> None:
    """Put WhiteNoise in front of Flask (under the lanes that packages put in front later) and
    make ``url_for`` answer hashed names; ``serve_static_folders`` adds the folders."""
    headers = security_headers(app)

    def add_headers(response_headers: Any, path: str, url: str) -> None:
        if HASHED.search(url):
            response_headers["Cache-Control"] = IMMUTABLE
        # a script or a style sheet is never a document: the policy and its neighbours would
        # be half a kilobyte more for each, to no effect (an SVG is a document: it gets them)
        if response_headers.get("Content-Type", "").startswith(DOCUMENTS):
            for name, value in headers:
                response_headers[name] = value
        else:
            response_headers["X-Content-Type-Options"] = "nosniff"

    files = WhiteNoise(
        app.wsgi_app,
        # a plain name (a file edited since the build) is asked about again at each use
        max_age=0,
        allow_all_origins=False,
        add_headers_function=add_headers,
        autorefresh=app.debug,
    )
    app.wsgi_app = files  # type: ignore[method-assign]  # WSGI middleware wraps the app, as Flask's docs do it
    app.extensions["elearn.static_files"] = files
    manifests: dict[str, dict[str, str]] = {}
    app.extensions["elearn.static_manifests"] = manifests

    @app.url_defaults
    def _hashed_name(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint == "static" or endpoint.endswith(".static"):
            name = values.get("filename")
            hashed = manifests.get(endpoint, {}).get(name) if name else None
            if hashed:
                values["filename"] = hashed


def serve_static_folders(app: Flask) -> None:
    """Serve every static folder (the app's and each blueprint's) through WhiteNoise."""
    files: WhiteNoise = app.extensions["elearn.static_files"]
    manifests: dict[str, dict[str, str]] = app.extensions["elearn.static_manifests"]
    scaffolds: list[Any] = [
        ("static", app),
        *((f"{n}.static", b) for n, b in app.blueprints.items()),
    ]
    for endpoint, scaffold in scaffolds:
        if not scaffold.has_static_folder:
            continue
        folder = Path(scaffold.static_folder)
        url_path = scaffold.static_url_path if scaffold is app else _blueprint_url(app, scaffold)
        files.add_files(str(folder), prefix=f"{url_path or ''}/")
        manifests[endpoint] = fresh_manifest(folder)


def _blueprint_url(app: Flask, blueprint: Any) -> str:
    """Where a blueprint's static route is mounted (its url_prefix and static_url_path)."""
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == f"{blueprint.name}.static")
    return rule.rule.rsplit("/<path:filename>", 1)[0]
