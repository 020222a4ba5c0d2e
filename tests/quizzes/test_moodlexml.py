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


def test_the_scoring_mode_survives_a_round_trip_as_multichoice_and_multichoiceset():
    from tests.quizzes.test_gift import SCORED, _grade

    drafts = gift.parse(SCORED).drafts
    xml = moodlexml.export(drafts).decode()
    # all-or-nothing is Moodle's own type for it; the penalty mode writes its weights out
    assert xml.count('<question type="multichoiceset">') == 1
    assert xml.count('<question type="multichoice">') == 1 and "<single>false</single>" in xml
    assert xml.count('fraction="-50"') == 2
    again = moodlexml.parse(xml.encode())
    assert again.errors == []
    assert [d.data["scoring"] for d in again.drafts] == ["all_or_nothing", "penalty"]
    assert [content(d) for d in again.drafts] == [content(d) for d in drafts]
    for draft in again.drafts:
        assert _grade(draft, ["海洛因", "冰毒", "维生素C", "矿泉水"]) == 0.0
    back = gift.parse(gift.export(again.drafts))
    assert [content(d) for d in back.drafts] == [content(d) for d in drafts]


def test_moodles_all_or_nothing_questions_import_with_their_right_options():
    """Moodle's multichoiceset keeps only which answers are right (a grade above 0), and
    writes 100 for each of them."""
    answers = "".join(
        f'<answer fraction="{grade}" format="html"><text>{text}</text></answer>'
        for grade, text in [("100", "海洛因"), ("0", "维生素C"), ("100", "冰毒"), ("0", "矿泉水")]
    )
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?><quiz><question type="multichoiceset">'
        '<name><text>毒品</text></name><questiontext format="html"><text>哪些是毒品？</text>'
        f"</questiontext><shuffleanswers>true</shuffleanswers>{answers}</question></quiz>"
    )
    parsed = moodlexml.parse(xml.encode())
    assert parsed.errors == []
    (draft,) = parsed.drafts
    assert draft.type == "multiple_choice" and draft.data["scoring"] == "all_or_nothing"
    assert content(draft)["answers"] == (
        "all-or-nothing",
        [("海洛因", True), ("维生素C", False), ("冰毒", True), ("矿泉水", False)],
    )
    from quizzes.service.bank import check_draft

    assert check_draft(draft) == []  # shares that add up to 100%


def test_equal_shares_are_written_as_grades_moodle_accepts():
    """Eleven wrong options: −1/11 is no grade Moodle accepts; the nearest that costs no less
    (−10%) is written, so the file imports (here and in Moodle) and ticking all still earns 0."""
    from quizzes.interchange import QuestionDraft
    from quizzes.qtypes import get_type

    options = [{"id": f"o{n}", "text": f"选项{n}"} for n in range(12)]
    draft = QuestionDraft(
        type="multiple_choice",
        stem="哪个？",
        name="十二个选项",
        data={"options": options},
        grading={"fractions": {"o0": 1.0}},
    )
    for exported in (moodlexml.export([draft]), gift.export([draft]).encode()):
        assert b"-10" in exported and b"-9.09" not in exported
    parsed = moodlexml.parse(moodlexml.export([draft]))
    assert parsed.errors == []
    (again,) = parsed.drafts
    assert (
        get_type(again.type).grade(
            again.data, again.grading, [o["id"] for o in again.data["options"]]
        )
        == 0.0
    )
