"""Guardians and their children: invite codes (expiry, reuse, a name that does not match, another
school's student), the school's confirmation, unlinking (audited), the child view and
``GET /api/v1/me/children`` (only one's own children; results only as each quiz's review policy
allows), the course page showing the child's progress, and the weekly digest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from courses.models import Course, Lesson, LessonProgress
from courses.service import progress as course_progress
from elearn.extensions import db
from elearn.models import AuditEvent, GuardianLink, Notification, Role, User
from elearn.queries import members_of
from parents.family import service
from parents.family.models import GuardianInvite
from tests.conftest import csrf_token, signed_in_client, unit_by_code, user
from tests.quizzes.conftest import bearer, quiz_factory  # noqa: F401 - a fixture

PASSWORD = "demo1234"


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _students(code: str) -> list[User]:
    school = unit_by_code(code)
    return list(db.session.scalars(members_of(school, role=Role.STUDENT)))


def _classmate() -> User:
    """A student of student1's class who is not linked to parent1."""
    return next(s for s in _students("S0101") if s.username != "student1")


def _post(client, path, username, body):
    return client.post(path, json=body, headers=bearer(username))


def _issue(client, student: User, username: str = "teacher1", **extra) -> dict:
    response = _post(
        client, "/api/v1/guardian-invites", username, {"student_id": student.id, **extra}
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _redeem(client, code: str, name: str, relation: str = "母亲", username: str = "parent1"):
    return _post(
        client,
        "/api/v1/guardian-invites/redeem",
        username,
        {"code": code, "child_name": name, "relation": relation},
    )


def _linked(guardian: User, student: User) -> bool:
    return (
        db.session.scalar(
            select(GuardianLink.id).filter_by(guardian_id=guardian.id, student_id=student.id)
        )
        is not None
    )


def test_an_invite_code_is_short_unambiguous_and_only_its_hash_is_kept(client, ctx):
    classmate = _classmate()
    issued = _issue(client, classmate)
    code = issued["code"]
    assert len(code) == 9 and code[4] == "-"
    assert set(code.replace("-", "")) <= set(service.CODE_ALPHABET)
    assert not set("01OIL") & set(code.replace("-", ""))
    expires = datetime.fromisoformat(issued["expires_at"])
    assert timedelta(days=6, hours=23) < expires - datetime.now(UTC) <= timedelta(days=7)
    invite = db.session.scalar(select(GuardianInvite).filter_by(student_id=classmate.id))
    assert invite.code_hash == service.code_hash(code)
    assert code.replace("-", "") not in invite.code_hash
    assert issued["link_url"].endswith(f"/family/link?code={code}")


def test_redeeming_without_a_matching_phone_waits_for_the_school(client, ctx):
    classmate = _classmate()
    parent = user("parent1")
    code = _issue(client, classmate)["code"]
    # typed loosely: lower case, no dash, the name with spaces and a full-width letter
    loose_name = " ".join(classmate.display_name)
    redeemed = _redeem(client, code.replace("-", "").lower(), loose_name)
    assert redeemed.status_code == 200, redeemed.get_json()
    assert redeemed.get_json() == {"status": "pending", "student_id": classmate.id}
    assert not _linked(parent, classmate)
    # the teacher confirms: linked, and parent1 holds the guardian role at the class
    pending = client.get("/api/v1/guardian-invites/requests", headers=bearer("teacher1"))
    [request] = [r for r in pending.get_json() if r["student_id"] == classmate.id]
    assert request["guardian_id"] == parent.id and request["relation"] == "母亲"
    decided = _post(
        client,
        f"/api/v1/guardian-invites/{request['id']}/decision",
        "teacher1",
        {"decision": "confirm"},
    )
    assert decided.status_code == 200, decided.get_json()
    db.session.expire_all()
    assert _linked(parent, classmate)
    assert db.session.scalar(
        select(AuditEvent.id).filter_by(action="parents.guardian_link_confirmed")
    )
    again = _post(
        client,
        f"/api/v1/guardian-invites/{request['id']}/decision",
        "teacher1",
        {"decision": "refuse"},
    )
    assert again.status_code == 409


def test_a_phone_the_school_has_links_at_once(client, ctx):
    classmate = _classmate()
    parent = user("parent1")
    code = _issue(client, classmate, phone=parent.phone)["code"]
    redeemed = _redeem(client, code, classmate.display_name, "父亲")
    assert redeemed.get_json()["status"] == "linked"
    db.session.expire_all()
    assert _linked(parent, classmate)
    klass = service.student_class(classmate)
    assert any(a.role == Role.GUARDIAN and a.unit_id == klass.id for a in parent.roles)


def test_expired_reused_and_mismatched_codes_are_refused_and_write_nothing(client, ctx):
    classmate = _classmate()
    code = _issue(client, classmate)["code"]
    before = (_count(GuardianLink), _count(AuditEvent))

    wrong = _redeem(client, code, "不是这个孩子")
    assert wrong.status_code == 400
    assert "name" in wrong.get_json()["message"] or "姓名" in wrong.get_json()["message"]
    unknown = _redeem(client, "ABCD-EFGH", classmate.display_name)
    assert unknown.status_code == 404
    bad_relation = _redeem(client, code, classmate.display_name, "邻居")
    assert bad_relation.status_code == 422 or bad_relation.status_code == 400
    invite = db.session.scalar(select(GuardianInvite).filter_by(student_id=classmate.id))
    assert invite.status == "open" and invite.guardian_id is None
    assert (_count(GuardianLink), _count(AuditEvent)) == before

    # the right name still works: a wrong one did not use the code up
    assert _redeem(client, code, classmate.display_name).status_code == 200
    reused = _redeem(client, code, classmate.display_name)
    assert reused.status_code == 409

    expired_code = _issue(client, classmate)["code"]
    old = db.session.scalar(
        select(GuardianInvite).filter_by(code_hash=service.code_hash(expired_code))
    )
    old.expires_at = datetime.now(UTC) - timedelta(minutes=1)
    db.session.commit()
    expired = _redeem(client, expired_code, classmate.display_name)
    assert expired.status_code == 410
    db.session.expire_all()
    assert old.status == "open" and old.guardian_id is None


def test_another_schools_student_is_not_there_for_a_teacher(client, ctx):
    other = _students("S0201")[0]
    response = _post(client, "/api/v1/guardian-invites", "teacher1", {"student_id": other.id})
    assert response.status_code == 404
    # nor for a guardian or a student, even of the right school
    mine = _classmate()
    for username in ("parent1", "student1"):
        refused = _post(client, "/api/v1/guardian-invites", username, {"student_id": mine.id})
        assert refused.status_code == 404
    assert _count(GuardianInvite) == 0


def test_only_a_guardians_account_redeems(client, ctx):
    classmate = _classmate()
    code = _issue(client, classmate)["code"]
    response = _redeem(client, code, classmate.display_name, username="teacher1")
    assert response.status_code == 403


def test_redeeming_is_rate_limited(app, client, ctx):
    app.config["FAMILY_REDEEM_LIMIT"] = "3 per hour"
    try:
        codes = [_redeem(client, "ZZZZ-ZZZZ", "某某").status_code for _i in range(4)]
    finally:
        app.config["FAMILY_REDEEM_LIMIT"] = "10 per hour"
    assert codes == [404, 404, 404, 429]


def test_unlinking_is_an_audited_admin_act(as_user, ctx):
    parent, child = user("parent1"), user("student1")
    teacher = as_user("teacher1")

    url = f"/family/students/{child.id}/unlink/{parent.id}"
    refused = teacher.post(url, data={"csrf_token": csrf_token(teacher, "/")})
    assert refused.status_code == 404
    admin = as_user("school_admin")
    done = admin.post(url, data={"csrf_token": csrf_token(admin, "/")})
    assert done.status_code == 302
    db.session.expire_all()
    assert not _linked(parent, child)
    event = db.session.scalar(select(AuditEvent).filter_by(action="parents.guardian_unlinked"))
    assert event.target_id == str(child.id) and event.details["guardian_id"] == parent.id


def test_a_guardian_sees_only_their_own_children(as_user, client, ctx):
    parent = as_user("parent1")
    mine = user("student1")
    other = _classmate()
    assert parent.get(f"/family/children/{mine.id}").status_code == 200
    assert parent.get(f"/family/children/{other.id}").status_code == 404
    assert parent.get("/family/children/999999").status_code == 404
    assert as_user("teacher1").get(f"/family/children/{mine.id}").status_code == 404
    children = client.get("/api/v1/me/children", headers=bearer("parent1")).get_json()
    assert [c["id"] for c in children] == [mine.id]
    assert client.get("/api/v1/me/children", headers=bearer("teacher1")).get_json() == []


def test_the_api_shape(client, ctx):
    [child] = client.get("/api/v1/me/children", headers=bearer("parent1")).get_json()
    assert {"id", "name", "school", "class", "courses", "assessments"} <= set(child)
    assert child["name"] == "王小明" and child["school"] and child["class"]
    assert child["courses"], "student1 has demo courses"
    for course in child["courses"]:
        assert set(course) == {"course_id", "title", "lessons", "completed_lessons", "completed"}
    spec = client.get("/api/v1/openapi.json").get_json()
    for path in ("/me/children", "/guardian-invites", "/guardian-invites/redeem"):
        assert any(p.endswith(path) for p in spec["paths"]), path


def _finish(quiz, student):
    from quizzes.service import attempts

    attempt = attempts.start_attempt(actor=student, quiz=quiz)
    attempts.submit_attempt(actor=student, attempt_id=attempt.id)
    db.session.flush()
    return attempt


def test_results_follow_each_quizs_review_policy(client, ctx, quiz_factory):  # noqa: F811
    student = user("student1")
    student_id = student.id
    now = datetime.now(UTC)
    shown = quiz_factory(review_policy="immediately")
    shown.title = "立即公布的测验"
    hidden = quiz_factory(review_policy="never")
    hidden.title = "从不公布的测验"
    later = quiz_factory(review_policy="after_close", closes_at=now + timedelta(days=1))
    later.title = "结束后公布的测验"
    for quiz in (shown, hidden, later):
        _finish(quiz, student)
    db.session.commit()
    [child] = client.get("/api/v1/me/children", headers=bearer("parent1")).get_json()
    results = {a["title"]: a for a in child["assessments"]}
    assert results["立即公布的测验"]["result_shown"] is True
    assert results["立即公布的测验"]["max_score"] is not None
    for title in ("从不公布的测验", "结束后公布的测验"):
        assert results[title]["result_shown"] is False
        assert results[title]["score"] is None and results[title]["max_score"] is None
        assert results[title]["passed"] is None
    # never an answer key, in the API or on the page
    page_client = signed_in_client(client.application, "parent1")
    page = page_client.get(f"/family/children/{student_id}").get_data(as_text=True)
    body = str(child) + page
    assert "SECRET" not in body
    assert "从不公布的测验" in page
    # the quizzes package's record page, to the guardian, follows the same policy
    record = page_client.get(f"/quizzes/record/{student_id}").get_data(as_text=True)
    assert record.count("按该测验的公布设置暂不显示") == 2
    teacher = signed_in_client(client.application, "teacher1")
    staff_record = teacher.get(f"/quizzes/record/{student_id}").get_data(as_text=True)
    assert "按该测验的公布设置暂不显示" not in staff_record


def _video_lesson(student: User) -> Lesson:
    """A playable lesson of a demo course student1 can see."""
    from courses import queries as course_queries

    for row in course_queries.my_courses(student):
        for unit in course_queries.outline(row.course, user=student, authoring=False):
            for item in unit.lessons:
                if item.is_playable and item.duration_seconds:
                    return item.lesson
    pytest.fail("no playable demo lesson")


def _watch(student: User, lesson: Lesson) -> None:
    """The player's heartbeats across the lesson, each as late as the server's clock wants."""
    duration = lesson.published_revision.duration_seconds
    start = datetime.now(UTC) - timedelta(minutes=10)
    position = 0.0
    step = 0
    while position < duration:
        course_progress.heartbeat(
            actor=student,
            lesson=lesson,
            position=position,
            playing=True,
            now=start + timedelta(seconds=step * 5),
        )
        position = min(duration, position + 4.0)
        step += 1
    course_progress.heartbeat(
        actor=student,
        lesson=lesson,
        position=duration,
        playing=False,
        now=start + timedelta(seconds=step * 5),
    )


def test_the_child_view_and_the_course_page_show_the_childs_progress(as_user, client, ctx):
    student = user("student1")
    lesson = _video_lesson(student)
    course = db.session.get(Course, lesson.course_id)
    parent = as_user("parent1")

    def done() -> int:
        children = client.get("/api/v1/me/children", headers=bearer("parent1")).get_json()
        return next(c for c in children[0]["courses"] if c["course_id"] == course.id)[
            "completed_lessons"
        ]

    before = done()
    page = parent.get(f"/courses/{course.id}").get_data(as_text=True)
    assert "王小明" in page  # the child's progress, named
    _watch(student, lesson)
    db.session.commit()
    assert db.session.scalar(
        select(LessonProgress.completed_at).filter_by(user_id=student.id, lesson_id=lesson.id)
    )
    assert done() == before + 1
    child_page = parent.get(f"/family/children/{student.id}").get_data(as_text=True)
    assert course.title in child_page
    course_page = parent.get(f"/courses/{course.id}?learner={student.id}")
    assert course_page.status_code == 200
    text = course_page.get_data(as_text=True)
    assert f"{before + 1}" in text
    # read-only: no "continue" button for the guardian on the child's progress
    assert 'class="button primary"' not in text
    # someone else's child on the course page: 404
    other = _classmate()
    assert parent.get(f"/courses/{course.id}?learner={other.id}").status_code == 404


def test_the_weekly_digest_reaches_each_guardian_once(ctx):
    parent = user("parent1")
    sent = service.send_weekly_digests()
    assert sent >= 1
    notices = db.session.scalars(
        select(Notification).filter_by(user_id=parent.id, kind=service.DIGEST_KIND)
    ).all()
    assert len(notices) == 1 and "王小明" in notices[0].body
    assert notices[0].link == "/family"
    assert service.send_weekly_digests() == 0
