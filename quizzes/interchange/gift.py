"""GIFT (Moodle's text format), parsed by hand: no maintained PyPI parser exists (pygiftparser
1.1 is unmaintained and renders HTML; nothing else on PyPI parses GIFT).

Only ASCII ``~ = # { } :`` are control characters, so Chinese full-width punctuation
(｛｝＝～＃：) is ordinary text and survives import and export unchanged.

A multiple-answer question's scoring mode (``quizzes.qtypes``): GIFT has weights only, so the
penalty mode writes the wrong options' weights out (``~%-50%``), which Moodle grades the same
way; an all-or-nothing question is written with ``// all-or-nothing`` on the line above it (a
comment, which Moodle skips) and each wrong option at ``~%-100%``, Moodle's nearest reading
(any wrong choice earns nothing there). Reading, that comment line makes the question
all-or-nothing; without it a multiple-answer question is in the penalty mode.
"""

from __future__ import annotations

import re

from flask_babel import gettext as _

from quizzes.interchange import BLANK, ParseError, ParseResult, QuestionDraft, penalty_weights
from quizzes.qtypes import ALL_OR_NOTHING, PENALTY, new_option_id, scoring_mode

# Escaped control characters become private-use code points while parsing (as Moodle does).
_ESCAPES = {"\\\\": "\ue000", "\\~": "\ue001", "\\=": "\ue002", "\\#": "\ue003",
            "\\{": "\ue004", "\\}": "\ue005", "\\:": "\ue006", "\\n": "\ue007"}  # fmt: skip
_RESTORE = {"\ue000": "\\", "\ue001": "~", "\ue002": "=", "\ue003": "#", "\ue004": "{",
            "\ue005": "}", "\ue006": ":", "\ue007": "\n"}  # fmt: skip
_FORMAT_RE = re.compile(r"^\s*\[(html|moodle|plain|markdown)\]", re.I)
_WEIGHT_RE = re.compile(r"^%(-?\d+(?:\.\d+)?)%")
#: the comment line that makes the question below it all-or-nothing
_ALL_OR_NOTHING_RE = re.compile(r"^//\s*all-or-nothing\b", re.I)
ALL_OR_NOTHING_LINE = "// all-or-nothing: full marks only for exactly the right options"
_TRUE = {"T", "TRUE"}
_FALSE = {"F", "FALSE"}


def _protect(text: str) -> str:
    for escaped, mark in _ESCAPES.items():
        text = text.replace(escaped, mark)
    return text


def _restore(text: str) -> str:
    for mark, char in _RESTORE.items():
        text = text.replace(mark, char)
    return text


def _clean(text: str) -> str:
    """Strip a [format] prefix, collapse the line breaks of the file, restore escapes."""
    text = _FORMAT_RE.sub("", text)
    return _restore(" ".join(text.split()))


def _blocks(source: str) -> list[tuple[int, str, bool]]:
    """Questions are separated by blank lines; ``//`` comment lines are dropped, except that
    ``// all-or-nothing`` marks its block (the third item)."""
    blocks: list[tuple[int, str, bool]] = []
    current: list[str] = []
    start = 0
    all_or_nothing = False
    for number, line in enumerate(source.splitlines(), start=1):
        if line.strip().startswith("//"):
            all_or_nothing = all_or_nothing or bool(_ALL_OR_NOTHING_RE.match(line.strip()))
            continue
        if not line.strip():
            if current:
                blocks.append((start, "\n".join(current), all_or_nothing))
                current, all_or_nothing = [], False
            continue
        if not current:
            start = number
        current.append(line)
    if current:
        blocks.append((start, "\n".join(current), all_or_nothing))
    return blocks


def parse(source: str) -> ParseResult:
    """Parse a GIFT file (text) into drafts and per-question errors."""
    result = ParseResult()
    category: str | None = None
    source = source.lstrip("\ufeff")
    for line, raw, all_or_nothing in _blocks(source):
        text = _protect(raw).strip()
        if text.startswith("$CATEGORY:"):
            category = _restore(text[len("$CATEGORY:") :].strip())
            category = category.removeprefix("$course$/").removeprefix("$system$/")
            continue
        try:
            draft = _question(text, line, all_or_nothing)
        except ValueError as error:
            result.errors.append(ParseError(line, str(error)))
            continue
        if draft is None:
            result.skipped.append(ParseError(line, _("A description without a question.")))
            continue
        draft.category = category
        result.drafts.append(draft)
    return result


