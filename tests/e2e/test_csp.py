"""The Content-Security-Policy in Chromium: the harness fails any test whose pages break it, and
the behaviours that moved out of inline code (data-confirm) still work."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import PHONE, sign_in

pytestmark = pytest.mark.e2e


def test_the_harness_reports_what_the_policy_refuses(new_page, csp_violations):
    page = new_page(viewport=PHONE)
    page.goto("/login")
    assert not csp_violations  # the page itself is clean
    page.evaluate(
        """() => {
          const script = document.createElement("script");
          script.textContent = "window.__inline = 1";
          document.body.appendChild(script);
          document.body.insertAdjacentHTML("beforeend",
            '<img src="data:," onerror="window.__handler = 1"><p style="color:red">x</p>');
        }"""
    )
    expected = ("script-src-elem refused inline", "script-src-attr", "style-src-attr")
    for _ in range(100):  # the browser reports them as it meets them
        refused = "\n".join(csp_violations)
        if all(what in refused for what in expected):
            break
        page.wait_for_timeout(100)
    assert page.evaluate("window.__inline") is None and page.evaluate("window.__handler") is None
    assert re.search(r"script-src-elem refused inline", refused), refused
    assert re.search(r"script-src-attr refused inline", refused), refused
    assert re.search(r"style-src-attr refused inline", refused), refused
    csp_violations.clear()  # provoked on purpose: the test passes


def test_a_form_with_data_confirm_asks_before_it_is_sent(new_page, shot):
    page = new_page(viewport=PHONE)
    sign_in(page, "school_admin")
    page.goto("/admin/units")
    with page.expect_navigation():
        page.locator("main ul.list li a").first.click()  # a grade of the school
    grade_url = page.url
    with page.expect_navigation():
        page.locator("a[href$='/children/new']").click()
    page.fill("input[name=name]", "待删除的测试班")
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert "待删除的测试班" in page.inner_text("h1")
    unit_url = page.url
    posts: list[str] = []
    page.on("request", lambda request: request.method == "POST" and posts.append(request.url))

    questions: list[str] = []

    def dismiss(dialog) -> None:
        questions.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.click("form.danger-zone button[type=submit]")
    page.evaluate("1")  # a round trip: a submission would have started by now
    assert questions and "待删除的测试班" in questions[0], questions
    assert page.url == unit_url and not posts, posts  # cancelled: nothing was sent

    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.click("form.danger-zone button[type=submit]")
    assert page.url == grade_url  # deleted: back on the grade
    shot(page, "deleted")
    assert page.goto(unit_url).status == 404
