"""Time up on a phone: a change made after the deadline (a device whose countdown ran slow, a
quiz closed early) is refused by the server; the page says so and submits what was saved in
time. And the multiple-answer question says how it is scored, to the student and its author."""

from __future__ import annotations

import re

import psycopg
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE, sign_in
from tests.e2e.test_quiz_attempt import answer_current, wait_saved

pytestmark = pytest.mark.e2e

#: a student of student1's class no other browser test signs in as
STUDENT = "s_S0101_5_06"


def _database(e2e_env):
    return psycopg.connect(
        e2e_env["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
    )


def test_a_change_after_the_deadline_is_refused_and_what_was_saved_is_submitted(
    new_page, shot, e2e_env
):
    page = new_page(viewport=PHONE)
    sign_in(page, STUDENT)
    page.goto("/quizzes")
    card = page.locator("section.card", has_text="禁毒知识小测验")
    with page.expect_navigation():
        card.get_by_role("button").click()
    attempt_id = int(re.search(r"/quizzes/attempts/(\d+)$", page.url)[1])

    # the multiple-answer question tells how it is scored
    multiple = page.locator('.question[data-type="multiple_choice"]')
    index = page.locator(".question").evaluate_all(
        "qs => qs.findIndex(q => q.dataset.type === 'multiple_choice')"
    )
    page.locator(f'.qdot[data-goto="{index}"]').click()
    expect(multiple.locator("legend")).to_have_text("可多选；每选错一项都要扣分")
    in_time = multiple.get_attribute("data-qid")
    with page.expect_response(
        lambda r: r.url.endswith(f"/answers/{in_time}") and r.request.method == "PUT" and r.ok
    ):
        multiple.locator("label.option", has_text="海洛因").locator("input").check()
    wait_saved(page)
    shot(page, "scoring")

    # the server's deadline passes (here: moved back past its few seconds of slack, the answer
    # above saved a minute before it) while the page still counts down
    with _database(e2e_env) as connection:
        connection.execute(
            "UPDATE quiz_attempts SET deadline_at = now() - interval '6 seconds' WHERE id = %s",
            (attempt_id,),
        )
        connection.execute(
            "UPDATE quiz_attempt_slots SET saved_at = saved_at - interval '1 minute'"
            " WHERE attempt_id = %s AND seq > 0",
            (attempt_id,),
        )
    held = []
    page.route(f"**/api/v1/attempts/{attempt_id}/submit", lambda route: held.append(route))
    page.click("#next" if page.locator("#next").is_visible() else "#prev")
    late = answer_current(page)
    error = page.locator("#attempt-error")
    expect(error).to_have_text(
        "时间已到：最后的修改晚于截止时间，没有保存。正在提交截止前已保存的答案。"
    )
    expect(page.locator("#save-state")).to_have_text("时间到，正在交卷…")
    expect(page.locator("#countdown")).to_have_text("00:00")
    expect(page.locator("#submit")).to_be_disabled()
    shot(page, "refused")
    assert len(held) == 1
    with page.expect_navigation():
        held[0].continue_()
    assert page.locator("#score").is_visible()
    shot(page, "result")

    with _database(e2e_env) as connection:
        state, reason, score = connection.execute(
            "SELECT state, closed_reason, score FROM quiz_attempts WHERE id = %s", (attempt_id,)
        ).fetchone()
        seqs = dict(
            connection.execute(
                "SELECT question_id, seq FROM quiz_attempt_slots WHERE attempt_id = %s",
                (attempt_id,),
            ).fetchall()
        )
    assert (state, reason) == ("finished", "submitted")  # within the grace
    assert seqs[int(in_time)] >= 1 and seqs[int(late)] == 0
    # one of three drugs ticked, no wrong option: a third of the question's 10 points
    assert round(score, 2) == 3.33


def test_the_author_chooses_how_a_multiple_answer_question_is_scored(new_page, shot):
    page = new_page(viewport=PHONE)
    sign_in(page, "pref_admin")
    page.goto("/quizzes/banks")
    with page.expect_navigation():
        page.click("text=禁毒知识题库（示范）")
    with page.expect_navigation():
        page.click("text=下列哪些属于毒品？")
    scoring = page.locator("fieldset.scoring-edit")
    expect(scoring.locator("legend")).to_have_text("计分方式")
    assert scoring.locator("input:checked").get_attribute("value") == "错选扣分"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    scoring.scroll_into_view_if_needed()
    shot(page, "editor")
