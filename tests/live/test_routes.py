"""Pages: the home panel, the menu item, the list and the room, escaped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.conftest import unit_by_code, user


def _schedule(app, title: str, **extra):
    from elearn.extensions import db
    from live import service

    with app.test_request_context():
        lecture = service.create_lecture(
            actor=user("expert1"),
            title=title,
            starts_at=datetime.now(UTC) + timedelta(hours=2),
            audience=extra.pop("audience", [{"unit_id": unit_by_code("C01").id}]),
            **extra,
        )
        db.session.commit()
        return lecture.id


def test_home_panel_lists_upcoming_lectures_with_training_marked(app, signed_in):
    _schedule(app, "全州教师禁毒培训", audience=[{"role": "teacher"}], is_training=True)
    page = signed_in("teacher1").get("/").get_data(as_text=True)
    assert "全州教师禁毒培训" in page and "教师培训" in page and "直播课" in page
    page = signed_in("student1").get("/").get_data(as_text=True)
    assert "全州教师禁毒培训" not in page
    assert "远离毒品" in page  # the demo seed's lecture for the county


def test_admins_home_panel_shows_the_lectures_they_oversee(app, signed_in):
    """pref_admin's home said "no upcoming lectures" while the list page showed the prefecture's
    lectures: the panel kept only lectures the admin hosts or sits in the audience of."""
    from elearn.extensions import db
    from live import service

    with app.test_request_context():
        school = service.create_lecture(
            actor=user("teacher1"),
            title="五年级1班禁毒班会",
            starts_at=datetime.now(UTC) + timedelta(hours=3),
            audience=[{"unit_id": unit_by_code("S0101").id, "role": "student"}],
        )
        elsewhere = service.create_lecture(
            actor=user("t_S0201_5"),
            title="另一县的班会",
            starts_at=datetime.now(UTC) + timedelta(hours=3),
            audience=[{"unit_id": unit_by_code("S0201").id}],
        )
        db.session.commit()
        lectures = {school.id: school.title, elsewhere.id: elsewhere.title}
    pref = signed_in("pref_admin").get("/").get_data(as_text=True)
    assert "远离毒品" in pref and lectures[school.id] in pref and lectures[elsewhere.id] in pref
    assert "近期没有直播课" not in pref
    county = signed_in("county_admin").get("/").get_data(as_text=True)
    assert "远离毒品" in county and lectures[school.id] in county
    assert lectures[elsewhere.id] not in county  # another county's lecture stays out of sight
    school_admin = signed_in("school_admin").get("/").get_data(as_text=True)
    assert lectures[school.id] in school_admin and lectures[elsewhere.id] not in school_admin


def test_titles_are_escaped(app, signed_in):
    lecture_id = _schedule(app, "<script>alert(1)</script>")
    for path in ("/lectures", f"/lectures/{lecture_id}", "/"):
        page = signed_in("student1").get(path).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_room_is_a_404_outside_the_audience(app, signed_in):
    lecture_id = _schedule(app, "示范市专场")
    assert signed_in("s_S0201_5_01").get(f"/lectures/{lecture_id}").status_code == 404
    page = signed_in("expert1").get(f"/lectures/{lecture_id}").get_data(as_text=True)
    assert 'data-is-host="true"' in page
    page = signed_in("student1").get(f"/lectures/{lecture_id}").get_data(as_text=True)
    assert 'data-is-host="false"' in page


def test_schedule_form(app, signed_in):
    from tests.conftest import post_form

    with app.app_context():
        county = unit_by_code("C01").id
    expert = signed_in("expert1")
    assert county and f'value="{county}"' in expert.get("/lectures/new").get_data(as_text=True)
    response = post_form(
        expert,
        "/lectures/new",
        {
            "title": "全州教师培训",
            "starts_at": "2030-03-01T09:00",
            "unit_id": county,
            "role": "teacher",
            "is_training": "y",
        },
        page="/lectures/new",
    )
    assert response.status_code == 302
    page = signed_in("teacher1").get("/lectures").get_data(as_text=True)
    assert "全州教师培训" in page and "教师培训" in page
    assert "全州教师培训" not in signed_in("student1").get("/lectures").get_data(as_text=True)
    bad = post_form(expert, "/lectures/new", {"title": "", "unit_id": county}, page="/lectures/new")
    assert bad.status_code == 400
    assert signed_in("student1").get("/lectures/new").status_code == 403


def test_schedule_form_links_a_lesson_the_lecturer_can_see(app, signed_in):
    from sqlalchemy import select

    from elearn.extensions import db
    from live.models import Lecture
    from tests.conftest import post_form
    from tests.courses.helpers import make_course

    with app.test_request_context():
        published = make_course(title="直播关联课程", lessons=1)
        draft = make_course(title="未发布的课程", lessons=1, publish=False)
        db.session.commit()
        lesson = published.course_units[0].lessons[0]
        lesson_id, hidden_id = lesson.id, draft.course_units[0].lessons[0].id
        county = unit_by_code("C01").id
    expert = signed_in("expert1")
    page = expert.get("/lectures/new").get_data(as_text=True)
    assert f'value="{lesson_id}"' in page and "直播关联课程 · 第1课" in page
    assert f'value="{hidden_id}"' not in page  # a draft the expert cannot see
    form = {
        "title": "关联课时的直播",
        "starts_at": "2030-03-01T09:00",
        "unit_id": county,
        "role": "",
    }
    refused = post_form(expert, "/lectures/new", {**form, "lesson_id": hidden_id},
                        page="/lectures/new")  # fmt: skip
    assert refused.status_code == 400
    response = post_form(expert, "/lectures/new", {**form, "lesson_id": lesson_id},
                         page="/lectures/new")  # fmt: skip
    assert response.status_code == 302
    with app.app_context():
        lecture = db.session.scalar(select(Lecture).where(Lecture.title == "关联课时的直播"))
        assert lecture is not None and lecture.lesson_id == lesson_id
