"""Authoring on a phone: reorder lessons, remove one after a confirmation page; learners keep the
published order and lessons until the course is published again."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import PHONE, sign_in

pytestmark = pytest.mark.e2e

COURSE = "家长学校：守护孩子远离毒品"
TEXT_LESSON = "识别伪装成零食饮料的新型毒品"
VIDEO_LESSON = "视频：家长的三个守护动作"


def _lessons(page) -> list[str]:
    return page.locator("ol.lessons > li > a:first-child").all_inner_texts()


def test_an_author_reorders_and_removes_lessons_on_a_phone(new_page, shot):
    author = new_page(viewport=PHONE)
    sign_in(author, "pref_admin")
    author.goto("/courses/authoring")
    with author.expect_navigation():
        author.get_by_role("link", name=COURSE).click()
    edit_url = author.url
    assert _lessons(author) == [TEXT_LESSON, VIDEO_LESSON]
    with author.expect_navigation():
        author.get_by_role("button", name=f"上移课时“{VIDEO_LESSON}”").click()
    assert _lessons(author) == [VIDEO_LESSON, TEXT_LESSON]
    assert author.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(author, "reordered")

    with author.expect_navigation():
        author.get_by_role("link", name=f"删除课时“{TEXT_LESSON}”").click()
    assert f"删除课时“{TEXT_LESSON}”？" in author.inner_text("h1")
    shot(author, "confirm")
    with author.expect_navigation():
        author.get_by_role("link", name="取消").click()
    assert author.url == edit_url and _lessons(author) == [VIDEO_LESSON, TEXT_LESSON]
    with author.expect_navigation():
        author.get_by_role("link", name=f"删除课时“{TEXT_LESSON}”").click()
    with author.expect_navigation():
        author.get_by_role("button", name="确认删除").click()
    assert _lessons(author) == [VIDEO_LESSON]
    assert "本草稿中已删除" in author.inner_text("main")
    shot(author, "removed")

    # a parent still sees version 1: both lessons, in their published order
    parent = new_page(viewport=PHONE)
    sign_in(parent, "parent1")
    parent.goto("/courses?q=家长学校")
    with parent.expect_navigation():
        parent.get_by_role("link", name=COURSE).click()
    text = parent.inner_text("main")
    assert text.index(TEXT_LESSON) < text.index(VIDEO_LESSON)
