"""Document lessons on the lesson page: PDF pages readable on a phone, an EPUB's cover and download."""

from __future__ import annotations

import re
import subprocess

from courses import service
from elearn.extensions import db
from media import tasks
from tests.conftest import unit_by_code, user
from tests.media.conftest import make_pdf, upload
from tests.media.test_hostile import make_epub


def _document_course(app, tmp_path) -> tuple[int, int]:
    png = tmp_path / "cover.png"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                    "color=c=0x1d4e89:s=300x420", "-frames:v", "1", str(png)],
                   check=True, timeout=60)  # fmt: skip
    with app.test_request_context():
        author = user("pref_admin")
        pdf = upload(author, make_pdf(4), "application/pdf", "禁毒讲义.pdf")
        epub = upload(author, make_epub(chapters=5, cover=png.read_bytes()),
                      "application/epub+zip", "家长读本.epub")  # fmt: skip
        ids = (pdf.id, epub.id)
        for asset_id in ids:
            tasks.process_asset(asset_id)
        author = user("pref_admin")  # the task ends its session
        course = service.create_course(
            actor=author, unit=unit_by_code("DEMO"), title="禁毒读本", audience="student",
            grade_band="upper_primary", category="courseware",
        )  # fmt: skip
        first = service.add_lesson(actor=author, course=course, title="讲义", kind="document",
                                   asset_id=ids[0])  # fmt: skip
        second = service.add_lesson(actor=author, course=course, title="读本", kind="document",
                                    asset_id=ids[1])  # fmt: skip
        service.submit_for_review(actor=author, course=course)
        service.publish(actor=author, course=course)
        lesson_ids = (first.id, second.id)
        db.session.commit()
    return lesson_ids


def test_pdf_lesson_shows_its_pages_and_epub_lesson_its_cover(app, signed_in, tmp_path):
    pdf_lesson, epub_lesson = _document_course(app, tmp_path)
    student = signed_in("student1")
    page = student.get(f"/lessons/{pdf_lesson}").get_data(as_text=True)
    images = re.findall(r'<img src="(/media/o/[^"]+)" data-page="(\d)" width="(\d+)" height="(\d+)"',
                        page)  # fmt: skip
    assert [number for _, number, _, _ in images] == ["1", "2", "3", "4"]
    assert "PDF 文档，共 4 页" in page and "下载 PDF" in page and "第 1 页" in page
    assert 'data-mode="reading"' in page  # reading time counts, as for text
    image = student.get(images[0][0])
    assert image.status_code == 200 and image.mimetype == "image/jpeg"
    assert image.data.startswith(b"\xff\xd8\xff")
    image.close()
    download = re.search(r'href="(/media/doc/[^"]+/download)"', page).group(1)
    assert student.get(download).status_code == 302

    book = student.get(f"/lessons/{epub_lesson}").get_data(as_text=True)
    assert "电子书（EPUB），约 5 章" in book and "下载电子书" in book
    assert re.search(r'<img class="doc-cover" src="/media/o/[^"]+" alt="电子书封面"', book)
    assert "data-page=" not in book
