"""Documents for phones: a PDF's first pages as images behind signed URLs, downloads, EPUB covers."""

from __future__ import annotations

from datetime import timedelta

import requests

from elearn.extensions import db
from media import service, tasks
from media.models import Asset
from media.storage import get_storage
from media.transcode import documents
from tests.conftest import user
from tests.media.conftest import make_pdf, upload


def test_pdf_pages_argv_is_capped_and_pure():
    argv = documents.build_pdf_pages_argv("/w/source", "/w/pages/p", 60, 1400)
    assert argv[:5] == ["pdftoppm", "-f", "1", "-l", "60"]
    assert argv[argv.index("-scale-to") + 1] == "1400" and "-jpeg" in argv
    assert argv[-2:] == ["/w/source", "/w/pages/p"]


def test_a_pdf_gets_its_first_pages_rendered_up_to_the_cap(app, ctx, tmp_path):
    app.config["MEDIA_DOCUMENT_PAGES"] = 3
    try:
        asset = upload(user("teacher1"), make_pdf(5), "application/pdf", "讲义.pdf")
        asset_id = asset.id
        tasks.process_asset(asset_id)
    finally:
        app.config.pop("MEDIA_DOCUMENT_PAGES")
    asset = db.session.get(Asset, asset_id)
    assert asset.status == "ready" and asset.page_count == 5
    pages = asset.meta["pages"]
    assert pages["rendered"] == 3 and len(pages["sizes"]) == 3
    width, height = pages["sizes"][0]
    assert height == 1400 and 1000 <= width <= 1100  # 300×400 pt pages, long side 1400 px
    storage = get_storage()
    keys = storage.list_keys(asset.output_prefix() + "pages/")
    assert [k.rsplit("/", 1)[1] for k in keys] == ["001.jpg", "002.jpg", "003.jpg"]
    assert storage.get(keys[0]).startswith(b"\xff\xd8\xff")
    context = service.document_context(asset, user("student1"))
    assert context["rendered"] == 3 and context["page_count"] == 5
    assert all(url.startswith("/media/o/") for url in context["pages"])
    assert context["sizes"][0] == [width, height]


def test_download_is_bound_to_its_viewer_and_named(app, as_user):
    teacher, student = as_user("teacher1"), as_user("student1")
    with app.test_request_context():
        asset = upload(user("teacher1"), make_pdf(2), "application/pdf", "禁毒 讲义")
        asset_id = asset.id
        tasks.process_asset(asset_id)
        asset = db.session.get(Asset, asset_id)
        context = service.document_context(asset, user("teacher1"))
    redirect = teacher.get(context["download_url"])
    assert redirect.status_code == 302 and redirect.location.startswith("/media/o/")
    got = teacher.get(redirect.location)
    assert got.status_code == 200 and got.mimetype == "application/pdf"
    assert got.data.startswith(b"%PDF")
    disposition = got.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "%E7%A6%81%E6%AF%92" in disposition  # 禁毒
    assert ".pdf" in disposition
    got.close()
    # another signed-in user cannot use a URL signed for the teacher
    assert student.get(context["download_url"]).status_code == 404
    renewed = teacher.get(context["renew_url"]).get_json()
    assert len(renewed["pages"]) == 2 and renewed["pages"][0].startswith("/media/o/")


def test_minio_download_url_names_the_file(minio_storage):
    minio_storage.put("assets/d/source", b"%PDF-1.4\n", content_type="application/octet-stream")
    url = minio_storage.presigned_get("assets/d/source", timedelta(minutes=5),
                                      download_name="禁毒讲义.pdf", content_type="application/pdf")  # fmt: skip
    got = requests.get(url, timeout=10)
    assert got.status_code == 200 and got.content.startswith(b"%PDF")
    assert got.headers["Content-Type"] == "application/pdf"
    assert got.headers["Content-Disposition"].startswith('attachment; filename="')
    assert "filename*=UTF-8''%E7%A6%81" in got.headers["Content-Disposition"]
