"""A student takes the demo's timed quiz on a phone: answers autosave, a reload resumes where they
were, the countdown comes from the server, submitting shows the review the policy allows."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE, sign_in

pytestmark = pytest.mark.e2e


def answer_current(page) -> str:
    """Answer the question on screen, whatever its type; returns its id."""
    question = page.locator(".question.shown")
    kind = question.get_attribute("data-type")
    if kind in {"single_choice", "multiple_choice", "true_false"}:
        question.locator("input").first.check()
    elif kind in {"fill_blank", "numerical"}:
        question.locator("input.blank").first.fill("吸")
    elif kind == "short_answer":
        question.locator("textarea").fill("告诉他毒品的危害，一起远离毒品。")
    elif kind == "matching":
        for select in question.locator("select").all():
            select.select_option(index=1)
    elif kind == "ordering":
        question.locator("button.down").first.click()
    return question.get_attribute("data-qid")


def answer_and_wait(page) -> str:
    """Answer the question on screen and wait until the server has acknowledged the save.

    Typed answers are saved 800 ms after the last keystroke, and the status line already says
    "saved" from before, so waiting on it alone can let a reload overtake the save; the response
    waited for is this question's (a previous question's second save must not stand in for it).
    """
    qid = page.locator(".question.shown").get_attribute("data-qid")
    with page.expect_response(
        lambda r: r.url.endswith(f"/answers/{qid}") and r.request.method == "PUT" and r.ok
    ):
        assert answer_current(page) == qid
    wait_saved(page)
    return qid


def wait_saved(page) -> None:
    page.wait_for_function(
        "document.getElementById('save-state').textContent.includes('所有答案已保存')"
    )


def test_student_takes_a_timed_quiz_on_a_phone(new_page, shot):
    page = new_page(viewport=PHONE)
    sign_in(page, "student1")
    page.goto("/quizzes")
    card = page.locator("section.card", has_text="禁毒知识小测验")
    # while the start is on its way (a whole school starting at once: many seconds), the button
    # says so and a second submit sends nothing; here the page keeps the first from leaving
    page.evaluate(
        """() => {
            window.submits = [];
            window.addEventListener("submit", (event) => {
                window.submits.push(event.defaultPrevented);
                event.preventDefault();
            });
        }"""
    )
    start = card.get_by_role("button")
    start.click()
    expect(start).to_be_disabled()
    assert start.inner_text() == "正在进入，请稍候…"
    shot(page, "starting")
    card.locator("form[data-busy]").evaluate("form => form.requestSubmit()")
    # the first went on (only this test stopped it), the second was stopped by the page itself
    assert page.evaluate("window.submits") == [False, True]
    page.goto("/quizzes")
    with page.expect_navigation():
        card.get_by_role("button").click()
    assert re.search(r"/quizzes/attempts/\d+$", page.url)
    countdown = page.locator("#countdown")
    assert re.fullmatch(r"(09:[0-5]\d|10:00)", countdown.inner_text())
    # the first question has nowhere to go back to (a `hidden` button must stay hidden)
    expect(page.locator("#prev")).to_be_hidden()
    first = answer_and_wait(page)
    page.click("#next")
    second = answer_and_wait(page)
    shot(page, "answering")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    page.reload()  # a lost connection, a closed tab: the server has the answers and the clock
    assert page.locator(".question.shown").get_attribute("data-qid") == second
    for qid in (first, second):
        assert int(page.locator(f'.question[data-qid="{qid}"]').get_attribute("data-seq")) >= 1
    assert page.locator(".qdot.answered").count() >= 2
    assert re.fullmatch(r"(09:[0-5]\d|10:00)", countdown.inner_text())
    shot(page, "resumed")

    page.on("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.click("#submit")
    assert page.locator("#score").is_visible()
    assert "答案解析" in page.content() and "正确答案" in page.content()
    shot(page, "review")


def test_teacher_pages_on_a_phone(new_page, shot):
    page = new_page(viewport=PHONE)
    sign_in(page, "teacher1")
    for name, path in (
        ("quizzes", "/quizzes"),
        ("banks", "/quizzes/banks"),
        ("builder", "/quizzes/new"),
    ):
        response = page.goto(path)
        assert response.status == 200, path
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], path
        shot(page, name)
    page.goto("/quizzes/banks")
    with page.expect_navigation():  # content() right after a click may read the old page
        page.click("text=禁毒知识题库（示范）")
    assert "单选题" in page.content()
    shot(page, "bank")
    page.goto("/quizzes")
    with page.expect_navigation():
        page.click("text=禁毒知识小测验")
    assert "试题分析" in page.content()
    shot(page, "results")
