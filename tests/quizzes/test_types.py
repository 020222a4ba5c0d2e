"""Every question type: validation, grading, and a public view without answers."""

from __future__ import annotations

import json
import random

import pytest

from quizzes.qtypes import QUESTION_TYPES, get_type


def choice(fractions: dict[str, float], kind: str = "single_choice"):
    data = {"options": [{"id": i, "text": f"选项{i}"} for i in ("a1", "b2", "c3", "d4")]}
    return get_type(kind), data, {"fractions": fractions}


def test_registry_has_every_type_the_issue_names():
    assert {
        "single_choice",
        "multiple_choice",
        "true_false",
        "fill_blank",
        "matching",
        "ordering",
        "short_answer",
    } <= set(QUESTION_TYPES)


def test_single_choice():
    qtype, data, grading = choice({"b2": 1.0, "c3": 0.5})
    assert qtype.validate(data, grading) == []
    assert qtype.grade(data, grading, "b2") == 1.0
    assert qtype.grade(data, grading, "c3") == 0.5
    assert qtype.grade(data, grading, "a1") == 0.0
    assert qtype.grade(data, grading, None) == 0.0
    assert (
        qtype.accepts(data, "a1")
        and not qtype.accepts(data, "zz")
        and not qtype.accepts(data, ["a1"])
    )
    assert qtype.validate(data, {"fractions": {"b2": 0.5}})  # nothing fully correct
    assert qtype.validate(data, {"fractions": {"zz": 1.0}})  # grade of a missing option


def test_multiple_choice_partial_and_negative_credit_clamped():
    qtype, data, grading = choice({"a1": 0.5, "c3": 0.5, "d4": -1.0}, "multiple_choice")
    assert qtype.validate(data, grading) == []
    assert qtype.grade(data, grading, ["a1", "c3"]) == 1.0
    assert qtype.grade(data, grading, ["a1"]) == 0.5
    assert qtype.grade(data, grading, ["a1", "c3", "d4"]) == 0.0
    assert qtype.grade(data, grading, ["d4"]) == 0.0  # never below zero
    assert qtype.grade(data, grading, None) == 0.0
    assert qtype.validate(data, {"fractions": {"a1": 0.5}})  # positives don't add up to 100%


def test_multiple_choice_ticking_every_box_earns_nothing():
    """Wrong options without a weight (GIFT's ``~``, the spreadsheet's letters, questions stored
    before the scoring mode existed: no ``scoring`` in their data) together cost the full mark,
    each an equal share; the score never goes below 0."""
    qtype, data, grading = choice({"a1": 0.5, "c3": 0.5}, "multiple_choice")
    assert "scoring" not in data and qtype.validate(data, grading) == []
    assert qtype.grade(data, grading, ["a1", "b2", "c3", "d4"]) == 0.0
    assert qtype.grade(data, grading, ["a1", "c3"]) == 1.0
    assert qtype.grade(data, grading, ["a1"]) == 0.5
    assert qtype.grade(data, grading, ["a1", "c3", "d4"]) == 0.5  # one of two wrong: -1/2
    assert qtype.grade(data, grading, ["a1", "b2"]) == 0.0
    assert qtype.grade(data, grading, ["b2"]) == 0.0  # never below zero
    assert qtype.public_view(data, None)["scoring"] == "penalty"


def test_multiple_choice_wrong_options_weigh_minus_one_kth():
    data = {"options": [{"id": f"o{n}", "text": str(n)} for n in range(5)]}
    qtype, grading = get_type("multiple_choice"), {"fractions": {"o0": 0.5, "o1": 0.5}}
    assert qtype.grade(data, grading, ["o0", "o1", "o2"]) == pytest.approx(2 / 3, abs=1e-6)
    assert qtype.grade(data, grading, ["o0", "o1", "o2", "o3"]) == pytest.approx(1 / 3, abs=1e-6)
    assert qtype.grade(data, grading, [f"o{n}" for n in range(5)]) == 0.0


