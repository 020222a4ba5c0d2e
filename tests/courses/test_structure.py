"""Reordering and removing lessons and units: the working copy changes, learners keep the published
structure until the next publication; confirmation pages, permissions and audit."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from courses import queries, service
from courses.models import Course, CourseStatus, CourseUnit, Lesson, LessonProgress
from courses.service.access import lesson_rule
from elearn.extensions import db
from elearn.models import AuditEvent
from elearn.service.errors import ServiceError
from tests.conftest import post_form, user
from tests.courses.helpers import TEXT, make_course


def _titles(course: Course, *, authoring: bool) -> list[list[str]]:
    db.session.expire(course)
    return [
        [row.title for row in unit.lessons]
        for unit in queries.outline(course, user=None, authoring=authoring)
    ]


def _lesson(course: Course, title: str) -> Lesson:
    return next(
        lesson
        for unit in course.course_units
        for lesson in unit.lessons
        if lesson.working_revision is not None and lesson.working_revision.title == title
    )


def _republish(course: Course) -> None:
    service.submit_for_review(actor=user("pref_admin"), course=course)
    service.publish(actor=user("pref_admin"), course=course)


def test_moving_a_lesson_changes_the_draft_and_goes_live_at_publication(ctx):
    course = make_course(lessons=3)
    course.review_comment = "演示课程"  # the comment the reviewer published it with
    author = user("pref_admin")
    assert service.move_lesson(actor=author, lesson=_lesson(course, "第3课"), direction="up")
    assert _titles(course, authoring=True) == [["第1课", "第3课", "第2课"]]
    assert _titles(course, authoring=False) == [["第1课", "第2课", "第3课"]]  # learners: v1
    assert course.status == CourseStatus.DRAFT and course.version == 1
    assert course.review_comment is None  # not shown as a reviewer's request on the draft
    # at the top already: nothing to do
    assert not service.move_lesson(actor=author, lesson=_lesson(course, "第1课"), direction="up")
    with pytest.raises(ServiceError):
        service.move_lesson(actor=author, lesson=_lesson(course, "第1课"), direction="sideways")
    _republish(course)  # a reorder alone is a change worth a new version
    assert course.version == 2
    assert _titles(course, authoring=False) == [["第1课", "第3课", "第2课"]]
    moved = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "course.lesson_moved")
    ).all()
    assert moved[-1].details["direction"] == "up" and moved[-1].actor_id == author.id


def test_a_removed_live_lesson_stays_watchable_until_the_next_publication(ctx):
    course = make_course(lessons=3)
    author, student = user("pref_admin"), user("student1")
    gone = _lesson(course, "第2课")
    gone_id = gone.id
    db.session.add(LessonProgress(user_id=student.id, lesson_id=gone_id, course_id=course.id,
                                  watched_seconds=5.0, intervals=[[0, 5]]))  # fmt: skip
    db.session.flush()
    assert service.remove_lesson(actor=author, lesson=gone) is True  # pending
    assert _titles(course, authoring=True) == [["第1课", "第3课"]]
    assert _titles(course, authoring=False) == [["第1课", "第2课", "第3课"]]
    assert lesson_rule(student, "learn", db.session.get(Lesson, gone_id))
    with pytest.raises(ServiceError):  # twice is an error, not a crash
        service.remove_lesson(actor=author, lesson=db.session.get(Lesson, gone_id))
    _republish(course)
    assert _titles(course, authoring=False) == [["第1课", "第3课"]]
    retired = db.session.get(Lesson, gone_id)
    assert retired.published_revision is None and retired.removed_at is not None
    assert not lesson_rule(student, "learn", retired)
    # the learner's record stays; the course now counts two lessons
    assert db.session.scalar(select(LessonProgress).filter_by(lesson_id=gone_id)) is not None
    progress = queries.progress_of(student, course)
    assert progress.lessons_total == 2
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "course.lesson_removed")
    ).all()[-1]
    assert event.details["pending"] is True and event.details["title"] == "第2课"


def test_a_lesson_never_published_is_deleted_at_once(ctx):
    course = make_course(lessons=1)
    author = user("pref_admin")
    new = service.add_lesson(actor=author, course=course, title="新课", kind="rich_text",
                             body_html=TEXT)  # fmt: skip
    new_id = new.id
    assert service.remove_lesson(actor=author, lesson=new) is False
    assert db.session.get(Lesson, new_id) is None
    with pytest.raises(ServiceError) as refused:  # nothing left to publish as a change
        service.submit_for_review(actor=author, course=course)
    assert refused.value.status == 409


def test_units_move_and_go_with_their_lessons(ctx):
    course = make_course(lessons=2)
    author = user("pref_admin")
    second = service.add_course_unit(actor=author, course=course, title="第二单元")
    service.add_lesson(actor=author, course=course, course_unit=second, title="第3课",
                       kind="rich_text", body_html=TEXT)  # fmt: skip
    _republish(course)
    first = course.course_units[0]
    assert service.move_course_unit(actor=author, course_unit=second, direction="up")
    assert _titles(course, authoring=True) == [["第3课"], ["第1课", "第2课"]]
    assert _titles(course, authoring=False) == [["第1课", "第2课"], ["第3课"]]
    assert service.remove_course_unit(actor=author, course_unit=first) is True
    assert _titles(course, authoring=True) == [["第3课"]]
    with pytest.raises(ServiceError):  # a removed unit takes no new lessons
        service.add_lesson(actor=author, course=course, course_unit=first, title="x",
                           kind="rich_text", body_html=TEXT)  # fmt: skip
    _republish(course)
    assert _titles(course, authoring=False) == [["第3课"]]
    # a unit holding only unpublished lessons is deleted at once
    empty = service.add_course_unit(actor=author, course=course, title="草稿单元")
    service.add_lesson(actor=author, course=course, course_unit=empty, title="草稿课",
                       kind="rich_text", body_html=TEXT)  # fmt: skip
    empty_id = empty.id
    assert service.remove_course_unit(actor=author, course_unit=empty) is False
    assert db.session.get(CourseUnit, empty_id) is None


def test_a_course_in_review_cannot_be_restructured(ctx):
    course = make_course(lessons=2, publish=False)
    service.submit_for_review(actor=user("pref_admin"), course=course)
    with pytest.raises(ServiceError) as refused:
        service.remove_lesson(actor=user("pref_admin"), lesson=_lesson(course, "第1课"))
    assert refused.value.status == 409


def test_removal_asks_for_confirmation_first(app, signed_in):
    with app.test_request_context():
        course = make_course(lessons=2, title="结构测试课")
        lesson_id = _lesson(course, "第2课").id
        course_id, unit_id = course.id, course.course_units[0].id
        db.session.add(LessonProgress(user_id=user("student1").id, lesson_id=lesson_id,
                                      course_id=course_id, watched_seconds=1.0, intervals=[]))  # fmt: skip
        db.session.commit()
    author = signed_in("pref_admin")
    edit = author.get(f"/courses/{course_id}/edit").get_data(as_text=True)
    assert f'href="/lessons/{lesson_id}/remove"' in edit and "上移课时“第2课”" in edit
    page = author.get(f"/lessons/{lesson_id}/remove").get_data(as_text=True)
    assert "删除课时“第2课”？" in page and "1 名学员开始学习" in page and "确认删除" in page
    assert "在课程重新通过审核发布之前，学员仍能看到它" in page
    # nothing happened yet
    with app.app_context():
        assert db.session.get(Lesson, lesson_id).removed_at is None
    done = post_form(author, f"/lessons/{lesson_id}/remove", page=f"/lessons/{lesson_id}/remove")
    assert done.status_code == 302 and done.location.endswith(f"/courses/{course_id}/edit")
    after = author.get(f"/courses/{course_id}/edit").get_data(as_text=True)
    assert "已从草稿中删除" in after and "本草稿中已删除" in after and "撤销删除" in after
    assert not re.search(rf'href="/lessons/{lesson_id}/remove"', after)
    # the unit's confirmation counts its remaining lesson
    unit_page = author.get(f"/course-units/{unit_id}/remove").get_data(as_text=True)
    assert "其中的 1 个课时将一并删除" in unit_page
    moved = post_form(author, f"/lessons/{lesson_id}/move", {"direction": "up"},
                      page=f"/courses/{course_id}/edit")  # fmt: skip
    assert moved.status_code == 302  # refused politely: the lesson is removed
    # the removal is undone before publication: the lesson is back in the working copy
    undone = post_form(author, f"/lessons/{lesson_id}/restore", page=f"/courses/{course_id}/edit")
    assert undone.status_code == 302
    back = author.get(f"/courses/{course_id}/edit").get_data(as_text=True)
    assert f'href="/lessons/{lesson_id}/remove"' in back and "撤销删除" not in back
    with app.app_context():
        assert db.session.get(Lesson, lesson_id).removed_at is None
        restored = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "course.lesson_restored")
        ).all()
        assert restored and restored[-1].target_id == str(lesson_id)
    # a teacher who does not manage the course cannot even see the confirmation page
    assert signed_in("teacher1").get(f"/course-units/{unit_id}/remove").status_code in (403, 404)


def test_the_api_moves_and_removes_and_documents_it(app, signed_in):
    from tests.conftest import csrf_token

    with app.test_request_context():
        course = make_course(lessons=2, title="接口结构课")
        first, second = (_lesson(course, "第1课").id, _lesson(course, "第2课").id)
        unit_id = course.course_units[0].id
        db.session.commit()
    author = signed_in("pref_admin")
    headers = {"X-CSRFToken": csrf_token(author, "/")}
    moved = author.post(f"/api/v1/lessons/{second}/move", json={"direction": "up"},
                        headers=headers)  # fmt: skip
    assert moved.status_code == 200 and moved.get_json() == {"moved": True}
    again = author.post(f"/api/v1/lessons/{second}/move", json={"direction": "up"},
                        headers=headers)  # fmt: skip
    assert again.get_json() == {"moved": False}
    wrong = author.post(f"/api/v1/lessons/{second}/move", json={"direction": "left"},
                        headers=headers)  # fmt: skip
    assert wrong.status_code == 422 and "direction" in wrong.get_json()["errors"]
    removed = author.delete(f"/api/v1/lessons/{first}", headers=headers)
    assert removed.status_code == 200 and removed.get_json() == {"pending": True}
    assert author.delete(f"/api/v1/lessons/{first}", headers=headers).status_code == 404
    assert author.post(f"/api/v1/course-units/{unit_id}/move", json={"direction": "down"},
                       headers=headers).get_json() == {"moved": False}  # fmt: skip
    with app.app_context():
        course = db.session.scalar(select(Course).where(Course.title == "接口结构课"))
        assert _titles(course, authoring=True) == [["第2课"]]
        assert _titles(course, authoring=False) == [["第1课", "第2课"]]
    paths = author.get("/api/v1/openapi.json").get_json()["paths"]
    assert "delete" in paths["/api/v1/lessons/{lesson_id}"]
    assert "post" in paths["/api/v1/course-units/{course_unit_id}/move"]
