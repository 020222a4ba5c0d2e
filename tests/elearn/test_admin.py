"""Admin pages: the org tree within scope, people, password resets, roles, terms, audit log."""

import re

import pytest
from sqlalchemy import select

from elearn.extensions import db
from elearn.models import AuditEvent, Role, Unit
from elearn.service import accounts
from elearn.service.errors import Forbidden
from tests.conftest import login, post_form, unit_by_code, user


def ids(app, *codes):
    with app.app_context():
        return [unit_by_code(code).id for code in codes]


def test_school_admin_sees_own_school_and_404_elsewhere(signed_in, app):
    school, other, county = ids(app, "S0101", "S0201", "C01")
    admin = signed_in("school_admin")
    page = admin.get(f"/admin/units/{school}")
    assert page.status_code == 200 and "示范市第一小学" in page.get_data(as_text=True)
    assert admin.get(f"/admin/units/{other}").status_code == 404
    assert admin.get(f"/admin/units/{other}/members").status_code == 404
    # the county above is out of a school admin's sight too
    assert admin.get(f"/admin/units/{county}").status_code == 404


def test_county_admin_cannot_reach_other_county_people(signed_in, app):
    with app.app_context():
        other_student = db.session.scalar(select(Unit).where(Unit.code == "S0201")).id
    admin = signed_in("county_admin")
    assert admin.get(f"/admin/units/{other_student}/members").status_code == 404
    with app.app_context():
        from elearn.models import User

        far = db.session.scalar(select(User).where(User.username.like("s_S0201_%")))
    assert admin.get(f"/admin/users/{far.id}").status_code == 404


def test_students_and_teachers_cannot_open_admin_pages(signed_in):
    assert signed_in("student1").get("/admin/units").status_code == 403
    assert signed_in("teacher1").get("/admin/audit").status_code == 403


def test_create_edit_and_delete_a_class(signed_in, app):
    (school,) = ids(app, "S0101")
    admin = signed_in("school_admin")
    with app.app_context():
        grade = db.session.scalar(
            select(Unit).where(Unit.parent_id == school, Unit.code == "G5")
        ).id
    response = post_form(
        admin, f"/admin/units/{grade}/children/new", {"name": "五年级9班", "code": "5-9"}
    )
    assert response.status_code == 302
    with app.app_context():
        klass = db.session.scalar(select(Unit).where(Unit.code == "5-9"))
        assert klass.type == "class" and klass.path.startswith("/") and klass.parent_id == grade
        klass_id = klass.id
    duplicate = post_form(
        admin, f"/admin/units/{grade}/children/new", {"name": "重复", "code": "5-9"}
    )
    assert duplicate.status_code == 400 and "5-9" in duplicate.get_data(as_text=True)
    assert (
        post_form(
            admin, f"/admin/units/{klass_id}/edit", {"name": "五年级十班", "code": "5-10"}
        ).status_code
        == 302
    )
    assert post_form(admin, f"/admin/units/{klass_id}/delete").status_code == 302
    with app.app_context():
        assert db.session.get(Unit, klass_id) is None
        assert db.session.scalar(select(AuditEvent).filter_by(action="unit.deleted")) is not None


def test_a_unit_with_people_cannot_be_deleted(signed_in, app):
    admin = signed_in("school_admin")
    klass = user_class(app, "student1")
    response = post_form(admin, f"/admin/units/{klass}/delete")
    assert response.status_code == 400 and "只能删除空的单位" in response.get_data(as_text=True)


def user_class(app, username):
    with app.app_context():
        return user(username).roles[0].unit_id


def slip_passwords(page) -> dict[str, str]:
    """username → initial password, as the account slip's print page shows them."""
    text = page.get_data(as_text=True)
    logins = re.findall(r'class="mono slip-login">([^<]+)<', text)
    passwords = re.findall(r'class="mono slip-password">([^<]+)<', text)
    assert len(logins) == len(passwords)
    return dict(zip(logins, passwords, strict=True))


