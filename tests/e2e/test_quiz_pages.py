"""Campaign, survey and question pages in a real browser, on a phone and a desktop.

A county admin sends an anonymous knowledge survey through the campaign page, five pupils take
it on phones (a reload in the middle resumes the session kept outside the database), and the
results page shows the rates; a bank author edits a question and browses its history.
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import DESKTOP, PHONE, assert_fits, sign_in

pytestmark = pytest.mark.e2e

PUPILS = ["student1", "s_S0101_5_01", "s_S0101_5_02", "s_S0101_5_03", "s_S0101_5_04"]
TITLE = "秋季禁毒知晓率调查（匿名）"


def send_survey(new_page, shot) -> str:
    page = new_page(viewport=PHONE)
    sign_in(page, "county_admin")
    page.goto("/quizzes/campaigns")
    with page.expect_navigation():
        page.click("text=发送期末考试或问卷")
    assert_fits(page, PHONE)
    shot(page, "campaign-form-phone")
    page.fill("input[name=title]", TITLE)
    page.select_option("select[name=kind]", "survey")
    page.select_option("select[name=source]", "template:knowledge")
    page.check("input[name=anonymous]")
    page.check('input[name=grade_levels][value="5"]')
    page.fill("input[name=closes_at]", "2099-06-30T18:00")
    with page.expect_navigation():
        page.click("button[type=submit].primary")
    assert "调度已发送" in page.content(), page.content()[:3000]
    assert re.search(r"/quizzes/campaigns/\d+$", page.url)
    return page.url


def take(new_page, shot, username: str, *, reload_midway: bool = False) -> None:
    page = new_page(viewport=PHONE)
    sign_in(page, username)
    page.goto("/quizzes")
    with page.expect_navigation():
        page.locator("section.card", has_text=TITLE).get_by_role("button").click()
    assert "/quizzes/surveys/" in page.url
    assert "匿名" in page.locator(".attempt-bar").inner_text()
    count = page.locator(".question").count()
    for n in range(count):
        question = page.locator(".question.shown")
        with page.expect_response(lambda r: "/answers/" in r.url and r.request.method == "PUT"):
            question.locator('input[value="true"]').check()
        if reload_midway and n == 1:
            shot(page, "survey-phone")
            assert_fits(page, PHONE)
            page.reload()  # the session (and the two answers) live in Redis, not in the database
            assert page.locator(".qdot.answered").count() == 2
        if n < count - 1:
            page.click("#next")
    page.on("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.click("#submit")
    assert "已匿名提交" in page.content()


def test_anonymous_survey_from_campaign_page_to_results(new_page, shot):
    campaign_url = send_survey(new_page, shot)
    campaign_path = campaign_url.split("://", 1)[1].split("/", 1)[1]
    take(new_page, shot, PUPILS[0], reload_midway=True)
    for username in PUPILS[1:]:
        take(new_page, shot, username)
    for label, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page = new_page(viewport=viewport)
        sign_in(page, "county_admin")
        page.goto(f"/{campaign_path}/survey")
        text = page.locator("main").inner_text()
        assert "知晓率" in text and "回答数" in text, text
        assert "5" in page.locator(".metric-rate").first.inner_text()
        assert page.locator(".dist li").count() >= 10  # 5 statements × (对, 错)
        assert_fits(page, viewport)
        shot(page, f"survey-results-{label}")
    page = new_page(viewport=DESKTOP)
    sign_in(page, "county_admin")
    page.goto("/quizzes/campaigns/new")
    shot(page, "campaign-form-desktop")

    # a prefecture has over a thousand schools: typing part of a name narrows the picker
    page = new_page(viewport=PHONE)
    sign_in(page, "pref_admin")
    page.goto("/quizzes/campaigns/new")
    schools = page.locator(".unit-grid label")

    def visible() -> list[str]:
        return [schools.nth(i).inner_text().strip() for i in range(schools.count())
                if schools.nth(i).is_visible()]  # fmt: skip

    page.fill("#unit-filter", "民族")
    assert visible() == ["山区县民族中学"]
    assert page.locator(".unit-group", has_text="示范市").is_hidden()
    assert_fits(page, PHONE)
    shot(page, "campaign-form-school-search-phone")
    page.fill("#unit-filter", "示范市")  # a county's name shows all of its schools
    assert visible() == ["示范市第一小学", "示范市第二中学"]
    page.fill("#unit-filter", "不存在的学校")
    assert visible() == [] and page.locator("#unit-filter-none").is_visible()
    page.fill("#unit-filter", "")
    assert page.locator("#unit-filter-none").is_hidden()

    # the school reminds those who have not taken it; a pupil finds the notice on the home page
    page = new_page(viewport=PHONE)
    sign_in(page, "school_admin")
    page.goto(f"/{campaign_path}")
    with page.expect_navigation():
        page.click("text=发送提醒")
    assert re.search(r"已向 \d+ 人发送提醒", page.content())
    shot(page, "reminded-phone")
    pupil = new_page(viewport=PHONE)
    sign_in(pupil, "s_S0101_5_08")
    main = pupil.locator("main").inner_text()
    assert TITLE in main, main
    assert_fits(pupil, PHONE)
    shot(pupil, "pupil-home-with-reminder-phone")
    with pupil.expect_navigation():
        pupil.locator("a[href*='/quizzes#quiz-']", has_text=TITLE).first.click()
    assert pupil.locator("section.card", has_text=TITLE).get_by_role("button").is_visible()


def test_question_edit_and_history(new_page, shot):
    for label, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page = new_page(viewport=viewport)
        sign_in(page, "pref_admin")
        page.goto("/quizzes/banks")
        with page.expect_navigation():
            page.click("text=禁毒知识题库（示范）")
        with page.expect_navigation():
            page.locator(".question-list a").first.click()
        assert page.locator("#question-form").is_visible()
        assert_fits(page, viewport)
        shot(page, f"question-edit-{label}")
        if label == "phone":
            stem = page.locator("textarea[name=stem]")
            stem.fill(stem.input_value() + "（修订版）")
            with page.expect_navigation():
                page.click("#question-form button[type=submit]")
            assert "已保存为第 2 版" in page.content()
        else:
            assert page.locator(".versions li").count() == 2
            with page.expect_navigation():
                page.click(".versions li >> nth=1 >> a")
            assert "第 1 版" in page.locator("#shown-version").inner_text()
            shot(page, "question-history-desktop")


def test_question_picture_uploaded_and_shown_in_the_attempt(new_page, shot, e2e_worker, tmp_path):
    import subprocess

    picture = tmp_path / "poster.png"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=480x270",
         "-frames:v", "1", str(picture)],
        check=True, timeout=60,
    )  # fmt: skip
    page = new_page(viewport=DESKTOP)
    sign_in(page, "pref_admin")
    page.goto("/quizzes/banks")
    with page.expect_navigation():
        page.click("text=禁毒知识题库（示范）")
    with page.expect_navigation():
        page.locator(".question-list a").nth(2).click()
    question_url = page.url
    page.set_input_files("#media-file", str(picture))
    page.click("#media-start")
    page.wait_for_selector("#media-attached:not([hidden])", timeout=60_000)
    with page.expect_navigation():
        page.click("#question-form button[type=submit]")
    assert page.locator(".question-media img").count() == 1
    shot(page, "question-with-picture-desktop")

    # a pupil of the class meets it in the demo quiz, through a signed, short-lived URL
    phone = new_page(viewport=PHONE)
    sign_in(phone, "s_S0101_5_07")
    phone.goto("/quizzes")
    with phone.expect_navigation():
        phone.locator("section.card", has_text="禁毒知识小测验").get_by_role("button").click()
    with_picture = phone.locator(".question", has=phone.locator(".question-media img"))
    assert with_picture.count() == 1, question_url
    index = phone.locator(".question").evaluate_all(
        "(qs) => qs.findIndex((q) => q.querySelector('.question-media img'))"
    )
    phone.locator(".qdot").nth(index).click()
    image = with_picture.locator("img")
    assert "/media/" in image.get_attribute("src")
    phone.wait_for_function(
        "(img) => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )
    shot(phone, "attempt-with-picture-phone")
