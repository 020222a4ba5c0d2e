"""Access rules of the media routes (see tests/access.py).

Uploads belong to their owner (teacher1, school S0101) and the admins above that school; the
signed URLs are the credential for parts, objects and playback (like presigned S3 URLs).
"""

from __future__ import annotations

import gc
from datetime import timedelta

from tests.access import ADMINS, EVERYONE, Rule

UPLOADERS = ADMINS | {"teacher1", "expert1"}
OWNER_SIGHT = ADMINS | {"teacher1"}
_APP: list = []


def _app():
    # the rules build URLs outside any app context; the storage needs the test app's config
    if not _APP:
        from flask import Flask

        _APP.append(next(o for o in gc.get_objects() if isinstance(o, Flask) and o.testing))
    return _APP[0]


def _asset(*, ready: bool):
    from elearn.extensions import db
    from media import service
    from media.storage import get_storage
    from tests.conftest import user

    teacher = user("teacher1")
    asset = service.create_upload(
        actor=teacher, filename="a.mp4", size=10, content_type="video/mp4"
    )
    if ready:
        storage = get_storage()
        prefix = asset.output_prefix(1)
        storage.put(
            prefix + "master.m3u8", b"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\naudio/index.m3u8\n"
        )
        storage.put(prefix + "audio/index.m3u8",
                    b"#EXTM3U\n#EXTINF:2.0,\nseg_00000.ts\n#EXT-X-ENDLIST\n")  # fmt: skip
        storage.put(prefix + "audio/seg_00000.ts", b"\x47" * 188)
        asset.status = "ready"
        asset.master_key = prefix + "master.m3u8"
        asset.renditions = [{"name": "audio", "bandwidth": 70000, "kind": "audio",
                             "playlist_key": prefix + "audio/index.m3u8"}]  # fmt: skip
    db.session.commit()  # a savepoint in the test's transaction; undone after the request
    return asset


def _in_app(build):
    def url(ids: dict) -> str:
        with _app().test_request_context():
            return build()

    return url


def _uploading() -> str:
    return str(_asset(ready=False).id)


def _part_url() -> str:
    from media import service

    asset = _asset(ready=False)
    return str(service.upload_plan(asset)["parts"][0]["url"])


def _object_url() -> str:
    from media.storage import get_storage

    asset = _asset(ready=True)
    return get_storage().presigned_get(asset.master_key, timedelta(minutes=5))


def _play(suffix: str):
    def build() -> str:
        from media import service
        from tests.conftest import user

        token = service.playback_token(_asset(ready=True), user("teacher1"))
        return f"/media/play/{token}/{suffix}"

    return build


def _doc(suffix: str):
    """A ready PDF asset of teacher1's, and a document URL with a token for teacher1."""

    def build() -> str:
        from elearn.extensions import db
        from media import service
        from media.storage import get_storage
        from tests.conftest import user

        teacher = user("teacher1")
        asset = service.create_upload(
            actor=teacher, filename="a.pdf", size=10, content_type="application/pdf"
        )
        storage = get_storage()
        storage.put(asset.source_key, b"%PDF-1.4\n")
        storage.put(asset.output_prefix(1) + "pages/001.jpg", b"\xff\xd8\xff")
        asset.status, asset.kind, asset.sniffed_type, asset.page_count = (
            "ready",
            "document",
            "pdf",
            1,
        )
        asset.ladder_version = 1
        asset.meta = {"pages": {"rendered": 1, "sizes": [[990, 1400]]}}
        db.session.commit()
        return f"/media/doc/{service.playback_token(asset, teacher)}/{suffix}"

    return build


def _live(suffix: str):
    def build() -> str:
        from elearn.extensions import db
        from media import live, service
        from media.storage import get_storage
        from media.transcode import live as live_ffmpeg
        from tests.conftest import user

        teacher = user("teacher1")
        asset = live.start_live_asset(owner=teacher, unit_id=None, title="直播",
                                      plan=live_ffmpeg.LivePlan())  # fmt: skip
        storage = get_storage()
        storage.put(asset.master_key, b"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\naudio/index.m3u8\n")
        audio = next(r for r in asset.renditions if r["name"] == "audio")
        storage.put(audio["playlist_key"], b"#EXTM3U\n#EXTINF:2.0,\nseg_00000.ts\n")
        db.session.commit()
        return f"/media/live/{service.playback_token(asset, teacher)}/{suffix}"

    return build


RULES = {
    # live playlists: the signed token is the credential, as for VOD playback
    "media.live_master": Rule(_in_app(_live("master.m3u8")), EVERYONE),
    "media.live_variant": Rule(_in_app(_live("audio/index.m3u8")), EVERYONE),
    "media.live_segment": Rule(_in_app(_live("audio/seg_00000.ts")), EVERYONE),
    "media.upload_page": Rule(lambda ids: "/media/upload", UPLOADERS),
    "media.asset_page": Rule(_in_app(lambda: f"/media/assets/{_uploading()}"), OWNER_SIGHT),
    "media.local_part": Rule(_in_app(_part_url), EVERYONE, method="PUT"),
    "media.local_object": Rule(_in_app(_object_url), EVERYONE),
    "media.play_master": Rule(_in_app(_play("master.m3u8")), EVERYONE),
    "media.play_variant": Rule(_in_app(_play("audio/index.m3u8")), EVERYONE),
    "media.play_renew": Rule(_in_app(_play("renew")), frozenset({"teacher1"})),
    # document URLs are bound to the viewer the lesson page signed them for
    "media.document_download": Rule(_in_app(_doc("download")), frozenset({"teacher1"})),
    "media.document_pages": Rule(_in_app(_doc("pages")), frozenset({"teacher1"})),
    "media_api.upload_create": Rule(
        lambda ids: "/api/v1/media/uploads",
        UPLOADERS,
        method="POST",
        json=True,
        data=lambda ids: {"filename": "a.mp4", "size": 10, "content_type": "video/mp4"},
    ),
    "media_api.upload_status": Rule(
        _in_app(lambda: f"/api/v1/media/uploads/{_uploading()}"), OWNER_SIGHT
    ),
    "media_api.upload_complete": Rule(
        _in_app(lambda: f"/api/v1/media/uploads/{_uploading()}/complete"),
        OWNER_SIGHT,
        method="POST",
        json=True,
    ),
    "media_api.upload_abort": Rule(
        _in_app(lambda: f"/api/v1/media/uploads/{_uploading()}"),
        OWNER_SIGHT,
        method="DELETE",
        json=True,
    ),
    "media_api.asset_detail": Rule(
        _in_app(lambda: f"/api/v1/media/assets/{_uploading()}"), OWNER_SIGHT
    ),
}
