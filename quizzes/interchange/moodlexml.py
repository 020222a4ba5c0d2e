"""Moodle XML, read with defusedxml (no entity expansion, no network) and written with ElementTree.

Like Moodle, one bad question rejects the whole file: the parser reports every error it finds
and the service imports nothing when there is any.

A multiple-answer question's scoring mode (``quizzes.qtypes``): ``multichoice`` with
``<single>false</single>`` is the penalty mode, its wrong options' weights written out (Moodle
grades by them alone); all-or-nothing is Moodle's ``multichoiceset`` (the "All-or-Nothing
Multiple Choice" question type), whose answers with a grade above 0 are the correct ones.
"""

from __future__ import annotations

import base64
import mimetypes
import re
import xml.etree.ElementTree as ET  # noqa: S405 - writing only; reading goes through defusedxml
from collections.abc import Callable
from typing import Any

from defusedxml import ElementTree as SafeET
from flask_babel import gettext as _

from quizzes.interchange import (
    MOODLE_GRADES,
    ParseError,
    ParseResult,
    QuestionDraft,
    penalty_weights,
)
from quizzes.qtypes import ALL_OR_NOTHING, PENALTY, new_option_id, scoring_mode

_MAX_INLINE_FILE = 512 * 1024
_QUESTION_TAG = re.compile(r"<question[\s>]")
_HIDDEN = re.compile(r"<!--.*?-->|<!\[CDATA\[.*?\]\]>", re.S)
_SKIPPED_TYPES = {"description"}
_TYPES = {
    "multichoice", "multichoiceset", "truefalse", "shortanswer", "matching", "essay", "numerical", "ordering",
    "category",
}  # fmt: skip


def _question_lines(source: str) -> list[int]:
    """The line of each <question> element, in document order (comments and CDATA blanked)."""
    visible = _HIDDEN.sub(lambda m: "\n" * m.group(0).count("\n"), source)
    return [visible.count("\n", 0, m.start()) + 1 for m in _QUESTION_TAG.finditer(visible)]


def _text(element: ET.Element | None, path: str = "text") -> str:
    if element is None:
        return ""
    found = element.find(path)
    return (found.text or "").strip() if found is not None else ""


def _valid_grade(percent: float) -> bool:
    magnitude = abs(percent)
    return any(abs(magnitude - grade) < 0.0001 for grade in MOODLE_GRADES)


def _inline_files(element: ET.Element | None, text: str) -> str:
    """@@PLUGINFILE@@ references become data: URIs of the files embedded beside them."""
    if element is None or "@@PLUGINFILE@@" not in text:
        return text
    for file in element.findall("file"):
        name = file.get("name") or ""
        payload = (file.text or "").strip()
        if not name or file.get("encoding") != "base64" or len(payload) > _MAX_INLINE_FILE:
            continue
        kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
        try:
            base64.b64decode(payload, validate=True)
        except ValueError:
            continue
        text = text.replace(f"@@PLUGINFILE@@/{name}", f"data:{kind};base64,{payload}")
    return text


def _formatted(element: ET.Element | None) -> tuple[str, str]:
    if element is None:
        return "", "html"
    return _inline_files(element, _text(element)), element.get("format", "html")


def parse(source: bytes | str) -> ParseResult:
    """Parse a Moodle XML file into drafts and per-question errors."""
    result = ParseResult()
    text = source.decode("utf-8-sig") if isinstance(source, bytes) else source
    try:
        root = SafeET.fromstring(text.encode("utf-8"))
    except Exception as error:  # noqa: BLE001 - any parser failure is the file's fault
        line = getattr(error, "position", (0, 0))[0] if hasattr(error, "position") else 0
        result.errors.append(ParseError(line, _("This is not a valid XML file: %(e)s", e=error)))
        return result
    if root.tag != "quiz":
        result.errors.append(ParseError(1, _("A Moodle XML file starts with <quiz>.")))
        return result
    lines = _question_lines(text)
    category: str | None = None
    for index, element in enumerate(root.findall("question")):
        line = lines[index] if index < len(lines) else 0
        qtype = element.get("type", "")
        if qtype == "category":
            category = _text(element, "category/text")
            for prefix in ("$course$/", "$system$/", "$module$/", "$coursecategory$/"):
                category = category.removeprefix(prefix)
            if category.startswith("top/"):
                category = category[4:]
            continue
        if qtype in _SKIPPED_TYPES:
            result.skipped.append(ParseError(line, _("A description without a question.")))
            continue
        if qtype in {"cloze", "multianswer"}:
            result.errors.append(
                ParseError(line, _("Cloze (embedded answers) questions are not supported."))
            )
            continue
        if qtype not in _TYPES:
            result.errors.append(
                ParseError(line, _("Questions of type '%(type)s' are not supported.", type=qtype))
            )
            continue
        try:
            draft = _question(element, qtype)
        except ValueError as error:
            result.errors.append(ParseError(line, str(error)))
            continue
        draft.line, draft.category = line, category or None
        result.drafts.append(draft)
    return result