def _question(text: str, line: int, all_or_nothing: bool = False) -> QuestionDraft | None:
    name = ""
    if text.startswith("::"):
        end = text.find("::", 2)
        if end < 0:
            raise ValueError(_("The question title is not closed with '::'."))
        name = _clean(text[2:end])
        text = text[end + 2 :].strip()
    open_at = text.find("{")
    if open_at < 0:
        if "}" in text:
            raise ValueError(_("A '}' without a matching '{'."))
        return None  # a description
    close_at = text.rfind("}")
    if close_at < open_at:
        raise ValueError(_("The answers are not closed with '}'."))
    before, body, after = text[:open_at], text[open_at + 1 : close_at], text[close_at + 1 :]
    if "{" in body:
        raise ValueError(_("A question can have only one answer block; escape '{' as '\\{'."))
    stem_format = _FORMAT_RE.match(before)
    is_html = bool(stem_format and stem_format.group(1).lower() == "html")
    before_text, after_text = _clean(before), _clean(after)
    stem = f"{before_text} {BLANK} {after_text}".strip() if after_text else before_text
    draft = QuestionDraft(type="", stem=stem, name=name or _plain_name(stem), line=line)
    body, general = _split_general_feedback(body)
    draft.general_feedback = _clean(general)
    _answers(draft, body.strip(), all_or_nothing)
    if not is_html:
        draft.data["stem_format"] = stem_format.group(1).lower() if stem_format else "moodle"
    return draft


def _plain_name(stem: str) -> str:
    return re.sub(r"<[^>]+>", "", stem)[:60].strip()


def _split_general_feedback(body: str) -> tuple[str, str]:
    if "####" in body:
        answers, general = body.split("####", 1)
        return answers, general
    return body, ""


def _items(body: str) -> list[tuple[str, str]]:
    """Split an answer block into (marker, text) at each unescaped ``=`` or ``~``."""
    items: list[tuple[str, str]] = []
    for match in re.finditer(r"([=~])([^=~]*)", body):
        items.append((match.group(1), match.group(2)))
    if body.strip() and not items:
        raise ValueError(_("Answers must start with '=' (right) or '~' (wrong)."))
    if body[: body.find(items[0][0])].strip() if items else False:
        raise ValueError(_("Answers must start with '=' (right) or '~' (wrong)."))
    return items


def _weight_text_feedback(raw: str) -> tuple[float | None, str, str]:
    raw = raw.strip()
    weight = None
    match = _WEIGHT_RE.match(raw)
    if match:
        weight = float(match.group(1)) / 100
        raw = raw[match.end() :]
    text, _sep, feedback = raw.partition("#")
    return weight, _clean(text), _clean(feedback)


def _answers(draft: QuestionDraft, body: str, all_or_nothing: bool = False) -> None:
    if not body:
        draft.type = "short_answer"
        return
    if body.startswith("#"):
        _numerical(draft, body[1:])
        return
    head, _sep, feedback = body.partition("#")
    if head.strip().upper() in _TRUE | _FALSE:
        draft.type = "true_false"
        draft.grading = {"correct": head.strip().upper() in _TRUE}
        parts = body.split("#")
        draft.grading["feedback"] = {
            "wrong": _clean(parts[1]) if len(parts) > 1 else "",
            "right": _clean(parts[2]) if len(parts) > 2 else "",
        }
        return
    if body[0] not in "=~" and "=" not in body and "~" not in body:
        body = "=" + body  # one right short answer needs no '='
    items = _items(body)
    if all(marker == "=" and "->" in text for marker, text in items):
        _matching(draft, items)
        return
    parsed = [(marker, *_weight_text_feedback(text)) for marker, text in items]
    if all(marker == "=" for marker, *_rest in parsed):
        draft.type = "fill_blank"
        accepted = [
            {"text": text, "fraction": 1.0 if weight is None else weight, "feedback": fb}
            for _marker, weight, text, fb in parsed
        ]
        draft.data = {"blanks": 1}
        draft.grading = {"blanks": [accepted]}
        return
    options, fractions, feedback_by_id = [], {}, {}
    for marker, weight, text, fb in parsed:
        option_id = new_option_id()
        options.append({"id": option_id, "text": text})
        fraction = weight if weight is not None else (1.0 if marker == "=" else 0.0)
        if fraction:
            fractions[option_id] = fraction
        if fb:
            feedback_by_id[option_id] = fb
    positives = [f for f in fractions.values() if f > 0]
    multiple = all_or_nothing or len(positives) != 1
    draft.type = "multiple_choice" if multiple else "single_choice"
    draft.data = {"options": options}
    if multiple:
        draft.data["scoring"] = ALL_OR_NOTHING if all_or_nothing else PENALTY
    draft.grading = {"fractions": fractions, "feedback": feedback_by_id}


def _matching(draft: QuestionDraft, items: list[tuple[str, str]]) -> None:
    prompts, choices, pairs = [], [], {}
    choice_ids: dict[str, str] = {}
    for marker, text in items:
        if marker != "=" or "->" not in text:
            raise ValueError(_("Each matching pair must be written '=item -> answer'."))
        left, right = text.split("->", 1)
        left, right = _clean(left), _clean(right)
        if right not in choice_ids:
            choice_ids[right] = new_option_id()
            choices.append({"id": choice_ids[right], "text": right})
        if left:  # "= -> Chat" adds a distractor answer
            prompt_id = new_option_id()
            prompts.append({"id": prompt_id, "text": left})
            pairs[prompt_id] = choice_ids[right]
    draft.type = "matching"
    draft.data = {"prompts": prompts, "choices": choices}
    draft.grading = {"pairs": pairs}


