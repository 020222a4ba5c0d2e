"""The page of one upload (where the upload list's entries lead): its owner and the admins
above them see it, its name escaped; anyone else gets a 404."""

from __future__ import annotations

from elearn.extensions import db
from tests.conftest import user


def _upload(app, filename: str) -> str:
    from media import service

    with app.test_request_context():
        asset = service.create_upload(
            actor=user("teacher1"), filename=filename, size=10, content_type="video/mp4"
        )
        db.session.commit()
        return asset.id


def test_an_uploads_page_shows_its_state_to_its_owner_only(app, signed_in):
    asset_id = _upload(app, "<img src=x onerror=alert(1)>禁毒.mp4")
    page = signed_in("teacher1").get(f"/media/assets/{asset_id}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "&lt;img src=x onerror=alert(1)&gt;禁毒.mp4" in body and "<img src=x" not in body
    assert "上传中…" in body
    assert signed_in("school_admin").get(f"/media/assets/{asset_id}").status_code == 200
    assert signed_in("t_S0201_5").get(f"/media/assets/{asset_id}").status_code == 404
    assert signed_in("teacher1").get("/media/assets/" + "f" * 32).status_code == 404
    assert signed_in("teacher1").get("/media/assets/" + "9" * 400).status_code == 404


def test_the_upload_pages_entries_lead_to_their_pages(app, signed_in):
    asset_id = _upload(app, "班会视频.mp4")
    body = signed_in("teacher1").get("/media/upload").get_data(as_text=True)
    assert f'<a href="/media/assets/{asset_id}">班会视频.mp4</a>' in body
    assert f'data-asset-id="{asset_id}" data-status="uploading"' in body
