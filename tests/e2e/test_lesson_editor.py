"""An author writes a lesson in the text editor on a phone and publishes it after a video
lesson; a student watches the video to its end, follows the "next lesson" button and reads the
text as it was written (paragraphs, bold, a list)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE, sign_in

pytestmark = pytest.mark.e2e

COURSE = "编辑器与下一课时"


def test_lesson_editor_and_next_lesson(new_page, shot):
    author = new_page(viewport=PHONE)
    errors: list[str] = []
    author.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(author, "pref_admin")
    author.goto("/courses/new")
    author.fill("input[name=title]", COURSE)
    author.select_option("select[name=audience]", "student")
    author.select_option("select[name=grade_band]", "upper_primary")
    author.select_option("select[name=category]", "audio_video")
    with author.expect_navigation():
        author.click("button.primary")
    course_id = re.search(r"/courses/(\d+)/edit$", author.url).group(1)

    # a video lesson first: one of the demo's clips, which pref_admin uploaded
    with author.expect_navigation():
        author.get_by_role("link", name="添加课时").click()
    author.fill("input[name=title]", "短片：远离毒品")
    author.select_option("select[name=kind]", "video")
    author.select_option("select[name=asset_id]", index=1)
    with author.expect_navigation():
        author.click("button.primary")

    # then a text lesson, written in the editor (the textarea gives way to it)
    with author.expect_navigation():
        author.get_by_role("link", name="添加课时").click()
    editor = author.locator(".lesson-editor .ql-editor")
    expect(editor).to_be_visible()
    assert not author.locator("textarea[name=body_html]").is_visible()
    assert author.locator(".lesson-editor button.ql-bold").get_attribute("aria-label") == "加粗"
    author.fill("input[name=title]", "三句话")
    author.select_option("select[name=kind]", "rich_text")
    editor.click()
    author.keyboard.type("远离毒品，从我做起")
    author.keyboard.press("Enter")
    author.locator(".lesson-editor button.ql-bold").click()
    author.keyboard.type("记住三句话")
    author.locator(".lesson-editor button.ql-bold").click()
    author.keyboard.press("Enter")
    author.locator('.lesson-editor button.ql-list[value="bullet"]').click()
    author.keyboard.type("不好奇")
    author.keyboard.press("Enter")
    author.keyboard.type("不尝试")
    expect(editor.locator("ol li")).to_have_count(2)
    shot(author, "editor")
    assert author.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    with author.expect_navigation():
        author.click("button.primary")
    with author.expect_navigation():
        author.get_by_role("button", name="提交审核").click()
    author.goto("/courses/review")
    with author.expect_navigation():
        author.locator("section.card", has_text=COURSE).get_by_role("button", name="发布").click()
    assert not errors, errors

    student = new_page(viewport=PHONE)
    sign_in(student, "student1")
    student.goto(f"/courses/{course_id}")
    with student.expect_navigation():
        student.get_by_role("link", name="短片：远离毒品", exact=True).click()
    next_button = student.locator("#next-lesson")
    assert next_button.is_hidden()  # offered when the lesson ends
    student.locator("#lesson-player-media").wait_for()
    student.evaluate(
        """() => {
            const video = document.getElementById('lesson-player-media');
            video.muted = true;
            video.addEventListener('loadedmetadata', () => { video.currentTime = video.duration - 1; });
            video.play();
        }"""
    )
    expect(next_button).to_be_visible(timeout=30_000)
    assert "下一课时：三句话" in next_button.inner_text()
    shot(student, "next-lesson")
    with student.expect_navigation():
        next_button.get_by_role("link").click()
    text = student.locator(".rich-text")
    assert text.locator("p").first.inner_text() == "远离毒品，从我做起"
    assert text.locator("strong").inner_text() == "记住三句话"
    assert text.locator("ul li").all_inner_texts() == ["不好奇", "不尝试"]
    assert "&nbsp;" not in text.inner_html()
    # the last lesson offers no next one
    assert student.locator("#next-lesson").count() == 0
    shot(student, "text-lesson")
