"""A county's term exam as the class teacher and the school admin follow it on phones (issue 14,
points 10, 14 and 16): the campaign page links to the scores of their part, the pass rate waits
while a short answer waits for its grade, the grading page takes points beside the reference
answer, and after the grade both pages give the same rate.

The county admin sends the demo quiz's ten questions (a short answer among them) to grade 5;
student1 takes it through the API and answers the short answer only.
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import PHONE, sign_in

pytestmark = pytest.mark.e2e

TITLE = "秋季禁毒知识期末测评"


def send_exam(new_page) -> str:
    page = new_page(viewport=PHONE)
    sign_in(page, "county_admin")
    page.goto("/quizzes/campaigns/new")
    page.fill("input[name=title]", TITLE)
    page.select_option("select[name=kind]", "exam")
    source = page.locator("select[name=source] option", has_text="禁毒知识小测验").get_attribute(
        "value"
    )
    page.select_option("select[name=source]", source)
    page.check('input[name=grade_levels][value="5"]')
    page.fill("input[name=closes_at]", "2099-06-30T18:00")
    with page.expect_navigation():
        page.click("button[type=submit].primary")
    assert re.search(r"/quizzes/campaigns/\d+$", page.url), page.content()[:2000]
    return page.url.rsplit("/", 1)[-1]


def take_by_api(page, username: str, *, short_answer: str | None) -> None:
    """A pupil's attempt through the API: every question left blank but the short answer."""
    token = page.request.post(
        "/api/v1/auth/token", data={"username": username, "password": "demo1234"}
    ).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    quizzes = page.request.get("/api/v1/quizzes", headers=headers).json()
    quiz_id = next(q["id"] for q in quizzes if q["title"] == TITLE)
    attempt = page.request.post(f"/api/v1/quizzes/{quiz_id}/attempts", headers=headers).json()
    for question in attempt["questions"]:
        if question["type"] == "short_answer" and short_answer:
            saved = page.request.put(
                f"/api/v1/attempts/{attempt['attempt_id']}/answers/{question['id']}",
                data={"answer": short_answer, "seq": 1},
                headers=headers,
            )
            assert saved.ok, saved.text()
    done = page.request.post(f"/api/v1/attempts/{attempt['attempt_id']}/submit", headers=headers)
    assert done.ok, done.text()


def metric(page, label: str) -> str:
    return (
        page.locator(".metric", has=page.locator(".metric-label", has_text=label))
        .locator(".metric-rate")
        .inner_text()
        .strip()
    )


def test_class_teacher_and_school_admin_follow_grade_and_see_one_rate(new_page, shot):
    campaign_id = send_exam(new_page)
    api = new_page(viewport=PHONE)
    take_by_api(api, "student1", short_answer="告诉老师和家长，\n坚决拒绝。")

    for who, name in (("teacher1", "teacher"), ("school_admin", "school-admin")):
        page = new_page(viewport=PHONE)
        sign_in(page, who)
        page.goto(f"/quizzes/campaigns/{campaign_id}")
        assert metric(page, "及格率") == "待批改"  # not a pass: the short answer waits
        shot(page, f"campaign-{name}-phone")
        with page.expect_navigation():
            page.click("text=成绩与题目分析")
        assert "/results?unit=" in page.url
        assert "王小明" in page.content()
        assert page.locator("text=修改设置").count() == 0  # results, no editing
        shot(page, f"results-{name}-phone")
        with page.expect_navigation():
            page.click("a.chip:has-text('批改')")
        assert "参考答案" in page.content()  # both grade the class's answers
        shot(page, f"grade-{name}-phone")

    # the class teacher grades the short answer in points, beside the reference answer
    teacher = new_page(viewport=PHONE)
    sign_in(teacher, "teacher1")
    teacher.goto(f"/quizzes/campaigns/{campaign_id}")
    with teacher.expect_navigation():
        teacher.click("text=成绩与题目分析")
    assert metric(teacher, "及格率") == "待批改"  # the same count on both pages
    assert "等待教师批改" in teacher.content()
    with teacher.expect_navigation():
        teacher.click("a.chip:has-text('批改')")
    assert "参考答案" in teacher.content() and "坚决拒绝" in teacher.content()
    points = teacher.locator("input[type=number]")
    assert points.get_attribute("max") == "10.0"
    shot(teacher, "grade-teacher-phone")
    points.fill("8.5")
    with teacher.expect_navigation():
        teacher.click("button[type=submit].primary")
    assert "等待教师批改" not in teacher.content()
    shot(teacher, "results-after-grading-teacher-phone")
    results_rate = metric(teacher, "及格率")
    teacher.goto(f"/quizzes/campaigns/{campaign_id}")
    assert metric(teacher, "及格率") == results_rate != "待批改"

    admin = new_page(viewport=PHONE)
    sign_in(admin, "school_admin")
    admin.goto(f"/quizzes/campaigns/{campaign_id}")
    assert metric(admin, "及格率") == results_rate
    shot(admin, "campaign-after-grading-school-admin-phone")