def test_admin_resets_password_and_every_session_ends(signed_in, app):
    student = signed_in("student1")
    assert student.get("/").status_code == 200
    with app.app_context():
        student_id = user("student1").id
    admin = signed_in("school_admin")
    response = post_form(admin, f"/admin/users/{student_id}/reset-password")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    password = slip_passwords(response)["student1"]
    assert len(password) == 10 and password != "demo1234"
    assert student.get("/").status_code == 302  # signed out everywhere
    fresh = app.test_client()
    assert login(fresh, "student1", "demo1234").status_code == 401
    assert login(fresh, "student1", password).headers["Location"].startswith("/account/password")
    with app.app_context():
        assert db.session.scalar(select(AuditEvent).filter_by(action="password.reset")).actor_id


def test_a_school_admin_cannot_reset_a_county_admin(signed_in, app):
    with app.app_context():
        target = user("county_admin").id
    assert signed_in("school_admin").get(f"/admin/users/{target}").status_code == 404


def test_members_search_and_pagination(signed_in, app):
    (school,) = ids(app, "S0101")
    admin = signed_in("school_admin")
    page = admin.get(f"/admin/units/{school}/members?role=student&q=student1")
    text = page.get_data(as_text=True)
    assert "王小明" in text and "共 1 人" in text
    everyone = admin.get(f"/admin/units/{school}/members").get_data(as_text=True)
    assert "第 1 / " in everyone


def test_audit_log_is_scoped(signed_in, app, client):
    login(client, "teacher1")
    login(app.test_client(), "t_S0201_5", "wrong-password")
    school_page = signed_in("school_admin").get("/admin/audit").get_data(as_text=True)
    assert "<strong>登录成功</strong>" in school_page and "李老师" in school_page
    # that failure was at another county's school
    assert "<strong>登录失败</strong>" not in school_page
    pref_page = signed_in("pref_admin").get("/admin/audit?action=login").get_data(as_text=True)
    assert "<strong>登录失败</strong>" in pref_page


def test_terms_page_and_overlap_refused(signed_in):
    admin = signed_in("pref_admin")
    assert admin.get("/admin/terms").status_code == 200
    response = post_form(
        admin, "/admin/terms", {"name": "x", "starts_on": "2000-01-01", "ends_on": "2099-01-01"}
    )
    assert response.status_code == 400 and "不能重叠" in response.get_data(as_text=True)


def test_role_add_and_remove(signed_in, app):
    with app.app_context():
        teacher = user("teacher1")
        klass = teacher.roles[0].unit_id
        teacher_id = teacher.id
    admin = signed_in("school_admin")
    assert (
        post_form(
            admin, f"/admin/users/{teacher_id}/roles", {"role": "guardian", "unit_id": klass}
        ).status_code
        == 302
    )
    with app.app_context():
        roles = {a.role for a in user("teacher1").roles}
        assert roles == {"teacher", "guardian"}  # a teacher who is also a guardian


def test_admins_get_the_admin_menu_and_students_do_not(signed_in):
    admin_home = signed_in("county_admin").get("/").get_data(as_text=True)
    assert "/admin/units" in admin_home and "审计日志" in admin_home
    assert "/admin/units" not in signed_in("student1").get("/").get_data(as_text=True)


def test_a_county_page_breaks_coverage_down_by_school(signed_in, app):
    (county,) = ids(app, "C01")
    text = signed_in("county_admin").get(f"/admin/units/{county}").get_data(as_text=True)
    assert "示范市第一小学" in text and "示范市第二中学" in text
    assert text.count("学校 100%") == 2  # each school connected by its roster


def test_audit_times_are_shown_in_beijing_time(signed_in, app):
    from datetime import UTC, datetime

    with app.app_context():
        event = AuditEvent(
            action="test.marker",
            actor_id=user("pref_admin").id,
            unit_id=unit_by_code("DEMO").id,
            at=datetime(2026, 1, 1, 16, 30, tzinfo=UTC),
            details={},
        )
        db.session.add(event)
        db.session.commit()
    text = signed_in("pref_admin").get("/admin/audit?action=test.marker").get_data(as_text=True)
    assert "2026-01-02 00:30:00" in text  # UTC+8


