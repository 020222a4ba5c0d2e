"""The network classroom's pages: they render in Chinese, hide other scopes, drive the workflow."""

from __future__ import annotations

from courses.models import Course, CourseStatus
from elearn.extensions import db
from tests.conftest import post_form
from tests.courses.test_api import STUDENT_COURSE, TEACHER_COURSE, demo_ids


def text(response) -> str:
    return response.get_data(as_text=True)


def test_library_page_in_chinese_with_facets(signed_in):
    page = signed_in("student1").get("/courses")
    assert page.status_code == 200
    body = text(page)
    assert "网络课堂" in body and STUDENT_COURSE in body and TEACHER_COURSE not in body
    assert "全部类别" in body and "音视频" in body and "小学高年级（四至六年级）" in body
    filtered = text(signed_in("student1").get("/courses?category=typical_case"))
    assert STUDENT_COURSE not in filtered and "没有符合条件的课程" in filtered


def test_home_panel_and_menu(signed_in):
    body = text(signed_in("student1").get("/"))
    assert "我的课程" in body and STUDENT_COURSE in body
    assert 'href="/courses"' in body and "网络课堂" in body
    library = text(signed_in("student1").get("/courses"))
    assert "课程审核" not in library and "我编写的课程" not in library  # students neither
    assert "课程审核" in text(signed_in("school_admin").get("/courses"))
    assert "我编写的课程" in text(signed_in("teacher1").get("/courses"))


def test_course_and_lesson_pages(signed_in):
    course_id, (lesson_id, *_) = demo_ids(STUDENT_COURSE)
    client = signed_in("student1")
    page = client.get(f"/courses/{course_id}")
    assert page.status_code == 200
    body = text(page)
    assert "已完成 0 / 3 课时" in body and "学科渗透" in body and "生物" in body
    assert f'href="/lessons/{lesson_id}">开始学习：第一课：认识毒品' in body
    player = text(client.get(f"/lessons/{lesson_id}"))
    assert "什么是毒品" in player  # the rich text
    assert f"/api/v1/lessons/{lesson_id}/heartbeats" in player
    assert "/courses-static/courses/player" in player and "已学习 0 秒" in player


def test_my_courses_page_shows_progress_bars(signed_in):
    body = text(signed_in("parent1").get("/courses/mine"))
    assert "家长学校：守护孩子远离毒品" in body and 'role="progressbar"' in body
    teacher = text(signed_in("teacher1").get("/courses/mine"))
    assert TEACHER_COURSE in teacher


def test_other_scopes_and_tracks_are_404(signed_in):
    teacher_course, (lesson_id, *_) = demo_ids(TEACHER_COURSE)
    student = signed_in("student1")
    assert student.get(f"/courses/{teacher_course}").status_code == 404
    assert student.get(f"/lessons/{lesson_id}").status_code == 404
    assert student.get(f"/courses/{teacher_course}/edit").status_code == 404
    missing = student.get("/courses/999999")
    assert missing.status_code == 404 and "不存在" in text(missing)
    # a school's course is invisible outside that school
    course_id = _create_through_pages(signed_in)
    outsider = signed_in("s_S0201_5_01")
    assert outsider.get(f"/courses/{course_id}").status_code == 404
    assert signed_in("county_admin").get(f"/courses/{course_id}").status_code == 200


def _create_through_pages(signed_in) -> int:
    teacher = signed_in("teacher1")
    form = text(teacher.get("/courses/new"))
    assert "新建课程" in form and "示范市第一小学" in form
    created = post_form(
        teacher,
        "/courses/new",
        {
            "title": "校本禁毒课",
            "description": "五年级校本课程",
            "unit": _school_id(),
            "audience": "student",
            "grade_band": "upper_primary",
            "category": "courseware",
            "drug_type": "general",
            "subject": "",
        },
    )
    assert created.status_code == 302, text(created)[:2000]
    course_id = int(created.headers["Location"].rstrip("/").split("/")[-2])
    added = post_form(
        teacher,
        f"/courses/{course_id}/lessons/new",
        {
            "title": "第一课",
            "course_unit": "0",
            "kind": "rich_text",
            "asset_id": "",
            "body_html": "<p>珍爱生命，远离毒品。</p><script>alert(1)</script>",
            "role": "dedicated",
            "subject": "",
        },
    )
    assert added.status_code == 302, text(added)[:2000]
    submitted = post_form(teacher, f"/courses/{course_id}/submit")
    assert submitted.status_code == 302
    admin = signed_in("school_admin")
    queue = text(admin.get("/courses/review"))
    assert "校本禁毒课" in queue and "发布" in queue
    published = post_form(admin, f"/courses/{course_id}/review", {"decision": "publish"})
    assert published.status_code == 302
    course = db.session.get(Course, course_id)
    assert course.status == CourseStatus.PUBLISHED
    lesson = course.course_units[0].lessons[0]
    assert "<script" not in lesson.published_revision.body_html
    return course_id


def _school_id() -> int:
    from tests.conftest import unit_by_code

    return unit_by_code("S0101").id