def _answers(element: ET.Element) -> list[tuple[float, str, str, ET.Element]]:
    answers = []
    for answer in element.findall("answer"):
        try:
            percent = float(answer.get("fraction", "0"))
        except ValueError:
            raise ValueError(_("An answer's grade is not a number.")) from None
        if not _valid_grade(percent):
            raise ValueError(
                _("The grade %(grade)s%% is not one Moodle allows.", grade=answer.get("fraction"))
            )
        answers.append(
            (
                percent / 100,
                _inline_files(answer, _text(answer)),
                _text(answer.find("feedback")),
                answer,
            )
        )
    return answers


def _question(element: ET.Element, qtype: str) -> QuestionDraft:
    stem, stem_format = _formatted(element.find("questiontext"))
    draft = QuestionDraft(type="", stem=stem, name=_text(element.find("name")))
    draft.general_feedback = _text(element.find("generalfeedback"))
    try:
        draft.default_mark = float(_text(element, "defaultgrade") or 1)
    except ValueError:
        draft.default_mark = 1.0
    if stem_format != "html":
        draft.data["stem_format"] = stem_format
    tags = [t.text.strip() for t in element.findall("tags/tag/text") if t.text]
    for tag in tags:
        key, _sep, tag_value = tag.partition(":")
        if key in {"topic", "grade_band"} and tag_value:
            setattr(draft, key, tag_value)
        elif key == "difficulty" and tag_value.isdigit():
            draft.difficulty = int(tag_value)
    reader = _READERS.get(qtype)
    if reader is not None:
        reader(draft, element)
    return draft


def _read_multichoice(draft: QuestionDraft, element: ET.Element) -> None:
    single = _text(element, "single").lower() in {"true", "1"}
    options, fractions, feedback = [], {}, {}
    for fraction, text, fb, _node in _answers(element):
        option_id = new_option_id()
        options.append({"id": option_id, "text": text})
        if fraction:
            fractions[option_id] = fraction
        if fb:
            feedback[option_id] = fb
    draft.type = "single_choice" if single else "multiple_choice"
    draft.data["options"] = options
    if not single:
        draft.data["scoring"] = PENALTY
    draft.grading = {"fractions": fractions, "feedback": feedback}


def _read_truefalse(draft: QuestionDraft, element: ET.Element) -> None:
    correct = None
    for fraction, text, _fb, _node in _answers(element):
        if fraction >= 1:
            correct = text.strip().lower() == "true"
    if correct is None:
        raise ValueError(_("Neither 'true' nor 'false' is marked correct."))
    draft.type, draft.grading = "true_false", {"correct": correct}


def _read_shortanswer(draft: QuestionDraft, element: ET.Element) -> None:
    accepted = [
        {"text": text, "fraction": fraction, "feedback": fb}
        for fraction, text, fb, _node in _answers(element)
    ]
    draft.type = "fill_blank"
    draft.data["blanks"] = 1
    draft.grading = {
        "blanks": [accepted],
        "case_sensitive": _text(element, "usecase") in {"1", "true"},
    }


def _read_numerical(draft: QuestionDraft, element: ET.Element) -> None:
    answers = []
    for fraction, text, _fb, node in _answers(element):
        try:
            value = float(text)
            tolerance = float(_text(node, "tolerance") or 0)
        except ValueError:
            raise ValueError(_("'%(text)s' is not a number.", text=text)) from None
        answers.append({"value": value, "tolerance": tolerance, "fraction": fraction})
    draft.type, draft.grading = "numerical", {"answers": answers}