# --- who may give admin roles: only from above --------------------------------------------------


def test_the_role_form_offers_units_by_full_name_not_a_typed_id(signed_in, app):
    with app.app_context():
        teacher_id = user("teacher1").id
    page = signed_in("school_admin").get(f"/admin/users/{teacher_id}").get_data(as_text=True)
    select_ = re.search(r'<select[^>]*name="unit_id"[^>]*>(.*?)</select>', page, re.S)
    assert select_, "the unit is picked from a list"
    options = re.findall(r"<option[^>]*>([^<]*)</option>", select_.group(1))
    assert "五年级1班 · 示范州 / 示范市 / 示范市第一小学 / 五年级" in options
    assert "示范市第一小学 · 示范州 / 示范市" in options
    assert not any("山区县" in o for o in options)  # another county's units are not offered
    assert not re.search(r'<input[^>]*name="unit_id"', page)
    roles = re.search(r'<select name="role">(.*?)</select>', page, re.S).group(1)
    assert 'value="teacher"' in roles and 'value="school_admin"' not in roles


def test_a_school_admin_cannot_make_a_school_admin_at_their_own_school(signed_in, app):
    with app.app_context():
        teacher_id, school = user("teacher1").id, unit_by_code("S0101").id
    admin = signed_in("school_admin")
    refused = post_form(
        admin, f"/admin/users/{teacher_id}/roles", {"role": "school_admin", "unit_id": school}
    )
    assert refused.status_code == 400
    with app.app_context():
        assert not user("teacher1").has_role(Role.SCHOOL_ADMIN)


def test_the_service_refuses_a_grant_at_the_granters_own_level(ctx):
    school_admin, teacher = user("school_admin"), user("teacher1")
    with pytest.raises(Forbidden):
        accounts.assign_role(
            actor=school_admin, user=teacher, role=Role.SCHOOL_ADMIN, unit=unit_by_code("S0101")
        )
    with pytest.raises(Forbidden):  # nor may a county admin make a county admin
        accounts.assign_role(
            actor=user("county_admin"),
            user=teacher,
            role=Role.COUNTY_ADMIN,
            unit=unit_by_code("C01"),
        )


def test_a_county_admin_makes_a_school_admin_and_can_take_it_back(signed_in, app):
    with app.app_context():
        teacher_id, school = user("teacher1").id, unit_by_code("S0101").id
    admin = signed_in("county_admin")
    granted = post_form(
        admin, f"/admin/users/{teacher_id}/roles", {"role": "school_admin", "unit_id": school}
    )
    assert granted.status_code == 302
    with app.app_context():
        assignment = next(a for a in user("teacher1").roles if a.role == Role.SCHOOL_ADMIN)
        assignment_id = assignment.id
    # the new school admin is out of the other school admin's reach...
    assert signed_in("school_admin").get(f"/admin/users/{teacher_id}").status_code == 404
    # ...and the county admin who made it can take it back
    page = admin.get(f"/admin/users/{teacher_id}").get_data(as_text=True)
    assert f"/roles/{assignment_id}/delete" in page
    revoked = post_form(admin, f"/admin/users/{teacher_id}/roles/{assignment_id}/delete")
    assert revoked.status_code == 302
    with app.app_context():
        assert not user("teacher1").has_role(Role.SCHOOL_ADMIN)


def test_grade_and_class_pages_show_no_school_coverage_and_counts_read_as_counts(signed_in, app):
    """A grade's or class's page showed "学校开课 0/0" in the colour of "behind" (it counts
    schools, and there are none below a school); the tree's "年级 2" / "班级 1" were counts."""
    county, school = ids(app, "C01", "S0101")
    with app.app_context():
        school_unit = db.session.get(Unit, school)
        grade = next(u for u in school_unit.children if u.type == "grade")
        klass = next(u for u in grade.children if u.type == "class")
        grade_id, class_id = grade.id, klass.id
    admin = signed_in("pref_admin")
    for unit_id in (grade_id, class_id):
        text = admin.get(f"/admin/units/{unit_id}").get_data(as_text=True)
        assert "学生学习课程" in text  # the coverages that mean something there remain
        assert "学校开课" not in text and "0 / 0" not in text
    school_page = admin.get(f"/admin/units/{school}").get_data(as_text=True)
    assert "学校开课" in school_page  # a school counts itself
    assert "1 个班级" in school_page and "班级 1" not in school_page
    county_page = admin.get(f"/admin/units/{county}").get_data(as_text=True)
    assert "个年级" in county_page and "年级 2" not in county_page


