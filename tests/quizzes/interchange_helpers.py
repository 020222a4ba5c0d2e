"""Comparing parsed questions by content (option ids are random, so compare texts)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from quizzes.interchange import QuestionDraft
from quizzes.qtypes import ALL_OR_NOTHING, option_weights, scoring_mode

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures"


def content(draft: QuestionDraft) -> dict[str, Any]:
    data, grading = draft.data, draft.grading
    answers: Any = None
    if draft.type == "multiple_choice" and scoring_mode(data) == ALL_OR_NOTHING:
        # graded by the right options alone
        fractions = grading.get("fractions", {})
        answers = (
            "all-or-nothing",
            [(o["text"], float(fractions.get(o["id"], 0)) > 0) for o in data["options"]],
        )
    elif draft.type == "multiple_choice":
        # the weights it is graded with (the wrong options' written out on export)
        weights = option_weights(data, grading)
        answers = ("penalty", [(o["text"], round(weights[o["id"]], 4)) for o in data["options"]])
    elif draft.type == "single_choice":
        fractions = grading.get("fractions", {})
        answers = [(o["text"], round(float(fractions.get(o["id"], 0)), 4)) for o in data["options"]]
    elif draft.type == "true_false":
        answers = grading["correct"]
    elif draft.type == "fill_blank":
        answers = [
            [(a["text"], round(float(a["fraction"]), 4)) for a in b] for b in grading["blanks"]
        ]
    elif draft.type == "matching":
        texts = {c["id"]: c["text"] for c in data["choices"]}
        answers = (
            [(p["text"], texts[grading["pairs"][p["id"]]]) for p in data["prompts"]],
            sorted(texts.values()),
        )
    elif draft.type == "ordering":
        texts = {i["id"]: i["text"] for i in data["items"]}
        answers = [texts[i] for i in grading["order"]]
    elif draft.type == "numerical":
        answers = [
            (float(a["value"]), float(a["tolerance"]), float(a["fraction"]))
            for a in grading["answers"]
        ]
    return {
        "type": draft.type,
        "name": draft.name,
        "stem": draft.stem,
        "category": draft.category,
        "general_feedback": draft.general_feedback,
        "answers": answers,
    }
