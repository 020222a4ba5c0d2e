"""The network classroom's JSON API: library with facets, detail, heartbeats, authoring, review."""

from __future__ import annotations

from sqlalchemy import select

from courses.models import Course, LessonProgress
from elearn.extensions import db
from tests.conftest import csrf_token, user
from tests.courses.helpers import create_asset

STUDENT_COURSE = "远离毒品，健康成长（小学高年级）"
TEACHER_COURSE = "教师禁毒教育专题培训"
PARENT_COURSE = "家长学校：守护孩子远离毒品"


def course_named(title: str) -> Course:
    return db.session.scalar(select(Course).where(Course.title == title))


def demo_ids(title: str) -> tuple[int, list[int]]:
    """The id of a demo course and of its lessons (read before requests detach the objects)."""
    course = course_named(title)
    return course.id, [lesson.id for unit in course.course_units for lesson in unit.lessons]


def post(client, path: str, body: dict | None = None):
    return client.post(path, json=body or {}, headers={"X-CSRFToken": csrf_token(client, "/")})


def test_library_lists_the_demo_courses_with_facets(signed_in):
    data = signed_in("student1").get("/api/v1/courses").get_json()
    titles = {c["title"] for c in data["courses"]}
    assert STUDENT_COURSE in titles
    assert TEACHER_COURSE not in titles and PARENT_COURSE not in titles
    assert {"category", "audience", "grade_band", "drug_type", "format"} <= set(data["facets"])
    assert {"value": "student", "count": data["total"]} in data["facets"]["audience"]

    teacher = signed_in("teacher1").get("/api/v1/courses?audience=teacher").get_json()
    assert [c["title"] for c in teacher["courses"]] == [TEACHER_COURSE]
    graded = signed_in("teacher1").get("/api/v1/courses?grade=upper_primary").get_json()
    assert {c["grade_band"] for c in graded["courses"]} == {"upper_primary"}
    searched = signed_in("parent1").get("/api/v1/courses?q=家长学校").get_json()
    assert [c["title"] for c in searched["courses"]] == [PARENT_COURSE]


def test_course_detail_has_units_and_lessons(signed_in):
    course_id, _ = demo_ids(STUDENT_COURSE)
    data = signed_in("student1").get(f"/api/v1/courses/{course_id}").get_json()
    lessons = [lesson for unit in data["units"] for lesson in unit["lessons"]]
    assert len(lessons) == 3
    assert {lesson["role"] for lesson in lessons} == {"dedicated", "infiltration"}
    assert [lesson["kind"] for lesson in lessons] == ["rich_text", "rich_text", "video"]
    assert data["progress"] == {"lessons_total": 3, "lessons_done": 0, "completed": False}


def test_another_scope_or_track_is_404(signed_in):
    teacher_course, _ = demo_ids(TEACHER_COURSE)
    assert signed_in("student1").get(f"/api/v1/courses/{teacher_course}").status_code == 404
    school_course = _school_course(signed_in)
    outsider = signed_in("s_S0201_5_01")  # a pupil of another county
    assert outsider.get(f"/api/v1/courses/{school_course}").status_code == 404
    assert signed_in("student1").get(f"/api/v1/courses/{school_course}").status_code == 200


def _school_course(signed_in) -> int:
    """A student course published by school S0101 through the API."""
    author, admin = signed_in("teacher1"), signed_in("school_admin")
    created = post(
        author,
        "/api/v1/courses",
        {
            "title": "第一小学校本课程",
            "audience": "student",
            "grade_band": "upper_primary",
            "category": "courseware",
        },
    )
    assert created.status_code == 201, created.get_json()
    course_id = created.get_json()["id"]
    lesson = post(
        author,
        f"/api/v1/courses/{course_id}/lessons",
        {"title": "校本第一课", "kind": "rich_text", "body_html": "<p>远离毒品</p>"},
    )
    assert lesson.status_code == 201, lesson.get_json()
    assert post(author, f"/api/v1/courses/{course_id}/submit").status_code == 200
    published = post(admin, f"/api/v1/courses/{course_id}/publish", {"comment": "通过"})
    assert published.status_code == 200 and published.get_json()["version"] == 1
    return course_id


def test_authoring_and_review_over_the_api(signed_in):
    course_id = _school_course(signed_in)
    author = signed_in("teacher1")
    # a teacher sees the course but may not publish it: 403, not 404
    assert post(author, f"/api/v1/courses/{course_id}/publish").status_code == 403
    # returning needs a course in review and a comment
    admin = signed_in("school_admin")
    conflict = post(admin, f"/api/v1/courses/{course_id}/return", {"comment": "再改改"})
    assert conflict.status_code == 409 and "审核中" in conflict.get_json()["message"]


