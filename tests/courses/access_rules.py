"""Access rules of the network classroom's routes (see tests/access.py).

The demo seed publishes a prefecture-wide course on the teachers' training track: it is out of
sight for students and parents, visible to teachers, experts and admins, and managed by its
author (pref_admin) only.
"""

from sqlalchemy import select

from courses.models import Course, CourseUnit, Lesson
from elearn.extensions import db
from tests.access import ADMINS, SIGNED_IN, Rule

TEACHER_COURSE = "教师禁毒教育专题培训"
AUTHORS = ADMINS | {"teacher1", "expert1"}
TEACHER_TRACK = ADMINS | {"teacher1", "expert1"}
OWNER = frozenset({"pref_admin"})


def course_id(ids: dict) -> int:
    return db.session.scalar(select(Course.id).where(Course.title == TEACHER_COURSE))


def lesson_id(ids: dict) -> int:
    return db.session.scalar(
        select(Lesson.id)
        .join(Course, Course.id == Lesson.course_id)
        .where(Course.title == TEACHER_COURSE)
    )


def course_unit_id(ids: dict) -> int:
    return db.session.scalar(
        select(CourseUnit.id)
        .join(Course, Course.id == CourseUnit.course_id)
        .where(Course.title == TEACHER_COURSE)
    )


RULES = {
    # reordering and removing lessons and units: the course's managers only
    "courses.lesson_move": Rule(
        lambda ids: f"/lessons/{lesson_id(ids)}/move",
        OWNER,
        method="POST",
        data=lambda ids: {"direction": "down"},
    ),
    "courses.unit_move": Rule(
        lambda ids: f"/course-units/{course_unit_id(ids)}/move",
        OWNER,
        method="POST",
        data=lambda ids: {"direction": "up"},
    ),
    "courses_api.lesson_move": Rule(
        lambda ids: f"/api/v1/lessons/{lesson_id(ids)}/move",
        OWNER,
        method="POST",
        json=True,
        data=lambda ids: {"direction": "down"},
    ),
    "courses_api.unit_move": Rule(
        lambda ids: f"/api/v1/course-units/{course_unit_id(ids)}/move",
        OWNER,
        method="POST",
        json=True,
        data=lambda ids: {"direction": "up"},
    ),
    "courses_api.lesson_delete": Rule(
        lambda ids: f"/api/v1/lessons/{lesson_id(ids)}", OWNER, method="DELETE", json=True
    ),
    "courses_api.unit_delete": Rule(
        lambda ids: f"/api/v1/course-units/{course_unit_id(ids)}", OWNER, method="DELETE", json=True
    ),
    # POST: refused (409 → a flash and a redirect) unless a removal is pending; managers only
    "courses.lesson_restore": Rule(
        lambda ids: f"/lessons/{lesson_id(ids)}/restore", OWNER, method="POST"
    ),
    "courses.lesson_remove": Rule(lambda ids: f"/lessons/{lesson_id(ids)}/remove", OWNER),
    "courses.unit_remove": Rule(lambda ids: f"/course-units/{course_unit_id(ids)}/remove", OWNER),
    "courses.library": Rule(lambda ids: "/courses", SIGNED_IN),
    "courses.mine": Rule(lambda ids: "/courses/mine", SIGNED_IN),
    "courses.course_detail": Rule(lambda ids: f"/courses/{course_id(ids)}", TEACHER_TRACK),
    "courses.lesson_player": Rule(lambda ids: f"/lessons/{lesson_id(ids)}", TEACHER_TRACK),
    "courses.authoring": Rule(lambda ids: "/courses/authoring", AUTHORS),
    "courses.course_new": Rule(lambda ids: "/courses/new", AUTHORS),
    "courses.course_edit": Rule(lambda ids: f"/courses/{course_id(ids)}/edit", OWNER),
    "courses.unit_new": Rule(
        lambda ids: f"/courses/{course_id(ids)}/units",
        OWNER,
        method="POST",
        data=lambda ids: {"title": "第二单元"},
    ),
    "courses.lesson_new": Rule(lambda ids: f"/courses/{course_id(ids)}/lessons/new", OWNER),
    "courses.lesson_edit": Rule(lambda ids: f"/lessons/{lesson_id(ids)}/edit", OWNER),
    "courses.course_submit": Rule(
        lambda ids: f"/courses/{course_id(ids)}/submit", OWNER, method="POST"
    ),
    "courses.course_archive": Rule(
        lambda ids: f"/courses/{course_id(ids)}/archive", OWNER, method="POST"
    ),
    "courses.review_queue": Rule(lambda ids: "/courses/review", ADMINS),
    "courses.course_review": Rule(
        lambda ids: f"/courses/{course_id(ids)}/review",
        OWNER,
        method="POST",
        data=lambda ids: {"decision": "publish"},
    ),
    "courses_api.course_list": Rule(lambda ids: "/api/v1/courses", SIGNED_IN),
    "courses_api.course_detail": Rule(
        lambda ids: f"/api/v1/courses/{course_id(ids)}", TEACHER_TRACK
    ),
    "courses_api.lesson_heartbeat": Rule(
        lambda ids: f"/api/v1/lessons/{lesson_id(ids)}/heartbeats",
        TEACHER_TRACK,
        method="POST",
        json=True,
        data=lambda ids: {"position": 0, "playing": True},
    ),
    "courses_api.my_progress": Rule(lambda ids: "/api/v1/me/progress", SIGNED_IN),
    "courses_api.course_create": Rule(
        lambda ids: "/api/v1/courses",
        AUTHORS,
        method="POST",
        json=True,
        data=lambda ids: {"title": "新课程", "audience": "teacher", "category": "courseware"},
    ),
    "courses_api.lesson_create": Rule(
        lambda ids: f"/api/v1/courses/{course_id(ids)}/lessons",
        OWNER,
        method="POST",
        json=True,
        data=lambda ids: {"title": "新课时", "kind": "rich_text", "body_html": "<p>正文</p>"},
    ),
    "courses_api.course_submit": Rule(
        lambda ids: f"/api/v1/courses/{course_id(ids)}/submit", OWNER, method="POST", json=True
    ),
    "courses_api.course_publish": Rule(
        lambda ids: f"/api/v1/courses/{course_id(ids)}/publish", OWNER, method="POST", json=True
    ),
    "courses_api.course_return": Rule(
        lambda ids: f"/api/v1/courses/{course_id(ids)}/return",
        OWNER,
        method="POST",
        json=True,
        data=lambda ids: {"comment": "请修改"},
    ),
}
