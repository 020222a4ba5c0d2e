"""The upload API, the signed local URLs and playback, on both storage backends."""

from __future__ import annotations

import time

import pytest
import requests

from elearn.extensions import db
from media.models import Asset
from tests.conftest import csrf_token, user

MB = 1024 * 1024


def _post(client, url, body=None):
    return client.post(url, json=body or {}, headers={"X-CSRFToken": csrf_token(client, "/")})


def _announce(client, data: bytes, content_type="video/mp4", filename="lesson.mp4"):
    return _post(client, "/api/v1/media/uploads",
                 {"filename": filename, "size": len(data), "content_type": content_type})  # fmt: skip


def _send_parts(client, data: bytes, plan: dict):
    for part in plan["parts"]:
        chunk = data[part["offset"] : part["offset"] + part["size"]]
        response = client.put(part["url"], data=chunk, headers=plan["headers"])
        assert response.status_code == 200, response.get_data(as_text=True)


def test_teacher_uploads_a_video_and_it_becomes_playable(as_user, media_files):
    teacher = as_user("teacher1")
    data = media_files["video"].read_bytes()
    created = _announce(teacher, data, filename="../../etc/禁毒 第一课.mp4")
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    asset_id = body["asset_id"]
    assert body["upload"]["parts"][0]["offset"] == 0
    assert body["upload"]["parts"][0]["url"].startswith("/media/part/")
    _send_parts(teacher, data, body["upload"])
    done = _post(teacher, f"/api/v1/media/uploads/{asset_id}/complete")
    assert done.status_code == 202
    asset = teacher.get(f"/api/v1/media/assets/{asset_id}").get_json()
    assert asset["status"] == "ready" and asset["progress"] == 100
    assert asset["filename"] == "禁毒 第一课.mp4"
    assert {r["kind"] for r in asset["renditions"]} == {"audio", "video"}
    assert set(asset["renditions"][0]) == {"name", "bandwidth", "kind"}
    assert abs(asset["duration"] - 3.0) < 0.2
    master = teacher.get(asset["playlist_url"])
    assert master.status_code == 200 and master.mimetype == "application/vnd.apple.mpegurl"
    base = asset["playlist_url"].rsplit("/", 1)[0]
    variant = teacher.get(f"{base}/360p/index.m3u8").get_data(as_text=True)
    segments = [line for line in variant.splitlines() if line and not line.startswith("#")]
    assert segments and all(s.startswith("/media/o/") for s in segments)
    segment = teacher.get(segments[0])
    assert segment.status_code == 200 and segment.data[:1] == b"\x47"  # MPEG-TS sync byte
    # the signed URLs work without a session too (they are the credential) …
    anonymous = teacher.application.test_client()
    assert anonymous.get(segments[0]).status_code == 200
    # … but not once tampered with
    assert anonymous.get(segments[0][:-3] + "xyz").status_code == 403
    assert anonymous.get(f"{base}/../../master.m3u8").status_code in (403, 404)


def test_upload_resumes_after_a_dropped_connection(as_user, app):
    app.config["MEDIA_PART_SIZE"] = 1 * MB
    try:
        teacher = as_user("teacher1")
        data = b"\0\0\0\x18ftypisom" + b"x" * (3 * MB)
        body = _announce(teacher, data).get_json()
        plan = body["upload"]
        assert [p["number"] for p in plan["parts"]] == [1, 2, 3, 4]
        # parts 1 and 3 arrive, then the connection drops
        _send_parts(teacher, data, {**plan, "parts": [plan["parts"][0], plan["parts"][2]]})
        resumed = teacher.get(f"/api/v1/media/uploads/{body['asset_id']}").get_json()["upload"]
        assert resumed["received"] == [1, 3]
        assert [(p["number"], p["offset"]) for p in resumed["parts"]] == [(2, MB), (4, 3 * MB)]
        # completing early is refused and leaves the asset failed, nothing half-published
        _send_parts(teacher, data, {**resumed, "parts": resumed["parts"][:1]})
        early = _post(teacher, f"/api/v1/media/uploads/{body['asset_id']}/complete").get_json()
        assert early["status"] == "failed" and early["reason"]
    finally:
        app.config.pop("MEDIA_PART_SIZE")


