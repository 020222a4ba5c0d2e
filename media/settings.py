"""The media package's settings, read at call time: app config first, then ``ELEARN_*`` variables."""

from __future__ import annotations

import os
from typing import Any

from flask import current_app, has_app_context

MB = 1024 * 1024

DEFAULTS: dict[str, Any] = {
    # per-role upload limits in bytes (students and guardians can't upload)
    "MEDIA_UPLOAD_LIMIT_TEACHER": 500 * MB,
    "MEDIA_UPLOAD_LIMIT_EXPERT": 2048 * MB,
    "MEDIA_UPLOAD_LIMIT_ADMIN": 2048 * MB,
    "MEDIA_PART_SIZE": 8 * MB,
    "MEDIA_UPLOAD_URL_MINUTES": 60,
    # an upload that received no part for this long is aborted and its asset marked failed
    "MEDIA_UPLOAD_ABANDON_HOURS": 24,
    "MEDIA_PLAYBACK_MINUTES": 15,
    "MEDIA_RENEW_GRACE_MINUTES": 360,
    "MEDIA_MAX_ATTEMPTS": 3,
    "MEDIA_LEASE_SECONDS": 300,
    "MEDIA_RETRY_SECONDS": 30,
    "MEDIA_MAX_DURATION_SECONDS": 3 * 3600,
    "MEDIA_MAX_OUTPUT_BYTES": 8 * 1024 * MB,
    "MEDIA_FFMPEG_THREADS": 0,
    # a PDF's first pages rendered as images for reading on phones
    "MEDIA_DOCUMENT_PAGES": 60,
    # wall time allowed for one ffmpeg run: base + factor × media duration (a hang is killed)
    "MEDIA_TIMEOUT_BASE_SECONDS": 300,
    "MEDIA_TIMEOUT_FACTOR": 8,
    "MEDIA_WORK_DIR": None,
    # behind nginx, the local-folder backend's objects are sent by nginx: the app checks the
    # signed URL and answers ``X-Accel-Redirect: <this prefix><key>`` (deploy/nginx/elearn.conf.j2)
    "MEDIA_ACCEL_REDIRECT": None,
}


def setting(name: str) -> Any:
    """A media setting: ``app.config[name]``, else ``ELEARN_<name>``, else the default."""
    if has_app_context() and current_app.config.get(name) is not None:
        return current_app.config[name]
    default = DEFAULTS[name]
    raw = os.environ.get(f"ELEARN_{name}")
    if raw is None or raw == "":
        return default
    return int(raw) if isinstance(default, int) else raw
