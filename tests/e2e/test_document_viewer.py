"""Document lessons on a phone: a teacher uploads a PDF handout and an EPUB, builds lessons on them,
an admin publishes, a student reads the PDF's pages and finds the e-book's cover and download."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import PHONE, sign_in
from tests.media.test_hostile import make_epub

pytestmark = pytest.mark.e2e

HANDOUT = """<html><head><meta charset="utf-8"><style>
body { font-family: 'WenQuanYi Micro Hei', sans-serif; margin: 0; }
section { page-break-after: always; padding: 40px 48px; }
h1 { color: #12355b; font-size: 30px; } p, li { font-size: 17px; line-height: 1.7; }
.box { border: 2px solid #c0392b; border-radius: 8px; padding: 12px 16px; background: #fdf2f0; }
</style></head><body>
<section><h1>第一页：认识毒品</h1><p>毒品是指鸦片、海洛因、甲基苯丙胺（冰毒）、吗啡、大麻、可卡因以及
国家规定管制的其他能够使人形成瘾癖的麻醉药品和精神药品。</p>
<div class="box"><p><b>记住：</b>不好奇、不尝试、不接受陌生人给的饮料和零食。</p></div></section>
<section><h1>第二页：新型毒品的伪装</h1><ul><li>“奶茶”“跳跳糖”“邮票”</li><li>“电子烟油”</li>
<li>“聪明药”</li></ul><p>外观和普通商品很像，遇到可疑物品要告诉老师和家长。</p></section>
<section><h1>第三页：学会拒绝</h1><p>坚定地说“不”，马上离开，寻求帮助。拨打 110 或告诉学校。</p></section>
</body></html>"""


def _upload(page, path: str) -> str:
    page.goto("/media/upload")
    page.set_input_files("#media-file", path)
    page.click("#media-start")
    page.wait_for_function(
        "['ready', 'failed'].includes(document.getElementById('media-upload').dataset.state)",
        timeout=120_000,
    )
    assert page.get_attribute("#media-upload", "data-state") == "ready"
    return page.get_attribute("#media-upload", "data-asset-id")


def _add_lesson(page, title: str, asset_id: str) -> None:
    with page.expect_navigation():
        page.get_by_role("link", name="添加课时").click()
    page.fill("input[name=title]", title)
    page.select_option("select[name=kind]", "document")
    page.select_option("select[name=asset_id]", asset_id)
    with page.expect_navigation():
        page.click("button.primary")


def test_a_student_reads_a_pdf_lesson_on_a_phone(new_page, shot, e2e_worker, tmp_path):
    maker = new_page()
    maker.set_content(HANDOUT)
    handout = tmp_path / "禁毒讲义.pdf"
    maker.pdf(path=str(handout), format="A4")
    cover = tmp_path / "cover.png"
    maker.set_content(
        "<body style='margin:0;background:#12355b;color:#fff;font:bold 40px sans-serif;"
        "display:flex;align-items:center;justify-content:center;height:560px'>家长读本</body>"
    )
    maker.set_viewport_size({"width": 400, "height": 560})
    maker.screenshot(path=str(cover))
    book = tmp_path / "家长读本.epub"
    book.write_bytes(make_epub(chapters=6, cover=cover.read_bytes()))

    teacher = new_page(viewport=PHONE)
    sign_in(teacher, "teacher1")
    pdf_id = _upload(teacher, str(handout))
    epub_id = _upload(teacher, str(book))
    teacher.goto("/courses/new")
    teacher.fill("input[name=title]", "五年级禁毒读本")
    teacher.select_option("select[name=audience]", "student")
    teacher.select_option("select[name=grade_band]", "upper_primary")
    teacher.select_option("select[name=category]", "courseware")
    with teacher.expect_navigation():
        teacher.click("button.primary")
    _add_lesson(teacher, "讲义：认识毒品", pdf_id)
    _add_lesson(teacher, "家长读本", epub_id)
    with teacher.expect_navigation():
        teacher.get_by_role("button", name="提交审核").click()

    admin = new_page(viewport=PHONE)
    sign_in(admin, "school_admin")
    admin.goto("/courses/review")
    card = admin.locator("section.card", has_text="五年级禁毒读本")
    with admin.expect_navigation():
        card.get_by_role("button", name="发布").click()

    student = new_page(viewport=PHONE, device_scale_factor=2)  # a phone's screen density
    sign_in(student, "student1")
    student.goto("/courses?q=禁毒读本")
    with student.expect_navigation():
        student.get_by_role("link", name="五年级禁毒读本").click()
    with student.expect_navigation():
        student.get_by_role("link", name="讲义：认识毒品", exact=True).click()
    pages = student.locator(".doc-page img")
    assert pages.count() == 3
    for index in range(3):
        pages.nth(index).scroll_into_view_if_needed()
    student.wait_for_function(
        "[...document.querySelectorAll('.doc-page img')].every(i => i.complete && i.naturalWidth > 0)",
        timeout=20_000,
    )
    # each page fills the phone's width, at a resolution that keeps the text sharp
    widths = student.evaluate(
        "[...document.querySelectorAll('.doc-page img')].map(i => [i.clientWidth, i.naturalWidth])"
    )
    assert all(300 <= shown <= PHONE["width"] and natural >= 2 * shown for shown, natural in widths)
    assert student.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert "PDF 文档，共 3 页" in student.inner_text(".doc-summary")
    student.evaluate("window.scrollTo(0, 0)")
    shot(student, "pdf")
    # a tap enlarges the page to twice the screen's width, readable, scrolled sideways
    first = student.locator(".doc-page").first
    first.click()
    assert first.get_attribute("aria-expanded") == "true"
    assert student.evaluate("document.querySelector('.doc-page img').clientWidth") >= 2 * 300
    assert student.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    student.screenshot(
        path=str(shot(student, "pdf-zoomed")), clip={"x": 0, "y": 230, "width": 360, "height": 400}
    )
    first.click()
    assert first.get_attribute("aria-expanded") == "false"
    href = student.get_attribute(".doc-summary a.button", "href")
    assert re.fullmatch(r"/media/doc/[^/]+/download", href)
    downloaded = student.request.get(href)
    assert downloaded.ok and downloaded.body().startswith(b"%PDF")
    assert downloaded.headers["content-disposition"].startswith("attachment;")

    student.go_back()
    with student.expect_navigation():
        student.get_by_role("link", name="家长读本", exact=True).click()
    student.wait_for_function(
        "document.querySelector('.doc-cover') && document.querySelector('.doc-cover').naturalWidth > 0"
    )
    assert "约 6 章" in student.inner_text(".doc-epub")
    assert student.get_by_role("link", name="下载电子书").is_visible()
    shot(student, "epub")