def test_a_coverage_nobody_is_counted_in_is_neutral_not_behind(signed_in, app):
    (grade,) = ids(app, "S0101")
    with app.app_context():
        grade = next(u for u in db.session.get(Unit, grade).children if u.type == "grade").id
    admin = signed_in("school_admin")
    post_form(admin, f"/admin/units/{grade}/children/new", {"name": "五年级9班", "code": "5-9"})
    with app.app_context():
        empty = db.session.scalar(select(Unit.id).where(Unit.name == "五年级9班"))
    text = admin.get(f"/admin/units/{empty}").get_data(as_text=True)
    assert text.count("这里还没有可统计的人") == 3 and 'class="metric behind"' not in text


def _audit_rows(page: str) -> str:
    """The log's rows, without the filter (whose options carry the action codes)."""
    return page.split("<tbody>", 1)[1] if "<tbody>" in page else ""


def test_audit_log_reads_as_people_read(signed_in, app):
    """It showed raw codes (`login.succeeded`, `quiz 1`): actions are named in the viewer's
    language, targets by their names with a link where the viewer may open them, a deleted
    unit by the name it had, and an unknown code as it is."""
    from quizzes.models import Quiz

    with app.app_context():
        quiz = db.session.scalar(select(Quiz).order_by(Quiz.id))
        quiz_id, quiz_title = quiz.id, quiz.title
        school = unit_by_code("S0101")
        for action, target_type, target_id, details in (
            ("unit.deleted", "unit", "2147483647", {"name": "已撤并的九年级"}),
            ("test.unknown_code", None, None, {}),
            ("role.granted", "user", str(user("teacher1").id), {"role": "school_admin"}),
        ):
            db.session.add(
                AuditEvent(
                    action=action,
                    actor_id=user("school_admin").id,
                    unit_id=school.id,
                    target_type=target_type,
                    target_id=target_id,
                    details=details,
                )
            )
        db.session.commit()
    admin = signed_in("pref_admin")
    rows = _audit_rows(admin.get("/admin/audit?action=quiz.created").get_data(as_text=True))
    assert "<strong>新建测验</strong>" in rows and "quiz.created" not in rows
    assert f'<a href="/quizzes/{quiz_id}/results">{quiz_title}</a>' in rows
    assert "quiz 1" not in rows and f"quiz {quiz_id}" not in rows
    rows = _audit_rows(admin.get("/admin/audit?action=unit.deleted").get_data(as_text=True))
    assert "<strong>删除单位</strong>" in rows and "已撤并的九年级" in rows
    rows = _audit_rows(admin.get("/admin/audit?action=role").get_data(as_text=True))
    assert "<strong>授予角色</strong>" in rows and "学校管理员" in rows and "李老师" in rows
    rows = _audit_rows(admin.get("/admin/audit?action=test.").get_data(as_text=True))
    assert "test.unknown_code" in rows  # a code nobody named yet still shows
    english = signed_in("pref_admin")
    english.get("/lang/en")
    page = english.get("/admin/audit?action=role").get_data(as_text=True)
    assert "<strong>Role granted</strong>" in _audit_rows(page)


def test_audit_log_filter_offers_actions_by_name(signed_in):
    page = signed_in("school_admin").get("/admin/audit").get_data(as_text=True)
    assert '<option value="login.failed">登录失败</option>' in page
    assert '<option value="course">课程（全部操作）</option>' in page
    selected = signed_in("school_admin").get("/admin/audit?action=login.failed")
    assert '<option value="login.failed" selected>' in selected.get_data(as_text=True)