def test_lesson_with_an_asset_checks_ownership_and_readiness(signed_in):
    author = signed_in("pref_admin")
    created = post(
        author,
        "/api/v1/courses",
        {"title": "视频课程", "audience": "parent", "category": "audio_video"},
    ).get_json()
    mine = create_asset(user("pref_admin"), status="processing").id
    theirs = create_asset(user("teacher1")).id
    db.session.commit()
    refused = post(
        author,
        f"/api/v1/courses/{created['id']}/lessons",
        {"title": "别人的视频", "kind": "video", "asset_id": theirs},
    )
    assert refused.status_code == 422 and "上传" in refused.get_json()["message"]
    accepted = post(
        author,
        f"/api/v1/courses/{created['id']}/lessons",
        {"title": "我的视频", "kind": "video", "asset_id": mine},
    )
    assert accepted.status_code == 201
    assert accepted.get_json()["playable"] is False  # processing: not playable until ready


def test_create_course_validation_is_422_in_chinese(signed_in):
    response = post(signed_in("teacher1"), "/api/v1/courses", {"title": "缺少对象"})
    assert response.status_code == 422
    body = response.get_json()
    assert "audience" in body["message"] and body["errors"]["category"] == ["此项为必填项。"]
    wrong = post(signed_in("teacher1"), "/api/v1/courses",
                 {"title": "x", "audience": "pupil", "category": "audio_video"})  # fmt: skip
    assert wrong.status_code == 422 and "student" in wrong.get_json()["errors"]["audience"][0]
    valid = {"title": "x", "audience": "student", "category": "audio_video"}
    assert post(signed_in("student1"), "/api/v1/courses", valid).status_code == 403


def test_heartbeats_over_the_api(signed_in):
    course_id, (lesson_id, *_) = demo_ids(STUDENT_COURSE)
    duration = (
        course_named(STUDENT_COURSE).course_units[0].lessons[0].published_revision.duration_seconds
    )
    client = signed_in("student1")
    url = f"/api/v1/lessons/{lesson_id}/heartbeats"
    first = post(client, url, {"position": 0, "playing": True})
    assert first.status_code == 200
    assert first.get_json() == {
        "watched_seconds": 0.0,
        "completed": False,
        "duration_seconds": duration,
        "course_completed": False,
    }
    # jumping to the end right away credits (almost) nothing
    jump = post(client, url, {"position": 10_000, "playing": True}).get_json()
    assert jump["watched_seconds"] <= 2.5 and not jump["completed"]
    assert post(client, url, {"position": "soon"}).status_code == 422
    assert post(client, url, {"playing": True}).status_code == 422
    progress = client.get("/api/v1/me/progress").get_json()
    assert [row["lesson_id"] for row in progress["lessons"]] == [lesson_id]
    assert course_id in {row["course_id"] for row in progress["courses"]}
    row = db.session.scalar(select(LessonProgress).filter_by(lesson_id=lesson_id))
    assert row.user_id == user("student1").id


def test_heartbeat_without_csrf_token_is_refused_for_cookie_sessions(signed_in):
    _, (lesson_id, *_) = demo_ids(STUDENT_COURSE)
    response = signed_in("student1").post(
        f"/api/v1/lessons/{lesson_id}/heartbeats", json={"position": 0}
    )
    assert response.status_code == 400


def test_bearer_token_clients_need_no_csrf(client):
    token = client.post(
        "/api/v1/auth/token", json={"username": "student1", "password": "demo1234"}
    ).get_json()["token"]
    _, (lesson_id, *_) = demo_ids(STUDENT_COURSE)
    response = client.post(
        f"/api/v1/lessons/{lesson_id}/heartbeats",
        json={"position": 0, "playing": True},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200


def test_openapi_documents_the_courses_api(client):
    document = client.get("/api/v1/openapi.json").get_json()
    for path in (
        "/api/v1/courses",
        "/api/v1/courses/{course_id}",
        "/api/v1/lessons/{lesson_id}/heartbeats",
        "/api/v1/me/progress",
        "/api/v1/courses/{course_id}/lessons",
        "/api/v1/courses/{course_id}/submit",
        "/api/v1/courses/{course_id}/publish",
        "/api/v1/courses/{course_id}/return",
    ):
        assert path in document["paths"], path
    assert "Course" in document["components"]["schemas"]
    heartbeat = document["paths"]["/api/v1/lessons/{lesson_id}/heartbeats"]["post"]
    assert "409" in heartbeat["responses"]
