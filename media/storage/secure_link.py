"""HLS segment URLs that nginx checks by itself (its ``secure_link`` module), so that a segment
of the local-folder backend never reaches the app.

The app signs each segment URI of a rendition's playlist as nginx's ``secure_link_md5
"$secure_link_expires$uri $elearn_segment_secret"`` expects: ``/media/s/<key>?md5=<hash>&expires=<unix
time>``, where the hash is the base64url MD5 of the expiry, the URI, a space and the secret
(``ELEARN_MEDIA_SEGMENT_SECRET``; the same value is in nginx's configuration, see
``deploy/nginx/elearn.conf.j2``). nginx answers 403 to a wrong hash or a past expiry and sends the
file otherwise. MD5 is what nginx offers here: the secret is long and random, the URL lives
minutes and opens one segment.
"""

from __future__ import annotations

import base64
import hashlib
import re

#: nginx's location for signed segments (deploy/nginx/elearn.conf.j2)
SEGMENT_URL_PREFIX = "/media/s/"
#: the secret is written into nginx's configuration: only characters that need no quoting there
SECRET_PATTERN = re.compile(r"[A-Za-z0-9_-]{32,128}")
_KEY = re.compile(r"[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)*")


def parse_secret(raw: str) -> str:
    """The setting's parser: 32 to 128 letters, digits, ``-`` or ``_``."""
    if not SECRET_PATTERN.fullmatch(raw):
        raise ValueError(
            "32 to 128 letters, digits, - or _ (python -c 'import secrets; print(secrets.token_urlsafe(48))')"
        )
    return raw


def link_hash(expires: int, uri: str, secret: str) -> str:
    """What nginx computes for ``secure_link_md5 "$secure_link_expires$uri <secret>"``."""
    digest = hashlib.md5(f"{expires}{uri} {secret}".encode(), usedforsecurity=False).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def segment_url(key: str, expires: int, secret: str) -> str:
    """The URL of the object ``key`` that nginx serves until ``expires`` (a Unix time).

    Keys are ours (asset ids and ffmpeg's names) and need no escaping; anything else is refused,
    so that the URI signed here is the ``$uri`` nginx decodes."""
    if ".." in key.split("/") or not _KEY.fullmatch(key):
        raise ValueError(f"not a segment key: {key!r}")
    uri = SEGMENT_URL_PREFIX + key
    return f"{uri}?md5={link_hash(expires, uri, secret)}&expires={expires}"
