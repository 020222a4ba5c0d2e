"""The network classroom end to end: a teacher uploads a short video and watches it process, builds a
course lesson on it, an admin publishes it, a student plays the lesson and their progress rises."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.e2e.conftest import PHONE, sign_in

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def short_clip(tmp_path_factory) -> str:
    """A 12 s 360p H.264/AAC clip with moving noise (test patterns compress unrealistically)."""
    path = tmp_path_factory.mktemp("clip") / "禁毒短片.mp4"
    subprocess.run(
        [
            "ffmpeg", "-v", "error", "-y",
            "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25:duration=12",
            "-f", "lavfi", "-i", "sine=frequency=440:duration=12",
            "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-shortest", str(path),
        ],
        check=True,
    )  # fmt: skip
    return str(path)


def test_teacher_uploads_builds_a_lesson_and_a_student_watches_it(
    new_page, shot, e2e_worker, short_clip
):
    teacher = new_page(viewport=PHONE)
    sign_in(teacher, "teacher1")
    teacher.goto("/media/upload")
    teacher.set_input_files("#media-file", short_clip)
    teacher.click("#media-start")
    teacher.wait_for_selector("#media-status:not([hidden])")
    shot(teacher, "uploading")
    teacher.wait_for_function(
        "['ready', 'failed'].includes(document.getElementById('media-upload').dataset.state)",
        timeout=120_000,
    )
    shot(teacher, "uploaded")
    assert teacher.get_attribute("#media-upload", "data-state") == "ready"
    asset_id = teacher.get_attribute("#media-upload", "data-asset-id")

    teacher.goto("/courses/new")
    teacher.fill("input[name=title]", "五年级禁毒视频课")
    teacher.select_option("select[name=audience]", "student")
    teacher.select_option("select[name=grade_band]", "upper_primary")
    teacher.select_option("select[name=category]", "audio_video")
    with teacher.expect_navigation():
        teacher.click("button.primary")
    assert re.search(r"/courses/\d+/edit$", teacher.url)
    with teacher.expect_navigation():
        teacher.get_by_role("link", name="添加课时").click()
    teacher.fill("input[name=title]", "短片：远离毒品")
    teacher.select_option("select[name=kind]", "video")
    teacher.select_option("select[name=asset_id]", asset_id)
    shot(teacher, "lesson-form")
    with teacher.expect_navigation():
        teacher.click("button.primary")
    with teacher.expect_navigation():
        teacher.get_by_role("button", name="提交审核").click()
    assert "审核中" in teacher.inner_text("h1")

    admin = new_page(viewport=PHONE)
    sign_in(admin, "school_admin")
    admin.goto("/courses/review")
    card = admin.locator("section.card", has_text="五年级禁毒视频课")
    with admin.expect_navigation():
        card.get_by_role("button", name="发布").click()
    assert "已发布" in admin.inner_text("main")

    student = new_page(viewport=PHONE)
    sign_in(student, "student1")
    student.goto("/courses?q=视频课")
    with student.expect_navigation():
        student.get_by_role("link", name="五年级禁毒视频课").click()
    with student.expect_navigation():
        student.get_by_role("link", name="短片：远离毒品", exact=True).click()
    video = student.locator("#lesson-player-media")
    video.wait_for()
    student.evaluate("document.getElementById('lesson-player-media').muted = true")
    student.click("#lesson-player .media-start")
    student.wait_for_function(
        "document.getElementById('lesson-player-media').currentTime > 6", timeout=30_000
    )
    # the heartbeats every 5 s report what was played; the server credits it in real time
    student.wait_for_function(
        "/已学习 [1-9]\\d* 秒|已完成|课程已完成/.test(document.getElementById('progress-text').textContent)",
        timeout=20_000,
    )
    shot(student, "watching")
    assert student.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