def test_size_and_type_are_checked_before_any_byte(as_user, app):
    teacher = as_user("teacher1")
    with app.app_context():
        before = db.session.query(Asset).count()
    too_big = _post(teacher, "/api/v1/media/uploads",
                    {"filename": "a.mp4", "size": 501 * MB, "content_type": "video/mp4"})  # fmt: skip
    assert too_big.status_code == 413 and "500" in too_big.get_json()["message"]
    svg = _post(teacher, "/api/v1/media/uploads",
                {"filename": "a.svg", "size": 10, "content_type": "image/svg+xml"})  # fmt: skip
    assert svg.status_code == 415
    empty = _post(teacher, "/api/v1/media/uploads",
                  {"filename": "a.mp4", "size": 0, "content_type": "video/mp4"})  # fmt: skip
    assert empty.status_code == 422
    assert _post(teacher, "/api/v1/media/uploads", {"size": "x"}).status_code == 422
    with app.app_context():
        assert db.session.query(Asset).count() == before
    admin = as_user("school_admin")
    big = _post(admin, "/api/v1/media/uploads",
                {"filename": "a.mp4", "size": 1500 * MB, "content_type": "video/mp4"})  # fmt: skip
    assert big.status_code == 201


@pytest.mark.parametrize("username", ["student1", "parent1"])
def test_students_and_parents_cannot_upload(as_user, username):
    client = as_user(username)
    response = _post(client, "/api/v1/media/uploads",
                     {"filename": "a.mp4", "size": 10, "content_type": "video/mp4"})  # fmt: skip
    assert response.status_code == 403 and response.get_json()["message"]
    assert client.get("/media/upload").status_code == 403


def test_messages_are_in_chinese_by_default(as_user):
    response = _post(as_user("student1"), "/api/v1/media/uploads",
                     {"filename": "a.mp4", "size": 10, "content_type": "video/mp4"})  # fmt: skip
    assert "上传" in response.get_json()["message"]


def test_part_size_is_enforced_on_the_local_backend(as_user):
    teacher = as_user("teacher1")
    data = b"\0\0\0\x18ftypisom" + b"x" * 100
    plan = _announce(teacher, data).get_json()["upload"]
    too_much = teacher.put(plan["parts"][0]["url"], data=b"x" * (8 * MB + 1))
    assert too_much.status_code == 403
    forged = plan["parts"][0]["url"][:-4] + "AAAA"
    assert teacher.put(forged, data=b"x").status_code == 403


def test_assets_are_scoped(as_user, app, media_files):
    teacher = as_user("teacher1")
    data = media_files["image"].read_bytes()
    body = _announce(teacher, data, "image/png", "p.png").get_json()
    asset_id = body["asset_id"]
    _send_parts(teacher, data, body["upload"])
    _post(teacher, f"/api/v1/media/uploads/{asset_id}/complete")
    assert teacher.get(f"/api/v1/media/assets/{asset_id}").get_json()["status"] == "ready"
    # admins of the owner's school see it; others don't even learn it exists
    assert as_user("school_admin").get(f"/api/v1/media/assets/{asset_id}").status_code == 200
    assert as_user("county_admin").get(f"/api/v1/media/assets/{asset_id}").status_code == 200
    for other in ("student1", "parent1", "expert1"):
        client = as_user(other)
        assert client.get(f"/api/v1/media/assets/{asset_id}").status_code == 404
        assert client.get(f"/api/v1/media/uploads/{asset_id}").status_code == 404
    assert teacher.get("/api/v1/media/assets/0000").status_code == 404


