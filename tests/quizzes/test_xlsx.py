"""The teachers' .xlsx template: every type, Chinese cells, errors by row, round trip."""

from __future__ import annotations

import io

from openpyxl import Workbook, load_workbook

from quizzes.interchange import xlsx
from tests.quizzes.interchange_helpers import content


def workbook(rows: list[list]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(xlsx.HEADERS)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def row(kind, stem, options=(), answer="", **extra):
    cells = [kind, extra.get("category", "禁毒知识"), stem, *options]
    cells += [""] * (3 + xlsx.OPTION_COLUMNS - len(cells))
    return cells + [
        answer,
        extra.get("topic", "毒品识别"),
        "小学",
        extra.get("difficulty", 2),
        10,
        "",
    ]


GOOD = [
    row("单选", "国际禁毒日是哪一天？", ["6月26日", "12月1日", "3月15日"], "A"),
    row("多选", "下列哪些是毒品？", ["海洛因", "冰毒", "维生素C"], "AB"),
    row("判断", "<p>吸毒一次<strong>不会</strong>成瘾。</p>", answer="错"),
    row("填空", "禁种、禁制、禁贩、禁____并举。", answer="吸|吸毒"),
    row("匹配", "连线：", ["LSD=邮票", "大麻＝饼干", "＝奶茶"]),
    row("排序", "拒毒步骤：", ["察觉", "拒绝", "离开"]),
    row("简答", "怎样劝朋友远离毒品？", answer="说明危害"),
]


def test_every_type_parses_with_tags():
    parsed = xlsx.parse(workbook(GOOD))
    assert parsed.errors == []
    kinds = [d.type for d in parsed.drafts]
    assert kinds == [
        "single_choice",
        "multiple_choice",
        "true_false",
        "fill_blank",
        "matching",
        "ordering",
        "short_answer",
    ]
    first = parsed.drafts[0]
    assert (first.topic, first.grade_band, first.difficulty, first.default_mark) == (
        "毒品识别",
        "小学",
        2,
        10.0,
    )
    # no scoring column: wrong choices cost, the one wrong option the whole mark
    assert content(parsed.drafts[1])["answers"] == (
        "penalty",
        [("海洛因", 0.5), ("冰毒", 0.5), ("维生素C", -1.0)],
    )
    assert content(parsed.drafts[4])["answers"] == (
        [("LSD", "邮票"), ("大麻", "饼干")],
        ["奶茶", "邮票", "饼干"],
    )
    assert parsed.drafts[2].stem == "<p>吸毒一次<strong>不会</strong>成瘾。</p>"


def test_errors_are_reported_by_row():
    rows = [
        GOOD[0],
        row("单选", "没有答案", ["甲", "乙"], "E"),
        row("问答", "未知题型"),
        row("判断", "x", answer="也许"),
    ]
    parsed = xlsx.parse(workbook(rows))
    assert [e.line for e in parsed.errors] == [3, 4, 5]


def test_round_trip():
    parsed = xlsx.parse(workbook(GOOD))
    again = xlsx.parse(xlsx.export(parsed.drafts))
    assert again.errors == []
    assert [content(d) for d in again.drafts] == [content(d) for d in parsed.drafts]


def test_empty_template_has_headers_and_instructions():
    book = load_workbook(io.BytesIO(xlsx.export([])))
    assert [c.value for c in book.worksheets[0][1]] == xlsx.HEADERS
    assert "说明" in book.sheetnames


def test_not_a_spreadsheet():
    parsed = xlsx.parse(b"not a zip")
    assert parsed.errors and not parsed.drafts


def test_the_scoring_column_says_how_a_multiple_answer_question_is_scored():
    rows = [
        row("多选", "下列哪些是毒品？", ["海洛因", "冰毒", "维生素C"], "AB") + ["全对才得分"],
        row("多选", "下列哪些是毒品？", ["海洛因", "冰毒", "维生素C"], "AB") + ["错选扣分"],
        row("多选", "下列哪些是毒品？", ["海洛因", "冰毒", "维生素C"], "AB") + [""],
    ]
    parsed = xlsx.parse(workbook(rows))
    assert parsed.errors == []
    modes = ["all_or_nothing", "penalty", "penalty"]
    assert [d.data["scoring"] for d in parsed.drafts] == modes
    exported = load_workbook(io.BytesIO(xlsx.export(parsed.drafts))).worksheets[0]
    assert [r[-1] for r in exported.iter_rows(min_row=2, values_only=True)] == [
        "全对才得分",
        "错选扣分",
        "错选扣分",
    ]
    again = xlsx.parse(xlsx.export(parsed.drafts))
    assert [d.data["scoring"] for d in again.drafts] == modes
    assert [content(d) for d in again.drafts] == [content(d) for d in parsed.drafts]
    wrong = xlsx.parse(workbook([GOOD[0], rows[0][:-1] + ["随便"]]))
    assert [e.line for e in wrong.errors] == [3] and "全对才得分" in wrong.errors[0].message
