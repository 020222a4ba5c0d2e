"""Behind nginx (``ELEARN_MEDIA_ACCEL_REDIRECT``) the local-folder backend's signed URLs are
checked by the app and the file is sent by nginx: the app answers with where nginx finds it."""

from __future__ import annotations

from datetime import timedelta


def test_the_app_checks_the_signature_and_leaves_the_bytes_to_nginx(app, client):
    from media.storage import get_storage

    with app.app_context():
        storage = get_storage()
        storage.put("assets/accel/v360/seg_00000.ts", b"G" * 376)
        storage.put("assets/accel/source", b"%PDF-1.4")
        segment = storage.presigned_get("assets/accel/v360/seg_00000.ts", timedelta(minutes=2))
        document = storage.presigned_get(
            "assets/accel/source",
            timedelta(minutes=2),
            download_name="禁毒手册.pdf",
            content_type="application/pdf",
        )
    # without nginx in front, the app sends the file itself
    assert client.get(segment).data == b"G" * 376
    app.config["MEDIA_ACCEL_REDIRECT"] = "/_media/"
    try:
        response = client.get(segment)
        assert response.status_code == 200
        assert response.headers["X-Accel-Redirect"] == "/_media/assets/accel/v360/seg_00000.ts"
        assert response.mimetype == "video/mp2t" and response.data == b""
        download = client.get(document)
        assert download.headers["X-Accel-Redirect"] == "/_media/assets/accel/source"
        assert download.mimetype == "application/pdf"
        assert (
            "filename*=UTF-8''%E7%A6%81%E6%AF%92%E6%89%8B%E5%86%8C.pdf"
            in (download.headers["Content-Disposition"])
        )
        # a forged or expired URL never reaches nginx's internal location
        token = segment.rsplit("/", 1)[1]
        forged = client.get(
            segment.replace(token, token[:-2] + ("AA" if token[-2:] != "AA" else "BB"))
        )
        assert forged.status_code == 403 and "X-Accel-Redirect" not in forged.headers
        with app.app_context():
            expired = get_storage().presigned_get(
                "assets/accel/v360/seg_00000.ts", timedelta(seconds=-1)
            )
        assert "X-Accel-Redirect" not in client.get(expired).headers
    finally:
        app.config["MEDIA_ACCEL_REDIRECT"] = None