def _numerical(draft: QuestionDraft, body: str) -> None:
    draft.type = "numerical"
    answers = []
    body = body.strip()
    if body and body[0] not in "=~":
        body = "=" + body
    for marker, entry in _items(body):
        weight, text, _fb = _weight_text_feedback(entry)
        text = text.strip()
        if marker == "~":
            if not text:
                continue  # "~#feedback": any other answer is wrong
            weight = weight or 0.0
        try:
            if ".." in text:
                low, high = (float(x) for x in text.split("..", 1))
                value, tolerance = (low + high) / 2, (high - low) / 2
            elif ":" in text:
                value_s, tolerance_s = text.split(":", 1)
                value, tolerance = float(value_s), float(tolerance_s)
            else:
                value, tolerance = float(text), 0.0
        except ValueError:
            raise ValueError(_("'%(text)s' is not a number.", text=text)) from None
        answers.append(
            {"value": value, "tolerance": tolerance, "fraction": 1.0 if weight is None else weight}
        )
    draft.grading = {"answers": answers}


# --- export ---------------------------------------------------------------------------------


def escape(text: str) -> str:
    text = text.replace("\\", "\\\\")
    for char in "~=#{}:":
        text = text.replace(char, "\\" + char)
    return text.replace("\n", "\\n")


def _percent(fraction: float) -> str:
    value = round(fraction * 100, 5)
    return f"%{int(value) if value == int(value) else value}%"


def export(drafts: list[QuestionDraft]) -> str:
    """GIFT text for the drafts, grouped by category."""
    lines: list[str] = []
    category: str | None = None
    for draft in drafts:
        if draft.category and draft.category != category:
            category = draft.category
            lines += [f"$CATEGORY: $course$/{category}", ""]
        lines += [_export_one(draft), ""]
    return "\n".join(lines)


def _export_one(draft: QuestionDraft) -> str:
    stem = escape(draft.stem)
    prefix = "" if draft.data.get("stem_format") else "[html]"
    head = f"::{escape(draft.name)}::{prefix}{stem}" if draft.name else f"{prefix}{stem}"
    body = _export_body(draft)
    if draft.general_feedback:
        body += f"####{escape(draft.general_feedback)}"
    if draft.type == "multiple_choice" and scoring_mode(draft.data) == ALL_OR_NOTHING:
        return f"{ALL_OR_NOTHING_LINE}\n{head}{{{body}}}"
    return f"{head}{{{body}}}"


def _export_body(draft: QuestionDraft) -> str:
    grading, data = draft.grading, draft.data
    if draft.type == "short_answer":
        return ""
    if draft.type == "true_false":
        return "TRUE" if grading.get("correct") else "FALSE"
    if draft.type == "numerical":
        parts = [
            f"={_percent(float(a['fraction']))}{a['value']}:{a.get('tolerance', 0)}"
            for a in grading.get("answers", [])
        ]
        return "#" + " ".join(parts)
    if draft.type == "fill_blank":
        blanks = grading.get("blanks") or [[]]
        if len(blanks) != 1:
            raise ValueError(_("GIFT holds one blank per question."))
        return " ".join(
            f"={_percent(float(a.get('fraction', 1)))}{escape(a['text'])}" for a in blanks[0]
        )
    if draft.type == "matching":
        choices = {c["id"]: c["text"] for c in data.get("choices", [])}
        used = set(grading.get("pairs", {}).values())
        parts = [
            f"={escape(p['text'])} -> {escape(choices[grading['pairs'][p['id']]])}"
            for p in data.get("prompts", [])
        ]
        parts += [f"= -> {escape(text)}" for cid, text in choices.items() if cid not in used]
        return "\n" + "\n".join(parts) + "\n"
    if draft.type in {"single_choice", "multiple_choice"}:
        fractions = {k: float(v) for k, v in grading.get("fractions", {}).items()}
        if draft.type == "multiple_choice":
            if scoring_mode(data) == ALL_OR_NOTHING:  # any wrong choice: nothing, in Moodle too
                fractions = {o["id"]: fractions.get(o["id"], 0.0) for o in data.get("options", [])}
                fractions = {k: v if v > 0 else -1.0 for k, v in fractions.items()}
            else:
                fractions = penalty_weights(data, grading)
        feedback = grading.get("feedback", {})
        parts = []
        for option in data.get("options", []):
            fraction = float(fractions.get(option["id"], 0))
            if draft.type == "single_choice" and fraction == 1.0:
                marker = "="
            else:
                marker = "~" + (_percent(fraction) if fraction else "")
            fb = feedback.get(option["id"])
            parts.append(f"{marker}{escape(option['text'])}" + (f"#{escape(fb)}" if fb else ""))
        return "\n" + "\n".join(parts) + "\n"
    if draft.type == "ordering":
        raise ValueError(_("GIFT has no ordering questions; export this bank as Moodle XML."))
    raise ValueError(_("GIFT cannot hold this question type."))