def _read_matching(draft: QuestionDraft, element: ET.Element) -> None:
    prompts, choices, pairs, choice_ids = [], [], {}, {}
    for sub in element.findall("subquestion"):
        left, right = _text(sub), _text(sub.find("answer"))
        if right not in choice_ids:
            choice_ids[right] = new_option_id()
            choices.append({"id": choice_ids[right], "text": right})
        if left:
            prompt_id = new_option_id()
            prompts.append({"id": prompt_id, "text": left})
            pairs[prompt_id] = choice_ids[right]
    draft.type = "matching"
    draft.data.update({"prompts": prompts, "choices": choices})
    draft.grading = {"pairs": pairs}


def _read_ordering(draft: QuestionDraft, element: ET.Element) -> None:
    items = [{"id": new_option_id(), "text": t} for _f, t, _fb, _n in _answers(element)]
    draft.type = "ordering"
    draft.data["items"] = sorted(items, key=lambda i: i["id"])
    draft.grading = {"order": [i["id"] for i in items]}


def _read_essay(draft: QuestionDraft, element: ET.Element) -> None:
    draft.type = "short_answer"
    draft.grading = {"reference": _text(element.find("graderinfo"))}


def _all_or_nothing(draft: QuestionDraft, element: ET.Element) -> None:
    """Moodle's all-or-nothing multiple choice: the answers graded above 0 are the correct ones
    (Moodle itself keeps only that); their own grades when they add up to 100%, else shares."""
    options, correct, feedback = [], {}, {}
    for fraction, text, fb, _node in _answers(element):
        option_id = new_option_id()
        options.append({"id": option_id, "text": text})
        if fraction > 0:
            correct[option_id] = fraction
        if fb:
            feedback[option_id] = fb
    if correct and abs(sum(correct.values()) - 1) > 0.01:
        correct = dict.fromkeys(correct, round(1 / len(correct), 6))
    draft.type = "multiple_choice"
    draft.data.update({"options": options, "scoring": ALL_OR_NOTHING})
    draft.grading = {"fractions": correct, "feedback": feedback}


#: how each Moodle question type is read into a draft (after its name, text and tags)
_READERS: dict[str, Callable[[QuestionDraft, ET.Element], None]] = {
    "multichoice": _read_multichoice,
    "multichoiceset": _all_or_nothing,
    "truefalse": _read_truefalse,
    "shortanswer": _read_shortanswer,
    "numerical": _read_numerical,
    "matching": _read_matching,
    "ordering": _read_ordering,
    "essay": _read_essay,
}


# --- export ---------------------------------------------------------------------------------


def _text_node(parent: ET.Element, tag: str, value: str, fmt: str | None = "html") -> ET.Element:
    node = ET.SubElement(parent, tag, {"format": fmt} if fmt else {})
    ET.SubElement(node, "text").text = value
    return node


def _answer(parent: ET.Element, fraction: float, text: str, feedback: str = "") -> ET.Element:
    percent = round(fraction * 100, 5)
    value = str(int(percent)) if percent == int(percent) else str(percent)
    node = ET.SubElement(parent, "answer", {"fraction": value, "format": "html"})
    ET.SubElement(node, "text").text = text
    _text_node(node, "feedback", feedback)
    return node


_EXPORT_TYPE = {
    "single_choice": "multichoice", "multiple_choice": "multichoice", "true_false": "truefalse",
    "fill_blank": "shortanswer", "matching": "matching", "short_answer": "essay",
    "numerical": "numerical", "ordering": "ordering",
}  # fmt: skip


def export(drafts: list[QuestionDraft]) -> bytes:
    """A Moodle XML document for the drafts, with category markers."""
    quiz = ET.Element("quiz")
    category: str | None = None
    for draft in drafts:
        if draft.category and draft.category != category:
            category = draft.category
            marker = ET.SubElement(quiz, "question", {"type": "category"})
            _text_node(marker, "category", f"$course$/top/{category}", None)
        _export_one(quiz, draft)
    ET.indent(quiz)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(quiz, encoding="utf-8")


