"""The media package's settings: declared once (``SETTINGS``), read from ``ELEARN_<NAME>`` and
checked when the app starts (the feature contract), then read from the app's config at call time.
"""

from __future__ import annotations

import os
from typing import Any

from flask import current_app, has_app_context

from elearn.config import Setting
from media.storage.secure_link import parse_secret

MB = 1024 * 1024

SETTINGS = (
    # per-role upload limits in bytes (students and guardians can't upload)
    Setting.integer(
        "MEDIA_UPLOAD_LIMIT_TEACHER", 500 * MB, "largest upload of a teacher", minimum=1
    ),
    Setting.integer("MEDIA_UPLOAD_LIMIT_EXPERT", 2048 * MB, "of an expert", minimum=1),
    Setting.integer("MEDIA_UPLOAD_LIMIT_ADMIN", 2048 * MB, "of an admin", minimum=1),
    # attachments (a message's picture, file or voice recording: ``purpose`` "attachment"): every
    # role may send them, families smaller ones than staff
    Setting.integer(
        "MEDIA_ATTACHMENT_LIMIT_FAMILY",
        20 * MB,
        "largest attachment of a guardian or student",
        minimum=1,
    ),
    Setting.integer(
        "MEDIA_ATTACHMENT_LIMIT_STAFF", 100 * MB, "of a teacher, expert or admin", minimum=1
    ),
    Setting.integer("MEDIA_PART_SIZE", 8 * MB, "size of an upload's parts", minimum=5 * MB),
    Setting.integer("MEDIA_UPLOAD_URL_MINUTES", 60, "lifetime of upload URLs", minimum=1),
    # an upload that received no part for this long is aborted and its asset marked failed
    Setting.integer("MEDIA_UPLOAD_ABANDON_HOURS", 24, "unfinished uploads' life", minimum=1),
    Setting.integer("MEDIA_PLAYBACK_MINUTES", 15, "lifetime of playback URLs", minimum=1),
    Setting.integer("MEDIA_RENEW_GRACE_MINUTES", 360, "renewing an expired playlist", minimum=0),
    Setting.integer("MEDIA_MAX_ATTEMPTS", 3, "processing tries before failing", minimum=1),
    Setting.integer("MEDIA_LEASE_SECONDS", 300, "a worker's lease on an asset", minimum=10),
    Setting.integer("MEDIA_RETRY_SECONDS", 30, "wait before a retry", minimum=0),
    Setting.integer("MEDIA_MAX_DURATION_SECONDS", 3 * 3600, "longest media", minimum=1),
    Setting.integer("MEDIA_MAX_OUTPUT_BYTES", 8 * 1024 * MB, "largest output", minimum=MB),
    Setting.integer("MEDIA_FFMPEG_THREADS", 0, "ffmpeg threads (0: ffmpeg's choice)", minimum=0),
    # a PDF's first pages rendered as images for reading on phones
    Setting.integer("MEDIA_DOCUMENT_PAGES", 60, "PDF pages rendered as images", minimum=0),
    # wall time allowed for one ffmpeg run: base + factor × media duration (a hang is killed)
    Setting.integer("MEDIA_TIMEOUT_BASE_SECONDS", 300, "ffmpeg's time, base", minimum=1),
    Setting.integer("MEDIA_TIMEOUT_FACTOR", 8, "ffmpeg's time, × duration", minimum=1),
    Setting.text("MEDIA_WORK_DIR", None, "scratch folder for transcodes (system temp)"),
    # behind nginx, the local-folder backend's objects are sent by nginx: the app checks the
    # signed URL and answers ``X-Accel-Redirect: <this prefix><key>`` (deploy/nginx/elearn.conf.j2)
    Setting.text("MEDIA_ACCEL_REDIRECT", None, "nginx's internal prefix for media objects"),
    # behind nginx, the local-folder backend's HLS segments are checked by nginx itself
    # (secure_link): the app signs their URLs with this secret, which nginx's configuration holds
    # too (media/storage/secure_link.py, deploy/nginx/elearn.conf.j2); unset, they go through
    # the app as other objects do. With S3, the storage's own presigned URLs are used.
    Setting(
        "MEDIA_SEGMENT_SECRET", None, "nginx secure_link secret for HLS segments", parse_secret
    ),
)
_BY_NAME = {setting.key: setting for setting in SETTINGS}
#: the defaults, by name (tests and benches read them)
DEFAULTS: dict[str, Any] = {setting.key: setting.default for setting in SETTINGS}


def setting(name: str) -> Any:
    """A media setting: the app's (read and checked at start-up), or outside an app (a script)
    the environment's, checked the same way."""
    if has_app_context() and name in current_app.config:
        return current_app.config[name]
    return _BY_NAME[name].read(os.environ)