def test_wrong_weights_too_small_to_cancel_the_mark_give_way_to_the_equal_shares():
    # Moodle would give 80% for ticking all four; given weights stand only when together
    # they cost the full mark (the secret bank's −100% above), else each wrong option −1/3
    qtype, data, grading = choice({"a1": 1.0, "b2": -0.2}, "multiple_choice")
    assert qtype.grade(data, grading, ["a1", "b2", "c3", "d4"]) == 0.0
    assert qtype.grade(data, grading, ["a1", "c3"]) == pytest.approx(2 / 3, abs=1e-6)


def test_multiple_choice_all_or_nothing():
    qtype, data, grading = choice({"a1": 0.5, "c3": 0.5}, "multiple_choice")
    data["scoring"] = "all_or_nothing"
    assert qtype.validate(data, grading) == []
    assert qtype.grade(data, grading, ["c3", "a1"]) == 1.0
    assert qtype.grade(data, grading, ["a1"]) == 0.0  # one right option missing
    assert qtype.grade(data, grading, ["a1", "c3", "d4"]) == 0.0  # one wrong option too many
    assert qtype.grade(data, grading, ["a1", "b2", "c3", "d4"]) == 0.0
    assert qtype.grade(data, grading, None) == 0.0
    assert qtype.public_view(data, None)["scoring"] == "all_or_nothing"
    assert qtype.validate({**data, "scoring": "lenient"}, grading)  # an unknown mode


def test_true_false():
    qtype = get_type("true_false")
    assert qtype.validate({}, {"correct": False}) == []
    assert qtype.validate({}, {}) != []
    assert qtype.grade({}, {"correct": False}, False) == 1.0
    assert qtype.grade({}, {"correct": False}, True) == 0.0
    assert qtype.grade({}, {"correct": False}, "false") == 0.0  # strings are not booleans
    assert not qtype.accepts({}, "yes")


def test_fill_blank_width_case_and_space_blind_with_partial_answers():
    qtype = get_type("fill_blank")
    data = {"blanks": 2}
    grading = {
        "blanks": [
            [{"text": "吸", "fraction": 1.0}],
            [{"text": "6月26日", "fraction": 1.0}, {"text": "六月*", "fraction": 0.5}],
        ]
    }
    assert qtype.validate(data, grading) == []
    assert qtype.grade(data, grading, ["吸", "６月２６日"]) == 1.0  # full-width digits
    assert qtype.grade(data, grading, [" 吸 ", "六月二十六日"]) == 0.75  # wildcard, half credit
    assert qtype.grade(data, grading, ["贩", ""]) == 0.0
    single = {"blanks": [[{"text": "Heroin", "fraction": 1.0}]]}
    assert qtype.grade({"blanks": 1}, single, "ＨＥＲＯＩＮ") == 1.0
    assert qtype.grade({"blanks": 1}, {**single, "case_sensitive": True}, "heroin") == 0.0
    assert qtype.validate({"blanks": 1}, {"blanks": [[{"text": "x", "fraction": 0.5}]]})


def test_matching():
    qtype = get_type("matching")
    data = {
        "prompts": [{"id": "p1", "text": "LSD"}, {"id": "p2", "text": "大麻"}],
        "choices": [
            {"id": "c1", "text": "邮票"},
            {"id": "c2", "text": "饼干"},
            {"id": "c3", "text": "干扰项"},
        ],
    }
    grading = {"pairs": {"p1": "c1", "p2": "c2"}}
    assert qtype.validate(data, grading) == []
    assert qtype.grade(data, grading, {"p1": "c1", "p2": "c2"}) == 1.0
    assert qtype.grade(data, grading, {"p1": "c1", "p2": "c3"}) == 0.5
    assert qtype.grade(data, grading, None) == 0.0
    assert qtype.validate(data, {"pairs": {"p1": "c1"}})  # p2 unmatched


