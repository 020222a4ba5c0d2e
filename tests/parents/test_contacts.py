"""Whom the "new conversation" page offers: only people the table allows, found from where the
viewer stands; and starting a conversation from it."""

from __future__ import annotations

from parents.interaction import contacts, rules
from tests.conftest import post_form
from tests.parents.helpers import user


def names(viewer: str) -> set[str]:
    return {c.user.username for c in contacts.candidates(user(viewer))}


def test_a_guardian_is_offered_their_childs_teachers_and_school_admin(ctx):
    offered = names("parent1")
    assert {"teacher1", "t_S0101_5", "school_admin"} <= offered
    assert "t_S0101_6" not in offered and "g_S0101_5_02" not in offered
    assert "student1" not in offered


def test_a_teacher_is_offered_their_classs_families_and_colleagues(ctx):
    offered = names("teacher1")
    assert {"parent1", "g_S0101_5_02", "t_S0101_6", "school_admin"} <= offered
    assert "student1" in offered  # their own class's student
    assert "g_S0101_6_01" not in offered and "t_S0102_7" not in offered
    [klass] = contacts.broadcast_classes(user("teacher1"))
    assert klass.code == "5-1"


def test_every_offer_is_one_the_table_allows(ctx):
    for viewer in ("parent1", "teacher1", "student1", "school_admin", "county_admin", "pref_admin"):
        for contact in contacts.candidates(user(viewer)):
            assert rules.may_message(user(viewer), contact.user), (viewer, contact.user.username)
    assert names("county_admin") == {"pref_admin", "school_admin"}
    assert names("student1") >= {"teacher1", "t_S0101_5"}


def test_starting_from_the_page(app, signed_in):
    with app.app_context():
        teacher_id = user("teacher1").id
        stranger_id = user("t_S0102_7").id
    parent = signed_in("parent1")
    page = parent.get("/messages/new").get_data(as_text=True)
    assert "李老师" in page and "发起沟通" in page
    response = post_form(parent, "/messages/new", {"user_id": teacher_id}, page="/messages/new")
    assert response.status_code == 302 and "/messages/" in response.headers["Location"]
    refused = post_form(parent, "/messages/new", {"user_id": stranger_id}, page="/messages/new")
    assert refused.status_code == 404
