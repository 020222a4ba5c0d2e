"""Behind nginx (``ELEARN_MEDIA_SEGMENT_SECRET``) the local-folder backend's HLS segment URLs are
signed in the form nginx's secure_link module checks, so that nginx sends segments with no app in
the way (tests/stack/test_nginx_site.py and test_media.py run nginx on them)."""

from __future__ import annotations

import base64
import hashlib
import re
import time

import pytest

from elearn.config import read_settings
from media.models import Asset
from media.settings import SETTINGS

SECRET = "s3cr3t-" + "x" * 40


def _asset(storage) -> Asset:
    prefix = "assets/sl/v1/"
    storage.put(prefix + "audio/index.m3u8",
                b"#EXTM3U\n#EXTINF:2.0,\nseg_00000.ts\n#EXTINF:2.0,\nseg_00001.ts\n#EXT-X-ENDLIST\n")  # fmt: skip
    return Asset(renditions=[{"name": "audio", "bandwidth": 1, "kind": "audio",
                              "playlist_key": prefix + "audio/index.m3u8"}])  # fmt: skip


def _segments(playlist: str) -> list[str]:
    return [line for line in playlist.splitlines() if line and not line.startswith("#")]


def test_with_the_secret_segments_are_signed_for_nginx(app, ctx):
    from media import service
    from media.storage import get_storage

    asset = _asset(get_storage())
    plain = _segments(service.signed_variant_playlist(asset, "audio") or "")
    assert len(plain) == 2 and all(s.startswith("/media/o/") for s in plain)  # through the app
    app.config["MEDIA_SEGMENT_SECRET"] = SECRET
    try:
        signed = _segments(service.signed_variant_playlist(asset, "audio") or "")
    finally:
        app.config["MEDIA_SEGMENT_SECRET"] = None
    assert len(signed) == 2
    for number, url in enumerate(signed):
        match = re.fullmatch(r"(/media/s/[^?]+)\?md5=([\w-]{22})&expires=(\d+)", url)
        assert match, url
        uri, md5, expires = match[1], match[2], int(match[3])
        assert uri == f"/media/s/assets/sl/v1/audio/seg_0000{number}.ts"
        minutes = app.config["MEDIA_PLAYBACK_MINUTES"]
        assert abs(expires - (time.time() + minutes * 60)) < 60
        # nginx: secure_link_md5 "$secure_link_expires$uri $elearn_segment_secret", base64url
        digest = hashlib.md5(f"{expires}{uri} {SECRET}".encode(), usedforsecurity=False).digest()
        assert md5 == base64.urlsafe_b64encode(digest).decode().rstrip("=")


@pytest.mark.parametrize(
    "secret", ["short", "x" * 31, "x" * 40 + '"; return 200;', "x" * 40 + "$uri", "x" * 129]
)
def test_a_secret_nginx_cannot_hold_as_is_is_refused_at_start_up(secret):
    config: dict = {}
    problems = read_settings(SETTINGS, config, {"ELEARN_MEDIA_SEGMENT_SECRET": secret})
    assert len(problems) == 1 and "ELEARN_MEDIA_SEGMENT_SECRET" in problems[0], problems
    config = {}
    assert read_settings(SETTINGS, config, {"ELEARN_MEDIA_SEGMENT_SECRET": SECRET}) == []
    assert config["MEDIA_SEGMENT_SECRET"] == SECRET


def test_only_our_keys_are_signed():
    from media.storage.secure_link import segment_url

    assert segment_url("assets/a/v1/360p/seg_00001.ts", 10, SECRET).startswith("/media/s/assets/")
    for key in ("assets/../x.ts", "assets/a b.ts", "/etc/passwd", "assets/a?.ts", "assets//a.ts"):
        with pytest.raises(ValueError):
            segment_url(key, 10, SECRET)