def _export_one(quiz: ET.Element, draft: QuestionDraft) -> None:
    qtype = _EXPORT_TYPE.get(draft.type)
    all_or_nothing = draft.type == "multiple_choice" and scoring_mode(draft.data) == ALL_OR_NOTHING
    if all_or_nothing:
        qtype = "multichoiceset"
    if qtype is None:
        raise ValueError(_("Moodle XML cannot hold this question type."))
    question = _question_node(quiz, draft, qtype)
    grading, data = draft.grading, draft.data
    if draft.type in {"single_choice", "multiple_choice"}:
        _export_choices(question, draft, all_or_nothing)
    elif draft.type == "true_false":
        _answer(question, 1.0 if grading.get("correct") else 0.0, "true")
        _answer(question, 0.0 if grading.get("correct") else 1.0, "false")
    elif draft.type == "fill_blank":
        blanks = grading.get("blanks") or [[]]
        if len(blanks) != 1:
            raise ValueError(_("Moodle XML holds one blank per short-answer question."))
        ET.SubElement(question, "usecase").text = "1" if grading.get("case_sensitive") else "0"
        for accepted in blanks[0]:
            _answer(question, float(accepted.get("fraction", 1)), accepted["text"],
                    accepted.get("feedback", ""))  # fmt: skip
    elif draft.type == "numerical":
        for option in grading.get("answers", []):
            node = _answer(question, float(option["fraction"]), _number(option["value"]))
            ET.SubElement(node, "tolerance").text = _number(option.get("tolerance", 0))
    elif draft.type == "matching":
        choices = {c["id"]: c["text"] for c in data.get("choices", [])}
        used = set(grading.get("pairs", {}).values())
        for prompt in data.get("prompts", []):
            sub = _text_node(question, "subquestion", prompt["text"])
            answer = ET.SubElement(sub, "answer")
            ET.SubElement(answer, "text").text = choices[grading["pairs"][prompt["id"]]]
        for choice_id, text in choices.items():
            if choice_id not in used:
                sub = _text_node(question, "subquestion", "")
                ET.SubElement(ET.SubElement(sub, "answer"), "text").text = text
    elif draft.type == "ordering":
        items = {i["id"]: i["text"] for i in data.get("items", [])}
        for item_id in grading.get("order", []):
            _answer(question, 0.0, items[item_id])
    elif draft.type == "short_answer":
        _text_node(question, "graderinfo", str(grading.get("reference", "")))


def _question_node(quiz: ET.Element, draft: QuestionDraft, qtype: str) -> ET.Element:
    """A ``<question>`` with what every type has: name, text, feedback, mark, tags."""
    question = ET.SubElement(quiz, "question", {"type": qtype})
    _text_node(question, "name", draft.name, None)
    _text_node(question, "questiontext", draft.stem, draft.data.get("stem_format", "html"))
    _text_node(question, "generalfeedback", draft.general_feedback)
    ET.SubElement(question, "defaultgrade").text = str(draft.default_mark)
    tags = [f"{key}:{value}" for key in ("topic", "grade_band", "difficulty")
            if (value := getattr(draft, key)) not in (None, "")]  # fmt: skip
    if tags:
        node = ET.SubElement(question, "tags")
        for tag in tags:
            _text_node(node, "tag", tag, None)
    return question


def _export_choices(question: ET.Element, draft: QuestionDraft, all_or_nothing: bool) -> None:
    grading, data = draft.grading, draft.data
    fractions = {k: float(v) for k, v in grading.get("fractions", {}).items()}
    if all_or_nothing:  # the correct ones graded above 0, the rest 0
        fractions = {k: v for k, v in fractions.items() if v > 0}
    else:
        ET.SubElement(question, "single").text = str(draft.type == "single_choice").lower()
        if draft.type == "multiple_choice":
            fractions = penalty_weights(data, grading)
    ET.SubElement(question, "shuffleanswers").text = "true"
    for option in data.get("options", []):
        fraction = fractions.get(option["id"], 0.0)
        feedback = grading.get("feedback", {}).get(option["id"], "")
        _answer(question, fraction, option["text"], feedback)


def _number(value: Any) -> str:
    number = float(value)
    return str(int(number)) if number == int(number) else str(number)
