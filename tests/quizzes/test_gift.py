"""GIFT: Moodle's and gift-peg's public fixtures, Chinese questions, errors with line numbers."""

from __future__ import annotations

import json
import re

import pytest

from quizzes.interchange import gift
from quizzes.qtypes import get_type
from tests.quizzes.interchange_helpers import FIXTURES, content

MOODLE_GIFT = sorted((FIXTURES / "moodle" / "gift").rglob("*.txt"))
PEG = FIXTURES / "gift-peg" / "questions"
PEG_FILES = sorted(PEG.glob("*.gift"))

CHINESE = """\
$CATEGORY: $course$/禁毒知识/新型毒品

// 全角标点不是 GIFT 的控制字符：｛｝＝～＃：
::国际禁毒日::[html]<p>国际禁毒日是每年的<strong>哪一天</strong>？（请选择）</p>{
  =6月26日#正确！
  ~12月1日#这是世界艾滋病日。
  ~3月15日
}

::方针::我国禁毒工作方针：禁种、禁制、禁贩、禁{=吸 =%50%毒}并举。

::判断::吸毒一次不会成瘾，可以“尝试”一下。{F#错误：一次就可能成瘾。####毒品成瘾性极强。}

::连线::把毒品和伪装连起来：{
  =LSD -> 邮票
  =大麻 -> “巧克力”
  = -> 奶茶
}

::符号::全角符号｛题干｝＝～＃：都要保留，半角的要转义 \\{ \\} \\= \\~ \\# \\: 。{
  ~%50%甲：｛一｝
  ~%50%乙＝二
  ~%-100%丙～三
}

::劝说::请写出你会怎样劝说朋友远离毒品。{}
"""


@pytest.mark.parametrize("path", MOODLE_GIFT, ids=lambda p: p.name)
def test_moodle_fixtures_parse_without_errors_and_round_trip(path):
    parsed = gift.parse(path.read_text(encoding="utf-8"))
    assert parsed.errors == []
    assert parsed.drafts
    again = gift.parse(gift.export(parsed.drafts))
    assert again.errors == []
    assert [content(d) for d in again.drafts] == [content(d) for d in parsed.drafts]


def test_moodle_examples_types():
    parsed = gift.parse((FIXTURES / "moodle" / "gift" / "examples.txt").read_text())
    types = {d.type for d in parsed.drafts}
    assert {
        "single_choice",
        "multiple_choice",
        "true_false",
        "fill_blank",
        "matching",
        "numerical",
    } <= types


def test_category_applies_to_following_questions():
    path = FIXTURES / "moodle" / "gift" / "tests" / "fixtures" / "questions_in_category.gift.txt"
    parsed = gift.parse(path.read_text())
    assert {d.category for d in parsed.drafts} == {"Default for New Features"}
    greeting = next(d for d in parsed.drafts if d.name == "Greeting")
    # escaped \= and \: inside HTML attributes come back as plain characters
    assert 'href="http://demo.moodle.net/file.php/5/media/bonjour.mp3"' in greeting.stem


def _norm(text: str | None) -> str:
    return " ".join((text or "").split())


def _peg_expected(path):
    questions = json.loads(path.with_suffix(".json").read_text())
    return [q for q in questions if q["type"] not in {"Category", "Description"}]


@pytest.mark.parametrize("path", PEG_FILES, ids=lambda p: p.stem)
def test_gift_peg_fixtures(path):
    parsed = gift.parse(path.read_text(encoding="utf-8"))
    assert parsed.errors == [], parsed.errors
    expected = _peg_expected(path)
    assert len(parsed.drafts) == len(expected)
    for draft, want in zip(parsed.drafts, expected, strict=True):
        if want.get("title"):
            assert draft.name == want["title"]
        assert _norm(draft.stem) == _norm(want["stem"]["text"]), path.stem
        if want["type"] == "MC":
            texts = [_norm(o["text"]) for o in draft.data["options"]]
            assert texts == [_norm(c["text"]["text"]) for c in want["choices"]]
            fractions = draft.grading["fractions"]
            right = [float(fractions.get(o["id"], 0)) > 0 for o in draft.data["options"]]
            assert right == [c["isCorrect"] or (c["weight"] or 0) > 0 for c in want["choices"]]
        elif want["type"] == "TF":
            assert draft.grading["correct"] is want["isTrue"]
        elif want["type"] == "Short":
            assert draft.type == "fill_blank"
            texts = [_norm(a["text"]) for a in draft.grading["blanks"][0]]
            assert texts == [_norm(c["text"]["text"]) for c in want["choices"]]
        elif want["type"] == "Matching":
            pairs = content(draft)["answers"][0]
            expected_pairs = [
                (_norm(p["subquestion"]["text"]), _norm(p["subanswer"]))
                for p in want["matchPairs"]
                if p["subquestion"]["text"]
            ]
            assert [(_norm(a), _norm(b)) for a, b in pairs] == expected_pairs
        elif want["type"] == "Essay":
            assert draft.type == "short_answer"
        elif want["type"] == "Numerical":
            assert draft.type == "numerical"


