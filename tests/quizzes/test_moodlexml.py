"""Moodle XML: the public fixtures, whole-file rejection, Chinese questions, round trips."""

from __future__ import annotations

import pytest

from quizzes.interchange import gift, moodlexml
from tests.quizzes.interchange_helpers import FIXTURES, content
from tests.quizzes.test_gift import CHINESE

XML = FIXTURES / "moodle" / "xml" / "tests" / "fixtures"
REJECTED = {"error_invalid_grades.xml", "broken_cloze_questions.xml", "multianswer.xml"}
ACCEPTED = sorted(p for p in XML.glob("*.xml") if p.name not in REJECTED)


@pytest.mark.parametrize("name", sorted(REJECTED))
def test_files_moodle_rejects_are_rejected_with_lines(name):
    parsed = moodlexml.parse((XML / name).read_bytes())
    assert parsed.errors
    assert all(error.line > 0 for error in parsed.errors)


def test_invalid_grade_names_the_grade():
    parsed = moodlexml.parse((XML / "error_invalid_grades.xml").read_bytes())
    assert [e.line for e in parsed.errors] == [4]
    assert "33" in parsed.errors[0].message


def test_every_broken_cloze_question_is_reported():
    parsed = moodlexml.parse((XML / "broken_cloze_questions.xml").read_bytes())
    source = (XML / "broken_cloze_questions.xml").read_text()
    assert len(parsed.errors) == source.count('<question type="cloze">')


@pytest.mark.parametrize("path", ACCEPTED, ids=lambda p: p.name)
def test_fixtures_parse_and_round_trip(path):
    parsed = moodlexml.parse(path.read_bytes())
    assert parsed.errors == []
    assert parsed.drafts
    again = moodlexml.parse(moodlexml.export(parsed.drafts))
    assert again.errors == []
    assert [content(d) for d in again.drafts] == [content(d) for d in parsed.drafts]


def test_truefalse_fixture_and_inline_image():
    parsed = moodlexml.parse((XML / "truefalse.xml").read_bytes())
    first = parsed.drafts[0]
    assert first.type == "true_false" and first.grading["correct"] is False
    assert first.category == "Default for testhead/TrueFalse"
    assert "@@PLUGINFILE@@" not in first.stem and "data:image/jpeg;base64," in first.stem


def test_nested_categories_keep_their_paths():
    parsed = moodlexml.parse((XML / "nested_categories_with_questions.xml").read_bytes())
    assert all(d.category for d in parsed.drafts)
    assert len({d.category for d in parsed.drafts}) > 1


def test_chinese_questions_round_trip_through_xml_and_back_to_gift():
    drafts = gift.parse(CHINESE).drafts
    xml = moodlexml.export(drafts)
    assert "全角符号｛题干｝＝～＃：".encode() in xml
    from_xml = moodlexml.parse(xml)
    assert from_xml.errors == []
    assert [content(d) for d in from_xml.drafts] == [content(d) for d in drafts]
    back = gift.parse(gift.export(from_xml.drafts))
    assert [content(d) for d in back.drafts] == [content(d) for d in drafts]


def test_ordering_round_trip():
    from quizzes.interchange import QuestionDraft

    draft = QuestionDraft(
        type="ordering",
        stem="排序：",
        name="拒毒步骤",
        data={
            "items": [
                {"id": "b", "text": "拒绝"},
                {"id": "a", "text": "察觉"},
                {"id": "c", "text": "离开"},
            ]
        },
        grading={"order": ["a", "b", "c"]},
    )
    parsed = moodlexml.parse(moodlexml.export([draft]))
    assert content(parsed.drafts[0])["answers"] == ["察觉", "拒绝", "离开"]


def test_not_xml_is_an_error_not_a_crash():
    parsed = moodlexml.parse(b"<quiz><question type='truefalse'>")
    assert parsed.errors and not parsed.drafts


def test_entities_are_not_expanded():
    bomb = b'<?xml version="1.0"?><!DOCTYPE quiz [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">]><quiz>&b;</quiz>'
    parsed = moodlexml.parse(bomb)
    assert parsed.errors and not parsed.drafts
