"""A teacher manages a quiz on a phone: builds a draft, edits its settings, publishes it, closes it
while a student is taking it, and is told why it cannot be deleted afterwards."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE, assert_fits, sign_in

pytestmark = pytest.mark.e2e

TITLE = "周测：识别毒品"


def test_teacher_edits_publishes_closes_and_cannot_delete_a_taken_quiz(new_page, shot):
    teacher = new_page(viewport=PHONE)
    sign_in(teacher, "teacher1")
    teacher.goto("/quizzes/new")
    teacher.fill("input[name=title]", TITLE)
    teacher.fill("input[name=time_limit_minutes]", "5")
    boxes = teacher.locator("input[name=question_id]")
    boxes.nth(0).check()
    boxes.nth(1).check()
    teacher.uncheck("input[name=publish]")
    with teacher.expect_navigation():
        teacher.click("button[type=submit].primary")
    results_url = teacher.url
    assert re.search(r"/quizzes/\d+/results$", results_url)
    expect(teacher.locator("h1")).to_contain_text("草稿")
    expect(teacher.locator(".quiz-manage")).to_contain_text("5 分钟")
    assert_fits(teacher, PHONE)
    shot(teacher, "manage-draft-phone")

    with teacher.expect_navigation():
        teacher.click("text=修改设置")
    assert_fits(teacher, PHONE)
    assert teacher.input_value("input[name=title]") == TITLE
    assert teacher.input_value("input[name=time_limit_minutes]") == "5"
    teacher.fill("input[name=time_limit_minutes]", "15")
    teacher.fill("input[name=closes_at]", "2099-06-30T18:00")
    shot(teacher, "manage-settings-phone")
    with teacher.expect_navigation():
        teacher.click("button[type=submit].primary")
    assert teacher.url == results_url
    expect(teacher.locator(".flash.success")).to_contain_text("设置已保存")
    expect(teacher.locator(".quiz-manage")).to_contain_text("15 分钟")
    expect(teacher.locator(".quiz-manage")).to_contain_text("2099")

    with teacher.expect_navigation():
        teacher.click("button:has-text('发布')")
    expect(teacher.locator("h1")).to_contain_text("已发布")

    student = new_page(viewport=PHONE)
    sign_in(student, "student1")
    student.goto("/quizzes")
    card = student.locator("section.card", has_text=TITLE)
    with student.expect_navigation():
        card.get_by_role("button").click()
    assert "/quizzes/attempts/" in student.url

    teacher.reload()
    expect(teacher.locator(".quiz-manage")).to_contain_text("1 人正在作答")
    expect(teacher.locator("text=撤回")).to_have_count(0)  # taken: close it, don't withdraw it
    messages: list[str] = []
    teacher.once("dialog", lambda dialog: (messages.append(dialog.message), dialog.accept()))
    with teacher.expect_navigation():
        teacher.click("button:has-text('立即截止')")
    assert "1" in messages[0] and "保存" in messages[0]
    expect(teacher.locator(".flash.success")).to_contain_text("测验已截止")
    expect(teacher.locator("h1")).to_contain_text("已截止")
    expect(teacher.locator(".quiz-manage a.danger")).to_have_count(0)
    shot(teacher, "manage-closed-phone")

    # the student's page asks the server's clock when shown again: the close ended the attempt
    # early, the countdown runs out and the page hands the answers in
    expect(student.locator("#countdown")).to_contain_text("14:")
    with student.expect_navigation():  # to the same address, now the result
        student.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    expect(student.locator("#countdown")).to_have_count(0)
    expect(student.locator("main")).to_contain_text(TITLE)
    shot(student, "manage-closed-student-handed-in-phone")

    student.goto("/quizzes")
    expect(student.locator("section.card", has_text=TITLE)).to_have_count(0)

    teacher.goto(results_url.replace("/results", "/delete"))
    expect(teacher.locator("h1")).to_contain_text("无法删除")
    expect(teacher.locator("main")).to_contain_text("1 人次作答")
    assert_fits(teacher, PHONE)
    shot(teacher, "manage-delete-blocked-phone")


def test_bank_author_searches_takes_a_question_out_and_puts_it_back(new_page, shot):
    page = new_page(viewport=PHONE)
    sign_in(page, "pref_admin")
    page.goto("/quizzes/banks")
    with page.expect_navigation():
        page.click("text=禁毒知识题库（示范）")
    bank_url = page.url
    total = int(re.search(r"(\d+) 道题", page.locator("p.muted").first.inner_text()).group(1))
    page.fill("input[name=q]", "毒品")
    page.select_option("select[name=type]", "single_choice")
    with page.expect_navigation():
        page.click(".bank-filters button[type=submit]")
    assert "type=single_choice" in page.url
    expect(page.locator(".bank-filters select[name=type]")).to_have_value("single_choice")
    expect(page.locator("main")).to_contain_text("找到")
    assert_fits(page, PHONE)
    shot(page, "bank-search-phone")

    first = page.locator(".question-list li a").first
    name = first.inner_text()
    with page.expect_navigation():
        first.click()
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.click("button.danger:has-text('移出题库')")
    assert page.url == bank_url
    expect(page.locator(".flash.success")).to_contain_text("题目已移出题库")
    expect(page.locator("p.muted").first).to_contain_text(f"{total - 1} 道题")
    with page.expect_navigation():
        page.click("text=已移出 1 道")
    expect(page.get_by_role("heading", name="已移出题库的题目")).to_be_visible()
    with page.expect_navigation():
        page.click(f".question-list li a:has-text('{name}')")
    expect(page.locator(".archived-note")).to_be_visible()
    assert_fits(page, PHONE)
    shot(page, "question-archived-phone")
    with page.expect_navigation():
        page.click("text=放回题库")
    expect(page.locator(".flash.success")).to_contain_text("题目已放回题库")
    page.goto(bank_url)
    expect(page.locator("p.muted").first).to_contain_text(f"{total} 道题")
