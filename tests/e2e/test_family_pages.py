"""The child view on a 360 px phone: parent1 opens student1's page and sees a course's progress;
student1 then watches a video lesson through the API the player uses (its heartbeats, credited by
the server's clock), and parent1's page, reloaded, shows the progress risen. The guardian's course
page shows the child's progress, read-only."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
import requests

from tests.e2e.conftest import PHONE, assert_fits, sign_in

pytestmark = pytest.mark.e2e


def _token(base_url: str, username: str) -> dict[str, str]:
    response = requests.post(
        f"{base_url}/api/v1/auth/token",
        json={"username": username, "password": "demo1234"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def _get(base_url: str, path: str, headers: dict[str, str]) -> Any:
    response = requests.get(f"{base_url}/api/v1{path}", headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def _student1(base_url: str, parent: dict[str, str]) -> dict:
    """student1 (王小明) as parent1's ``GET /me/children`` gives them."""
    children = _get(base_url, "/me/children", parent)
    return next(child for child in children if child["name"] == "王小明")


def _video_lesson(base_url: str, student: dict[str, str], parent: dict[str, str]) -> tuple:
    """A course of student1's with a playable video lesson not completed yet: (course id,
    lesson id, duration)."""
    child = _student1(base_url, parent)
    for course in child["courses"]:
        detail = _get(base_url, f"/courses/{course['course_id']}", student)
        for unit in detail["units"]:
            for lesson in unit["lessons"]:
                if lesson["playable"] and lesson["duration_seconds"] and not lesson["completed"]:
                    return course["course_id"], lesson["id"], lesson["duration_seconds"]
    pytest.fail(f"no video lesson for student1 in {child['courses']}")


def _watch(base_url: str, student: dict[str, str], lesson_id: int, duration: float) -> dict:
    """Heartbeats as the player sends them while playing: the position moves with real time."""
    position, result = 0.0, {}
    while True:
        response = requests.post(
            f"{base_url}/api/v1/lessons/{lesson_id}/heartbeats",
            json={"position": position, "playing": position < duration},
            headers=student,
            timeout=30,
        )
        assert response.status_code == 200, response.text
        result = response.json()
        if result["completed"] or position >= duration:
            return result
        time.sleep(2.5)
        position = min(duration, position + 2.5)


def _count(page: Any, course_id: int) -> int:
    text = page.inner_text(f"details[data-course='{course_id}'] .course-count")
    return int(re.search(r"\d+", text).group(0))


def test_parent_sees_the_childs_progress_rise_on_a_phone(new_page, shot, live_url):
    student = _token(live_url, "student1")
    parent_api = _token(live_url, "parent1")
    course_id, lesson_id, duration = _video_lesson(live_url, student, parent_api)
    child_id = _student1(live_url, parent_api)["id"]

    parent = new_page(viewport=PHONE)
    sign_in(parent, "parent1")
    parent.goto("/")
    with parent.expect_navigation():
        parent.get_by_role("link", name="王小明").first.click()
    assert parent.url.endswith(f"/family/children/{child_id}")
    before = _count(parent, course_id)
    assert "王小明" in parent.inner_text("h1")
    assert_fits(parent)
    shot(parent, "child-before")

    result = _watch(live_url, student, lesson_id, duration)
    assert result["completed"], result

    parent.reload()
    assert _count(parent, course_id) == before + 1
    parent.click(f"details[data-course='{course_id}'] summary")
    assert "已完成" in parent.inner_text(f"details[data-course='{course_id}'] .lessons")
    assert_fits(parent)
    shot(parent, "child-after")

    # the course page: the child's progress, read-only (no "continue" for the guardian)
    with parent.expect_navigation():
        parent.click(f"details[data-course='{course_id}'] a")
    assert "王小明 的学习进度（只读）" in parent.inner_text("main")
    assert parent.locator("a.button.primary").count() == 0
    assert f"已完成 {before + 1} /" in parent.inner_text("main")
    assert_fits(parent)
    shot(parent, "course-page")


def test_teacher_issues_a_code_and_a_parent_redeems_it_on_a_phone(new_page, shot, live_url):
    teacher = new_page(viewport=PHONE)
    sign_in(teacher, "teacher1")
    teacher.goto("/family/invites")
    with teacher.expect_navigation():
        teacher.click("form[method=get] button[type=submit]")
    # a classmate of student1's (parent1 is not their guardian)
    row = teacher.locator("ul.list li a").filter(has_not_text="王小明").first
    name = row.inner_text().strip()
    with teacher.expect_navigation():
        row.click()
    with teacher.expect_navigation():
        teacher.click("form.card button[type=submit]")
    code = teacher.inner_text(".invite-code .code").strip()
    assert re.fullmatch(r"[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}", code), code
    assert teacher.locator(".invite-code .qr svg").count() == 1
    assert_fits(teacher)
    shot(teacher, "invite-code")

    parent = new_page(viewport=PHONE)
    sign_in(parent, "parent1")
    parent.goto(f"/family/link?code={code}")
    parent.fill("input[name=child_name]", "别人家的孩子")
    parent.select_option("select[name=relation]", "母亲")
    parent.click("form.card button[type=submit]")
    parent.wait_for_selector("p.error")
    assert "孩子姓名与邀请码不符" in parent.inner_text("p.error")
    shot(parent, "name-mismatch")
    parent.fill("input[name=child_name]", name)
    parent.select_option("select[name=relation]", "母亲")
    with parent.expect_navigation():
        parent.click("form.card button[type=submit]")
    assert parent.url.endswith("/family")
    assert "等待学校确认" in parent.inner_text("main")

    teacher.goto("/family/invites")
    assert name in teacher.inner_text("main")
    with teacher.expect_navigation():
        teacher.locator("li", has_text=name).locator("button.primary").click()
    parent.goto("/family")
    assert name in parent.inner_text("main")
    assert_fits(parent)
    shot(parent, "two-children")