def test_ordering_and_its_public_view_does_not_give_the_order_away():
    qtype = get_type("ordering")
    items = [{"id": f"i{n}", "text": t} for n, t in enumerate("甲乙丙丁戊")]
    order = ["i3", "i0", "i4", "i1", "i2"]
    data = {"items": items}
    assert qtype.validate(data, {"order": order}) == []
    assert qtype.grade(data, {"order": order}, order) == 1.0
    assert qtype.grade(data, {"order": order}, ["i3", "i0", "i1", "i4", "i2"]) == 0.6
    assert not qtype.accepts(data, ["i0", "i1"])  # every item, once
    fixed = qtype.public_view(data, None)
    assert [i["id"] for i in fixed["items"]] != order
    assert qtype.validate(data, {"order": ["i0"]})


def test_short_answer_waits_for_a_teacher():
    qtype = get_type("short_answer")
    assert not qtype.auto_graded
    assert qtype.grade({}, {"reference": "x"}, "我会劝他") is None
    assert qtype.accepts({}, "我会劝他") and not qtype.accepts({}, 5)


def test_numerical_tolerance():
    qtype = get_type("numerical")
    grading = {
        "answers": [
            {"value": 1822, "tolerance": 0, "fraction": 1.0},
            {"value": 1822, "tolerance": 2, "fraction": 0.5},
        ]
    }
    assert qtype.validate({}, grading) == []
    assert qtype.grade({}, grading, "1822") == 1.0
    assert qtype.grade({}, grading, "１８２１") == 0.5
    assert qtype.grade({}, grading, "abc") == 0.0


@pytest.mark.parametrize("name", sorted(QUESTION_TYPES))
def test_public_view_never_carries_grading_data(name):
    qtype = get_type(name)
    data = {
        "options": [{"id": "o1", "text": "甲"}, {"id": "o2", "text": "乙"}],
        "prompts": [{"id": "p1", "text": "左"}],
        "choices": [{"id": "c1", "text": "右"}],
        "items": [{"id": "i1", "text": "一"}, {"id": "i2", "text": "二"}],
        "blanks": 1,
    }
    view = json.dumps(qtype.public_view(data, random.Random(1)), ensure_ascii=False)
    for word in ("fraction", "correct", "pairs", "order", "reference", "answers", "feedback"):
        assert word not in view


def test_public_view_cleans_option_html():
    qtype = get_type("single_choice")
    data = {
        "options": [
            {"id": "o1", "text": "<b>海洛因</b><script>alert(1)</script>"},
            {"id": "o2", "text": "<img src=x onerror=alert(1)>"},
        ]
    }
    view = json.dumps(qtype.public_view(data, None), ensure_ascii=False)
    assert "<b>海洛因</b>" in view and "<script" not in view and "onerror" not in view


def test_option_shuffle_is_repeatable_for_a_seed():
    qtype = get_type("single_choice")
    data = {"options": [{"id": f"o{i}", "text": str(i)} for i in range(8)]}
    first = qtype.public_view(data, random.Random("42:7"))
    again = qtype.public_view(data, random.Random("42:7"))
    assert first == again
    assert [o["id"] for o in first["options"]] != [f"o{i}" for i in range(8)]


@pytest.mark.parametrize("name", sorted(QUESTION_TYPES))
def test_a_type_that_shuffles_with_its_rng_says_so(name):
    """An attempt seeds a question's options only for a type that ``shuffles`` (seeding costs
    more than the rest of the view): a type that shuffles without saying so would show its
    options unshuffled."""
    qtype = get_type(name)
    data = {
        "options": [{"id": f"o{n}", "text": f"选项{n}"} for n in range(6)],
        "prompts": [{"id": f"p{n}", "text": f"左{n}"} for n in range(6)],
        "choices": [{"id": f"c{n}", "text": f"右{n}"} for n in range(6)],
        "items": [{"id": f"i{n}", "text": f"步骤{n}"} for n in range(6)],
        "blanks": 1,
    }
    views = {json.dumps(qtype.public_view(data, random.Random(seed))) for seed in range(8)}
    assert (len(views) > 1) == qtype.shuffles