def test_chinese_full_width_and_html_survive_a_round_trip():
    parsed = gift.parse(CHINESE)
    assert parsed.errors == []
    by_name = {d.name: d for d in parsed.drafts}
    assert set(by_name) == {"国际禁毒日", "方针", "判断", "连线", "符号", "劝说"}
    assert (
        by_name["国际禁毒日"].stem == "<p>国际禁毒日是每年的<strong>哪一天</strong>？（请选择）</p>"
    )
    assert by_name["国际禁毒日"].category == "禁毒知识/新型毒品"
    assert by_name["方针"].stem == "我国禁毒工作方针：禁种、禁制、禁贩、禁 _____ 并举。"
    assert content(by_name["方针"])["answers"] == [[("吸", 1.0), ("毒", 0.5)]]
    assert by_name["判断"].grading["correct"] is False
    assert by_name["判断"].general_feedback == "毒品成瘾性极强。"
    assert content(by_name["连线"])["answers"] == (
        [("LSD", "邮票"), ("大麻", "“巧克力”")],
        sorted(["邮票", "“巧克力”", "奶茶"]),
    )
    symbols = by_name["符号"]
    assert symbols.stem == "全角符号｛题干｝＝～＃：都要保留，半角的要转义 { } = ~ # : 。"
    assert content(symbols)["answers"] == (
        "penalty",
        [("甲：｛一｝", 0.5), ("乙＝二", 0.5), ("丙～三", -1.0)],
    )
    assert by_name["劝说"].type == "short_answer"
    exported = gift.export(parsed.drafts)
    assert "｛题干｝＝～＃：" in exported and "\\{ \\} \\= \\~ \\# \\:" in exported
    again = gift.parse(exported)
    assert again.errors == []
    assert [content(d) for d in again.drafts] == [content(d) for d in parsed.drafts]


def test_errors_carry_the_line_of_the_question():
    source = "Good one?{T}\n\n// comment\n::Broken::Which? {=a ~b\n\nAnother {#not-a-number}\n\nFine{=ok}\n"
    parsed = gift.parse(source)
    assert [e.line for e in parsed.errors] == [4, 6]
    assert all(re.search(r"\w", e.message) for e in parsed.errors)
    assert len(parsed.drafts) == 2


def _grade(draft, texts):
    """What ticking the options with these texts earns (0..1)."""
    chosen = [o["id"] for o in draft.data["options"] if o["text"] in texts]
    return get_type(draft.type).grade(draft.data, draft.grading, chosen)


def test_wrong_options_without_a_weight_cost_as_moodles_documented_weights_do():
    """Moodle's own example of a multiple-answer question, once with the wrong options left
    without a weight and once with the −50% each its documentation advises: they grade alike,
    and ticking every box earns nothing."""
    parsed = gift.parse((FIXTURES / "moodle" / "gift" / "examples.txt").read_text())
    plain, weighted = [d for d in parsed.drafts if "entombed in Grant's tomb" in d.stem]
    assert plain.data["scoring"] == weighted.data["scoring"] == "penalty"
    everything = ["No one", "Grant", "Grant's wife", "Grant's father"]
    for ticked, earns in [
        (everything, 0.0),
        (["Grant", "Grant's wife"], 1.0),
        (["Grant", "Grant's wife", "No one"], 0.5),
        (["Grant", "No one"], 0.0),
    ]:
        assert _grade(plain, ticked) == _grade(weighted, ticked) == earns, ticked


SCORED = """\
// all-or-nothing
::毒品::下列哪些属于毒品？{
  ~%50%海洛因
  ~%50%冰毒
  ~维生素C
  ~矿泉水
}

::扣分::下列哪些属于毒品？{
  ~%50%海洛因
  ~%50%冰毒
  ~维生素C
  ~矿泉水
}
"""


def test_the_scoring_mode_survives_a_round_trip():
    all_or_nothing, penalty = gift.parse(SCORED).drafts
    assert all_or_nothing.data["scoring"] == "all_or_nothing"
    assert penalty.data["scoring"] == "penalty"
    exported = gift.export([all_or_nothing, penalty])
    # the wrong options' weights are written out: Moodle, which grades by them, agrees with us
    assert exported.count("~%-50%") == 2 and exported.count("~%-100%") == 2
    assert exported.count("// all-or-nothing") == 1
    assert exported.index("// all-or-nothing") < exported.index("::毒品::")
    again = gift.parse(exported)
    assert again.errors == []
    assert [d.data["scoring"] for d in again.drafts] == ["all_or_nothing", "penalty"]
    assert [content(d) for d in again.drafts] == [content(d) for d in (all_or_nothing, penalty)]
    for draft in again.drafts:
        assert _grade(draft, ["海洛因", "冰毒", "维生素C", "矿泉水"]) == 0.0
        assert _grade(draft, ["海洛因", "冰毒"]) == 1.0
    assert _grade(again.drafts[0], ["海洛因"]) == 0.0  # all or nothing
    assert _grade(again.drafts[1], ["海洛因"]) == 0.5