def test_playback_token_for_a_viewer_and_renewal(as_user, app, media_files):
    from media import service

    teacher = as_user("teacher1")
    data = media_files["audio"].read_bytes()
    body = _announce(teacher, data, "audio/mpeg", "talk.mp3").get_json()
    _send_parts(teacher, data, body["upload"])
    _post(teacher, f"/api/v1/media/uploads/{body['asset_id']}/complete")
    with app.test_request_context():
        asset = db.session.get(Asset, body["asset_id"])
        # the courses package calls this after its own check that student1 may see the lesson
        token = service.playback_token(asset, user("student1"))
        expired = service.playback_token(asset, user("student1"), minutes=-1)
    student = as_user("student1")
    assert student.get(f"/media/play/{token}/master.m3u8").status_code == 200
    assert student.get(f"/media/play/{token}/audio/index.m3u8").status_code == 200
    assert student.get(f"/media/play/{token}/720p/index.m3u8").status_code == 404
    assert student.get(f"/media/play/{expired}/master.m3u8").status_code == 403
    renewed = student.get(f"/media/play/{expired}/renew")
    assert renewed.status_code == 200 and renewed.get_json()["playlist_url"].endswith("master.m3u8")
    assert as_user("parent1").get(f"/media/play/{expired}/renew").status_code == 404


def test_upload_page_for_teachers(as_user):
    page = as_user("teacher1").get("/media/upload")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="media-file"' in html and "/media/static/js/upload" in html
    assert as_user("teacher1").get("/media/static/vendor/hls/hls.min.js").status_code == 200


def test_openapi_documents_the_media_api(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    for path in ("/api/v1/media/uploads", "/api/v1/media/uploads/{asset_id}/complete",
                 "/api/v1/media/assets/{asset_id}", "/api/v1/media/uploads/{asset_id}"):  # fmt: skip
        assert path in spec["paths"], path
    assert "MediaAsset" in spec["components"]["schemas"]


def test_readiness_reports_storage(client):
    body = client.get("/readyz").get_json()
    assert body["checks"]["storage"] == "ok"


def test_minio_backend_end_to_end(as_user, app, s3_server, media_files):
    """Browser → presigned multipart PUT to S3 → processing → playback through signed S3 URLs."""
    overrides = {"S3_ENDPOINT": s3_server, "S3_ACCESS_KEY": "k", "S3_SECRET_KEY": "s",
                 "S3_BUCKET": f"e2e-{int(time.time() * 1000)}", "MEDIA_PLAYBACK_MINUTES": 5}  # fmt: skip
    saved = {k: app.config.get(k) for k in overrides}
    app.config.update(overrides)
    try:
        teacher = as_user("teacher1")
        data = media_files["video"].read_bytes()
        body = _announce(teacher, data).get_json()
        part = body["upload"]["parts"][0]
        assert part["url"].startswith(s3_server) and "uploadId=" in part["url"]
        assert "X-Amz-Expires=3600" in part["url"]
        response = requests.put(
            part["url"], data=data, headers=body["upload"]["headers"], timeout=30
        )
        assert response.ok
        assert (
            _post(teacher, f"/api/v1/media/uploads/{body['asset_id']}/complete").status_code == 202
        )
        asset = teacher.get(f"/api/v1/media/assets/{body['asset_id']}").get_json()
        assert asset["status"] == "ready", asset["reason"]
        base = asset["playlist_url"].rsplit("/", 1)[0]
        variant = teacher.get(f"{base}/360p/index.m3u8").get_data(as_text=True)
        segments = [line for line in variant.splitlines() if line and not line.startswith("#")]
        assert segments[0].startswith(s3_server) and "X-Amz-Expires=300" in segments[0]
        assert requests.get(segments[0], timeout=10).content[:1] == b"\x47"
        # the bucket itself is private
        plain = requests.get(segments[0].split("?")[0], timeout=10)
        assert plain.status_code == 403 or plain.content[:1] != b"\x47"
        assert teacher.get("/readyz").get_json()["checks"]["storage"] == "ok"
    finally:
        app.config.update(saved)
