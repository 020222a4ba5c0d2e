"""The .xlsx template teachers fill in (openpyxl): one question per row, errors by row number."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from typing import Any

from flask_babel import gettext as _
from openpyxl import Workbook, load_workbook

from quizzes.interchange import ParseError, ParseResult, QuestionDraft
from quizzes.qtypes import ALL_OR_NOTHING, PENALTY, new_option_id, scoring_mode

OPTION_COLUMNS = 6
HEADERS = (
    ["题型 type", "分类 category", "题干 stem"]
    + [f"选项{chr(65 + i)} option {chr(65 + i)}" for i in range(OPTION_COLUMNS)]
    + [
        "答案 answer",
        "主题 topic",
        "学段 grade band",
        "难度 difficulty (1-5)",
        "分值 mark",
        "解析 feedback",
        "计分 scoring",
    ]
)
TYPE_NAMES = {
    "单选": "single_choice", "单选题": "single_choice", "多选": "multiple_choice",
    "多选题": "multiple_choice", "判断": "true_false", "判断题": "true_false",
    "填空": "fill_blank", "填空题": "fill_blank", "匹配": "matching", "匹配题": "matching",
    "排序": "ordering", "排序题": "ordering", "简答": "short_answer", "简答题": "short_answer",
}  # fmt: skip
EXPORT_NAMES = {
    "single_choice": "单选", "multiple_choice": "多选", "true_false": "判断", "fill_blank": "填空",
    "matching": "匹配", "ordering": "排序", "short_answer": "简答",
}  # fmt: skip
#: a multiple-answer question's scoring mode as the spreadsheet (and the edit page) writes it
SCORING_LABELS = {PENALTY: "错选扣分", ALL_OR_NOTHING: "全对才得分"}
SCORING_NAMES = {
    "错选扣分": PENALTY, "扣分": PENALTY, "PENALTY": PENALTY, "": PENALTY,
    "全对才得分": ALL_OR_NOTHING, "全对得分": ALL_OR_NOTHING, "ALL-OR-NOTHING": ALL_OR_NOTHING,
    "ALL_OR_NOTHING": ALL_OR_NOTHING,
}  # fmt: skip
_TRUE = {"对", "正确", "是", "√", "T", "TRUE", "Y", "YES"}
_FALSE = {"错", "错误", "否", "×", "F", "FALSE", "N", "NO"}
_LIST_SPLIT = re.compile(r"[|｜]")
_BLANK_SPLIT = re.compile(r"[;；]")
_PAIR_SPLIT = re.compile(r"[=＝]")
INSTRUCTIONS = [
    "每行一题。题型：单选、多选、判断、填空、匹配、排序、简答。",
    "单选：答案写选项字母，如 B。多选：写所有正确字母，如 ACD。判断：对 或 错。",
    "填空：每空的可接受答案用 | 分隔，多个空之间用 ; 分隔。",
    "匹配：每个选项格写 左=右；只写 ＝右（全角等号，Excel 不会当作公式）表示干扰项。排序：按正确顺序填写选项。",
    "简答：由教师批改，答案列可写参考答案。难度 1（易）到 5（难）。",
    "多选的计分列：错选扣分（默认：每个错误选项扣 1/错误选项数 的分值，最低 0 分，全选不得分）"
    "或 全对才得分（只选全部正确选项才得分）。",
]


_SCORING_WORDS = {"penalty": SCORING_LABELS[PENALTY], "all": SCORING_LABELS[ALL_OR_NOTHING]}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def parse(payload: bytes) -> ParseResult:
    """Parse the teachers' template: the first sheet, a header row, one question per row."""
    result = ParseResult()
    try:
        workbook = load_workbook(io.BytesIO(payload), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        result.errors.append(ParseError(0, _("This is not an .xlsx file.")))
        return result
    sheet = workbook.worksheets[0]
    for row_number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
        cells = [_cell(v) for v in row] + [""] * len(HEADERS)
        if row_number == 1 or not any(cells):
            continue
        try:
            result.drafts.append(_row(cells, row_number))
        except ValueError as error:
            result.errors.append(ParseError(row_number, str(error)))
    workbook.close()
    return result


def _row(cells: list[str], line: int) -> QuestionDraft:
    kind_cell, category, stem = cells[0], cells[1], cells[2]
    options = [c for c in cells[3 : 3 + OPTION_COLUMNS]]
    answer, topic, band, difficulty, mark, feedback, scoring = cells[
        3 + OPTION_COLUMNS : 10 + OPTION_COLUMNS
    ]
    kind = TYPE_NAMES.get(kind_cell, kind_cell)
    if kind not in EXPORT_NAMES:
        raise ValueError(_("Unknown question type '%(type)s'.", type=kind_cell))
    if not stem:
        raise ValueError(_("The stem is empty."))
    draft = QuestionDraft(type=kind, stem=stem, line=line, name=stem[:60])
    draft.category = category or None
    draft.topic, draft.grade_band = topic or None, band or None
    draft.general_feedback = feedback
    _difficulty_and_mark(draft, difficulty, mark)
    filled = [(chr(65 + i), text) for i, text in enumerate(options) if text]
    reader = _ANSWERS.get(kind)
    if reader is not None:
        reader(draft, filled, answer, scoring)
    return draft


def _difficulty_and_mark(draft: QuestionDraft, difficulty: str, mark: str) -> None:
    if difficulty:
        if not difficulty.isdigit() or not 1 <= int(difficulty) <= 5:
            raise ValueError(_("Difficulty must be a whole number from 1 to 5."))
        draft.difficulty = int(difficulty)
    if mark:
        try:
            draft.default_mark = float(mark)
        except ValueError:
            raise ValueError(_("The mark must be a number.")) from None


def _answer_choice(
    draft: QuestionDraft, filled: list[tuple[str, str]], answer: str, scoring: str
) -> None:
    letters = [ch for ch in answer.upper().replace("，", ",") if ch.isalpha()]
    ids = {letter: new_option_id() for letter, _text in filled}
    unknown = [ch for ch in letters if ch not in ids]
    if not letters or unknown:
        raise ValueError(_("The answer must name filled-in options by letter (A, B, …)."))
    if draft.type == "single_choice" and len(letters) != 1:
        raise ValueError(_("A single-choice question has exactly one correct letter."))
    share = round(1.0 / len(letters), 6)
    draft.data = {"options": [{"id": ids[letter], "text": text} for letter, text in filled]}
    draft.grading = {"fractions": {ids[letter]: share for letter in letters}}
    if draft.type == "multiple_choice":
        mode = SCORING_NAMES.get(scoring.upper())
        if mode is None:
            raise ValueError(_("Write the scoring as %(penalty)s or %(all)s.", **_SCORING_WORDS))
        draft.data["scoring"] = mode


def _answer_true_false(
    draft: QuestionDraft, filled: list[tuple[str, str]], answer: str, scoring: str
) -> None:
    value = answer.upper()
    if value not in _TRUE | _FALSE:
        raise ValueError(_("The answer of a true/false question is 对 or 错."))
    draft.grading = {"correct": value in _TRUE}


def _answer_fill_blank(
    draft: QuestionDraft, filled: list[tuple[str, str]], answer: str, scoring: str
) -> None:
    blanks = [
        [{"text": t.strip(), "fraction": 1.0} for t in _LIST_SPLIT.split(group) if t.strip()]
        for group in _BLANK_SPLIT.split(answer)
        if group.strip()
    ]
    if not blanks:
        raise ValueError(_("Give the accepted answers for each blank."))
    draft.data = {"blanks": len(blanks)}
    draft.grading = {"blanks": blanks}


def _answer_matching(
    draft: QuestionDraft, filled: list[tuple[str, str]], answer: str, scoring: str
) -> None:
    prompts, choices, pairs, choice_ids = [], [], {}, {}
    for _letter, text in filled:
        parts = _PAIR_SPLIT.split(text, maxsplit=1)
        if len(parts) != 2:
            raise ValueError(_("Write each matching pair as 'item=answer'."))
        left, right = parts[0].strip(), parts[1].strip()
        if right not in choice_ids:
            choice_ids[right] = new_option_id()
            choices.append({"id": choice_ids[right], "text": right})
        if left:
            prompt_id = new_option_id()
            prompts.append({"id": prompt_id, "text": left})
            pairs[prompt_id] = choice_ids[right]
    draft.data = {"prompts": prompts, "choices": choices}
    draft.grading = {"pairs": pairs}


def _answer_ordering(
    draft: QuestionDraft, filled: list[tuple[str, str]], answer: str, scoring: str
) -> None:
    items = [{"id": new_option_id(), "text": text} for _letter, text in filled]
    draft.data = {"items": sorted(items, key=lambda i: i["id"])}
    draft.grading = {"order": [i["id"] for i in items]}


def _answer_short_answer(
    draft: QuestionDraft, filled: list[tuple[str, str]], answer: str, scoring: str
) -> None:
    draft.grading = {"reference": answer}


#: how each type's answer column (and its options, and the scoring) is read: (draft, the filled
#: options as (letter, text), the answer, the scoring) -> None
_ANSWERS: dict[str, Callable[[QuestionDraft, list[tuple[str, str]], str, str], None]] = {
    "single_choice": _answer_choice,
    "multiple_choice": _answer_choice,
    "true_false": _answer_true_false,
    "fill_blank": _answer_fill_blank,
    "matching": _answer_matching,
    "ordering": _answer_ordering,
    "short_answer": _answer_short_answer,
}


def export(drafts: list[QuestionDraft]) -> bytes:
    """The template filled with the drafts (an empty template when there are none)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "题目"
    sheet.append(HEADERS)
    for draft in drafts:
        sheet.append(_export_row(draft))
    notes = workbook.create_sheet("说明")
    for line in INSTRUCTIONS:
        notes.append([line])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _export_row(draft: QuestionDraft) -> list[Any]:
    if draft.type not in EXPORT_NAMES:
        raise ValueError(_("The spreadsheet cannot hold this question type."))
    options: list[str] = []
    answer = scoring = ""
    data, grading = draft.data, draft.grading
    if draft.type in {"single_choice", "multiple_choice"}:
        fractions = grading.get("fractions", {})
        for index, option in enumerate(data.get("options", [])):
            options.append(option["text"])
            if float(fractions.get(option["id"], 0)) > 0:
                answer += chr(65 + index)
        if draft.type == "multiple_choice":
            scoring = SCORING_LABELS[scoring_mode(data)]
    elif draft.type == "true_false":
        answer = "对" if grading.get("correct") else "错"
    elif draft.type == "fill_blank":
        answer = ";".join(
            "|".join(a["text"] for a in blank if float(a.get("fraction", 1)) >= 1)
            for blank in grading.get("blanks", [])
        )
    elif draft.type == "matching":
        choices = {c["id"]: c["text"] for c in data.get("choices", [])}
        used = set(grading.get("pairs", {}).values())
        options = [
            f"{p['text']}={choices[grading['pairs'][p['id']]]}" for p in data.get("prompts", [])
        ]
        # a leading ASCII "=" would make Excel read a formula
        options += [f"＝{text}" for cid, text in choices.items() if cid not in used]
    elif draft.type == "ordering":
        items = {i["id"]: i["text"] for i in data.get("items", [])}
        options = [items[i] for i in grading.get("order", [])]
    elif draft.type == "short_answer":
        answer = str(grading.get("reference", ""))
    if len(options) > OPTION_COLUMNS:
        raise ValueError(_("The spreadsheet holds at most six options."))
    options += [""] * (OPTION_COLUMNS - len(options))
    return [
        EXPORT_NAMES[draft.type], draft.category or "", draft.stem, *options, answer,
        draft.topic or "", draft.grade_band or "", draft.difficulty or "", draft.default_mark,
        draft.general_feedback, scoring,
    ]  # fmt: skip


def row_to_draft(cells: list[str], line: int = 0) -> QuestionDraft:
    """One row of the template (as the question edit page fills it) → a draft; ValueError says why not."""
    return _row([_cell(c) for c in cells] + [""] * len(HEADERS), line)


def draft_to_row(draft: QuestionDraft) -> list[Any]:
    """A draft as one row of the template (the question edit page's fields)."""
    return _export_row(draft)
