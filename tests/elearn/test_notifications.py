"""The inbox: bulk sending, the home panel and badge, reading, the API, retention."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from elearn.extensions import db
from elearn.models import Notification, RoleAssignment, Unit, User
from elearn.models._types import utcnow
from elearn.service import notifications
from elearn.service.errors import ServiceError
from tests.conftest import post_form, unit_by_code, user
from tests.elearn.test_api import token_for


def _count(user_id: int, *, unread: bool = False) -> int:
    query = select(func.count()).select_from(Notification).where(Notification.user_id == user_id)
    if unread:
        query = query.where(Notification.read_at.is_(None))
    return db.session.scalar(query)


def test_notify_a_select_sends_one_notice_per_person_in_one_statement(ctx):
    school = unit_by_code("S0101")
    students = (
        select(RoleAssignment.user_id)
        .join(Unit, Unit.id == RoleAssignment.unit_id)
        .where(RoleAssignment.role == "student", Unit.path.startswith(school.path))
    )
    expected = len(set(db.session.scalars(students)))
    assert expected > 1
    sent = notifications.notify(
        students, kind="test.reminder", title="请参加期末禁毒知识测试", link="/quizzes"
    )
    db.session.flush()
    assert sent == expected
    total = db.session.scalar(
        select(func.count()).select_from(Notification).where(Notification.kind == "test.reminder")
    )
    assert total == expected


def test_notify_ids_deduplicates_and_checks_title_and_link(ctx):
    student = user("student1")
    assert notifications.notify([student.id, student.id], kind="t", title="  标题 ") == 1
    db.session.flush()
    assert _count(student.id) == 1
    with pytest.raises(ServiceError):
        notifications.notify([student.id], kind="t", title="   ")
    for link in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)", "/\\evil"):
        with pytest.raises(ServiceError):
            notifications.notify([student.id], kind="t", title="x", link=link)


def test_home_shows_unread_notices_and_the_menu_counts_them(signed_in, app):
    with app.app_context():
        student = user("student1")
        notifications.notify(
            [student.id], kind="t", title="<b>期末测试</b>提醒", body="请在周五前完成"
        )
        db.session.commit()
    client = signed_in("student1")
    home = client.get("/").get_data(as_text=True)
    assert "&lt;b&gt;期末测试&lt;/b&gt;提醒" in home and "<b>期末测试" not in home
    assert "消息 (1)" in home
    # teacher1 has none: no panel, a plain menu entry
    other = signed_in("teacher1").get("/").get_data(as_text=True)
    assert "期末测试" not in other and "消息 (" not in other


def test_opening_a_notice_marks_it_read_and_follows_its_link(signed_in, app):
    with app.app_context():
        student = user("student1")
        notifications.notify([student.id], kind="t", title="直播提醒", link="/lectures")
        db.session.commit()
        notice_id = db.session.scalar(
            select(Notification.id).where(Notification.user_id == student.id)
        )
    client = signed_in("student1")
    response = post_form(client, f"/notifications/{notice_id}/open", page="/notifications")
    assert response.status_code == 302 and response.headers["Location"] == "/lectures"
    with app.app_context():
        assert _count(user("student1").id, unread=True) == 0
    # another person's notice is not theirs to open
    stranger = signed_in("teacher1")
    assert post_form(stranger, f"/notifications/{notice_id}/open").status_code == 404


def test_inbox_page_lists_filters_and_marks_all_read(signed_in, app):
    with app.app_context():
        student = user("student1")
        notifications.notify([student.id], kind="t", title="第一条")
        notifications.notify([student.id], kind="t", title="第二条")
        db.session.commit()
    client = signed_in("student1")
    page = client.get("/notifications").get_data(as_text=True)
    assert page.index("第二条") < page.index("第一条")
    assert "全部标为已读" in page
    assert post_form(client, "/notifications/read", page="/notifications").status_code == 302
    with app.app_context():
        assert _count(user("student1").id, unread=True) == 0
    assert "第一条" not in client.get("/notifications?unread=1").get_data(as_text=True)
    empty = signed_in("teacher1").get("/notifications").get_data(as_text=True)
    assert "暂无消息" in empty


def test_api_lists_and_marks_read_only_the_callers_own(client, app):
    with app.app_context():
        student, teacher = user("student1"), user("teacher1")
        notifications.notify([student.id], kind="t", title="给学生")
        notifications.notify([teacher.id], kind="t", title="给老师")
        db.session.commit()
        theirs = db.session.scalar(
            select(Notification.id).where(Notification.user_id == teacher.id)
        )
    headers = {"Authorization": f"Bearer {token_for(client, 'student1')['token']}"}
    body = client.get("/api/v1/me/notifications", headers=headers).get_json()
    assert [item["title"] for item in body["items"]] == ["给学生"] and body["unread"] == 1
    mine = body["items"][0]["id"]
    marked = client.post(
        "/api/v1/me/notifications/read", json={"ids": [mine, theirs]}, headers=headers
    ).get_json()
    assert marked == {"marked": 1, "unread": 0}
    with app.app_context():
        assert _count(user("teacher1").id, unread=True) == 1
    bad = client.post("/api/v1/me/notifications/read", json={"ids": "all"}, headers=headers)
    assert bad.status_code == 422 and "ids" in bad.get_json()["errors"]


def test_purge_drops_only_long_read_notices(ctx):
    student = user("student1")
    notifications.notify([student.id], kind="t", title="旧的")
    notifications.notify([student.id], kind="t", title="新的")
    notifications.notify([student.id], kind="t", title="未读")
    db.session.flush()
    db.session.execute(
        update(Notification)
        .where(Notification.title == "旧的")
        .values(read_at=utcnow() - timedelta(days=200))
    )
    db.session.execute(
        update(Notification).where(Notification.title == "新的").values(read_at=utcnow())
    )
    assert notifications.purge_read(timedelta(days=180)) == 1
    titles = set(
        db.session.scalars(select(Notification.title).where(Notification.user_id == student.id))
    )
    assert titles == {"新的", "未读"}


def test_purge_task_is_on_the_beat_schedule(app):
    schedule = app.extensions["celery"].conf.beat_schedule
    assert any(e["task"] == "elearn.purge_read_notifications" for e in schedule.values())
    assert User  # the model module is imported by the carrier