def test_review_return_with_comment_shows_to_the_author(signed_in):
    teacher = signed_in("teacher1")
    created = post_form(
        teacher,
        "/courses/new",
        {
            "title": "待修改课程",
            "unit": _school_id(),
            "audience": "teacher",
            "category": "typical_case",
        },
    )
    course_id = int(created.headers["Location"].rstrip("/").split("/")[-2])
    post_form(
        teacher,
        f"/courses/{course_id}/lessons/new",
        {
            "title": "案例",
            "course_unit": "0",
            "kind": "rich_text",
            "body_html": "<p>案例</p>",
            "role": "dedicated",
        },
    )
    post_form(teacher, f"/courses/{course_id}/submit")
    admin = signed_in("school_admin")
    no_comment = post_form(admin, f"/courses/{course_id}/review", {"decision": "return"})
    assert no_comment.status_code == 302
    assert db.session.get(Course, course_id).status == CourseStatus.IN_REVIEW
    post_form(
        admin, f"/courses/{course_id}/review", {"decision": "return", "comment": "补充案例来源"}
    )
    page = text(teacher.get(f"/courses/{course_id}/edit"))
    assert "审核意见：补充案例来源" in page and "提交审核" in page
    # a teacher cannot review: the course is in sight, so 403
    post_form(teacher, f"/courses/{course_id}/submit")
    assert (
        post_form(teacher, f"/courses/{course_id}/review", {"decision": "publish"}).status_code
        == 403
    )


def test_invalid_course_form_is_400_with_chinese_message(signed_in):
    response = post_form(
        signed_in("teacher1"),
        "/courses/new",
        {"title": "缺学段", "unit": _school_id(), "audience": "student", "category": "courseware"},
    )
    assert response.status_code == 400
    assert "面向学生的课程请选择适用学段" in text(response)


def test_pages_work_in_english_too(signed_in):
    client = signed_in("student1")
    client.set_cookie("lang", "en")
    assert "Network classroom" in text(client.get("/courses"))


def test_video_lesson_page_includes_medias_player_with_a_signed_playlist(signed_in):
    from courses import service
    from tests.conftest import user
    from tests.courses.helpers import create_asset

    author = user("pref_admin")
    asset = create_asset(author, duration=30.0)
    asset.renditions = [
        {"name": "360p", "bandwidth": 600000, "kind": "video", "playlist_key": "x/360p/index.m3u8"}
    ]
    asset.master_key = "x/master.m3u8"
    course = service.create_course(
        actor=author,
        unit=author.roles[0].unit,
        title="视频课",
        audience="student",
        grade_band="upper_primary",
        category="audio_video",
    )
    lesson = service.add_lesson(
        actor=author, course=course, title="视频", kind="video", asset_id=asset.id
    )
    service.submit_for_review(actor=author, course=course)
    service.publish(actor=author, course=course)
    lesson_id = lesson.id
    db.session.commit()
    page = text(signed_in("student1").get(f"/lessons/{lesson_id}"))
    assert 'id="lesson-player-media"' in page and "/media/play/" in page
    # hls.js is named for loading on play (under its content-hashed name), not loaded
    assert 'data-hls-src="/media/static/vendor/hls/hls.min' in page
    assert "/media/static/js/player" in page


def test_an_admin_archives_a_course_out_of_the_library(signed_in):
    course_id, (lesson_id, *_) = demo_ids(STUDENT_COURSE)
    student = signed_in("student1")
    assert "归档" not in text(student.get(f"/courses/{course_id}"))
    admin = signed_in("pref_admin")
    assert "归档" in text(admin.get(f"/courses/{course_id}"))
    # a county admin sees the prefecture's course but does not administer it
    assert post_form(signed_in("county_admin"), f"/courses/{course_id}/archive").status_code == 403
    assert post_form(admin, f"/courses/{course_id}/archive").status_code == 302
    assert STUDENT_COURSE not in text(student.get("/courses"))
    assert student.get(f"/lessons/{lesson_id}").status_code == 404
    assert db.session.get(Course, course_id).status == CourseStatus.ARCHIVED


def _next_lesson_link(body: str) -> str | None:
    """The href of the lesson page's "next lesson" button, or None without one."""
    import re

    found = re.search(r'id="next-lesson"[^>]*>\s*<a class="button primary" href="([^"]+)"', body)
    return found.group(1) if found else None


def test_a_lesson_page_offers_the_next_lesson_in_the_published_order(app, signed_in):
    """When a lesson ends the page offers the next one: the server picks it from the order
    learners see (the last publication's), hidden until the lesson ends or is completed."""
    from courses import service
    from courses.models import Lesson, LessonProgress
    from tests.conftest import user

    course_id, (first, second, third) = demo_ids(STUDENT_COURSE)
    student = signed_in("student1")
    body = text(student.get(f"/lessons/{first}"))
    assert _next_lesson_link(body) == f"/lessons/{second}"
    assert 'id="next-lesson" hidden' in body  # offered by the page once the lesson ends
    assert "下一课时：科学课渗透：毒品对大脑的伤害" in body
    assert _next_lesson_link(text(student.get(f"/lessons/{third}"))) is None  # the last one
    with app.test_request_context():
        admin = user("pref_admin")
        service.move_lesson(actor=admin, lesson=db.session.get(Lesson, third), direction="up")
        service.submit_for_review(actor=admin, course=db.session.get(Course, course_id))
        service.publish(actor=admin, course=db.session.get(Course, course_id))
        db.session.add(
            LessonProgress(
                user_id=user("student1").id,
                lesson_id=first,
                course_id=course_id,
                watched_seconds=20.0,
                completed_at=db.func.now(),
            )
        )
        db.session.commit()
    body = text(student.get(f"/lessons/{first}"))
    assert _next_lesson_link(body) == f"/lessons/{third}"  # the video now comes second
    assert 'id="next-lesson" hidden' not in body  # completed already: offered at once
    assert _next_lesson_link(text(student.get(f"/lessons/{second}"))) is None
