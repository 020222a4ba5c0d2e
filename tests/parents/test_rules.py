"""Who may message whom: a test per row of ``parents.interaction.rules.CONTACT_RULES``.

Demo people (elearn/seed/demo.py): teacher1, student1 and parent1 (student1's father) are in class
5-1 of school S0101, whose teacher is also t_S0101_5; class 6-1 of the same school has teacher
t_S0101_6 and guardians g_S0101_6_NN; school S0102 (same county C01) has t_S0102_7 and
g_S0102_7_NN; school_admin runs S0101, county_admin C01, pref_admin the prefecture.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from elearn import permissions
from elearn.extensions import db
from parents.interaction import rules
from parents.interaction.models import Conversation, ConversationMember
from parents.interaction.rules import Contact, deciding_rule, may_message
from tests.conftest import unit_by_code
from tests.parents.helpers import person, user


def decided(a: str, b: str) -> str | None:
    rule = deciding_rule(user(a), user(b))
    return rule.name if rule else None


def both_ways(a: str, b: str) -> bool:
    first, second = may_message(user(a), user(b)), may_message(user(b), user(a))
    assert first == second, f"{a} → {b}: {first}, {b} → {a}: {second}"
    return first


def test_every_row_has_a_test_and_a_unique_name():
    names = [rule.name for rule in rules.CONTACT_RULES]
    assert len(names) == len(set(names))
    source = Path(__file__).read_text()
    assert all(f"def test_row_{name}" in source for name in names)


def test_row_student_own_class_teacher(ctx):
    assert both_ways("student1", "teacher1")
    assert both_ways("student1", "t_S0101_5")
    assert decided("student1", "teacher1") == "student_own_class_teacher"
    # a teacher of another class of the same school is not the student's teacher
    assert not both_ways("student1", "t_S0101_6")


def test_row_no_other_adult_with_a_minor(ctx):
    for adult in ("school_admin", "county_admin", "parent1", "g_S0101_5_02", "t_S0101_6"):
        assert not both_ways(adult, "student1"), adult
        assert decided(adult, "student1") == "no_other_adult_with_a_minor"
    # nor do students message each other
    assert not both_ways("student1", "s_S0101_5_02")


def test_row_guardians_not_each_other(ctx):
    assert not both_ways("parent1", "g_S0101_5_02")
    assert decided("parent1", "g_S0101_5_02") == "guardians_not_each_other"


def test_row_teacher_class_guardians(ctx):
    assert both_ways("teacher1", "parent1")
    assert decided("parent1", "teacher1") == "teacher_class_guardians"
    assert both_ways("t_S0101_6", "g_S0101_6_01")
    # guardians of a class the teacher does not teach: no
    assert not both_ways("teacher1", "g_S0101_6_01")


def test_row_school_admin_school_people(ctx):
    assert both_ways("school_admin", "t_S0101_6")
    assert both_ways("school_admin", "g_S0101_6_01")
    assert decided("g_S0101_6_01", "school_admin") == "school_admin_school_people"
    # another school's people, even in the same county: no
    assert not both_ways("school_admin", "t_S0102_7")
    assert not both_ways("school_admin", "g_S0102_7_01")


def test_row_school_colleagues(ctx):
    assert both_ways("teacher1", "t_S0101_6")
    assert decided("teacher1", "t_S0101_6") == "school_colleagues"
    assert not both_ways("teacher1", "t_S0102_7")


def test_row_admins_downward(ctx):
    assert both_ways("county_admin", "school_admin")
    assert both_ways("pref_admin", "county_admin")
    assert both_ways("pref_admin", "school_admin")
    assert decided("school_admin", "county_admin") == "admins_downward"
    # an admin reaches admins below, not a school's teachers and families
    assert not both_ways("county_admin", "teacher1")
    assert not both_ways("pref_admin", "parent1")
    # nor a county's admin the school admins of another county
    other = person("sa_S0201", "school_admin", "S0201")
    assert not may_message(user("county_admin"), other)
    assert not may_message(other, user("county_admin"))
    # nor one school admin another (peers, not downward)
    assert not may_message(other, user("school_admin"))


def test_nobody_else_messages_across_schools(ctx):
    assert deciding_rule(user("teacher1"), user("g_S0102_7_01")) is None
    assert not both_ways("teacher1", "g_S0102_7_01")
    assert not both_ways("t_S0102_7", "parent1")
    assert not may_message(user("teacher1"), user("teacher1"))


def test_the_table_is_in_the_permission_registry(ctx):
    assert permissions.can(user("teacher1"), "message", Contact(user("parent1")))
    assert not permissions.can(user("teacher1"), "message", Contact(user("g_S0102_7_01")))
    assert not permissions.can(user("teacher1"), "delete", Contact(user("parent1")))


@pytest.fixture
def student_thread(ctx) -> Conversation:
    conversation = Conversation(
        kind="direct", unit_id=unit_by_code("S0101").id, created_by_id=user("teacher1").id
    )
    db.session.add(conversation)
    db.session.flush()
    for name in ("teacher1", "student1"):
        db.session.add(ConversationMember(conversation_id=conversation.id, user_id=user(name).id))
    db.session.flush()
    db.session.refresh(conversation)
    return conversation


def test_a_guardian_reads_every_conversation_of_their_child(student_thread):
    assert permissions.can(user("parent1"), "view", student_thread)
    assert not permissions.can(user("parent1"), "post", student_thread)
    assert permissions.can(user("student1"), "post", student_thread)
    # another child's guardian, a colleague, an admin of another county: no
    for name in ("g_S0101_5_02", "t_S0101_6"):
        assert not permissions.can(user(name), "view", student_thread), name


def test_admins_over_the_scope_review_held_messages(student_thread):
    for name in ("school_admin", "county_admin", "pref_admin"):
        assert permissions.can(user(name), "review", student_thread), name
    assert not permissions.can(user("teacher1"), "review", student_thread)
    other = person("sa_S0201", "school_admin", "S0201")
    assert not permissions.can(other, "review", student_thread)
