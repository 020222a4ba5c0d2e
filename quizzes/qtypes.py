"""Question types through a registry (the CTFd pattern): one class per type, no ``if`` chains.

Each type reads two JSON documents of a question version: ``data`` (what a student may see:
options, prompts, the number of blanks) and ``grading`` (correct answers and fractions, which
never leave the server before the review policy allows). Fractions are 0..1 of the mark.

A multiple-answer question is scored in one of two modes, kept in ``data["scoring"]`` (the
student may know how a question is marked; the attempt page says it):

* ``penalty`` (the default, and every question stored before the mode existed): the chosen
  options' weights add up, never below 0. The correct options weigh their fractions; the wrong
  ones together weigh minus the full mark, as Moodle's documentation advises, so ticking every
  box earns nothing. Weights an author or a file gave the wrong options stand when together they
  cost the full mark or more; otherwise (none given, as GIFT's ``~`` and the spreadsheet's
  letters leave them, or too little to cancel the mark) each of the k wrong options weighs −1/k.
  A rule applied when grading, not a rewrite of stored versions: versions never change (attempts
  hold them), so one rule covers the questions already stored, the attempts in progress on them
  and every import.
* ``all_or_nothing`` (Moodle's ``multichoiceset``): the full mark for exactly the correct
  options, nothing otherwise.
"""

from __future__ import annotations

import fnmatch
import math
import random
import secrets
import unicodedata
from typing import Any, ClassVar

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from quizzes import richtext


def new_option_id() -> str:
    """An opaque option id: it says nothing about position or correctness."""
    return secrets.token_hex(4)


def normalise_text(value: Any) -> str:
    """Typed answers compared as a teacher would: width-folded (ＡＢＣ→ABC), case and space blind."""
    text = unicodedata.normalize("NFKC", str(value or ""))
    return " ".join(text.split()).casefold()


def _options(data: dict[str, Any], key: str = "options") -> list[dict[str, Any]]:
    items = data.get(key)
    return items if isinstance(items, list) else []


def _option_ids(data: dict[str, Any], key: str = "options") -> list[str]:
    return [str(o.get("id")) for o in _options(data, key) if isinstance(o, dict)]


def _public_options(options: list[dict[str, Any]], rng: random.Random | None) -> list[dict]:
    view = [{"id": o["id"], "text": richtext.clean(str(o.get("text", "")))} for o in options]
    if rng is not None:
        rng.shuffle(view)
    return view


class QuestionType:
    name: ClassVar[str]
    label: ClassVar[Any]
    #: False for types a teacher grades by hand
    auto_graded: ClassVar[bool] = True
    #: False for opinions (surveys): no right answer, no marks
    scored: ClassVar[bool] = True
    #: True for types whose ``public_view`` shuffles with its ``rng`` (given one only then)
    shuffles: ClassVar[bool] = False

    def validate(self, data: dict[str, Any], grading: dict[str, Any]) -> list[str]:
        """What is wrong with this content (translated messages); empty when it is usable."""
        raise NotImplementedError

    def grade(self, data: dict[str, Any], grading: dict[str, Any], answer: Any) -> float | None:
        """The fraction (0..1) an answer earns; None when a person must grade it."""
        raise NotImplementedError

    def public_view(self, data: dict[str, Any], rng: random.Random | None) -> dict[str, Any]:
        """What the browser gets: no answers, no fractions; options shuffled when ``rng`` is given."""
        return {}

    def accepts(self, data: dict[str, Any], answer: Any) -> bool:
        """Is ``answer`` shaped like an answer to this question (None clears it)?"""
        raise NotImplementedError

    def correct_answer(self, data: dict[str, Any], grading: dict[str, Any]) -> Any:
        """The right answer, for the review (shown only when the policy allows)."""
        raise NotImplementedError


class SingleChoice(QuestionType):
    name = "single_choice"
    shuffles = True
    label = _l("Single choice")

    def validate(self, data, grading):
        errors = []
        ids = _option_ids(data)
        fractions = grading.get("fractions") or {}
        if len(ids) < 2:
            errors.append(_("A choice question needs at least two options."))
        if len(set(ids)) != len(ids):
            errors.append(_("Option ids must be unique."))
        if set(fractions) - set(ids):
            errors.append(_("A grade refers to an option that does not exist."))
        values = [float(v) for v in fractions.values()]
        if any(v < -1 or v > 1 for v in values):
            errors.append(_("Option grades must lie between -100% and 100%."))
        elif not values or not math.isclose(max(values), 1.0):
            errors.append(_("One option must be fully correct (100%)."))
        return errors

    def grade(self, data, grading, answer):
        if answer is None:
            return 0.0
        return max(0.0, float((grading.get("fractions") or {}).get(str(answer), 0.0)))

    def public_view(self, data, rng):
        return {"options": _public_options(_options(data), rng)}

    def accepts(self, data, answer):
        return answer is None or (isinstance(answer, str) and answer in _option_ids(data))

    def correct_answer(self, data, grading):
        fractions = grading.get("fractions") or {}
        return max(fractions, key=lambda k: float(fractions[k])) if fractions else None


#: how a multiple-answer question is scored (see the module's docstring)
PENALTY = "penalty"
ALL_OR_NOTHING = "all_or_nothing"
SCORING_MODES = (PENALTY, ALL_OR_NOTHING)


def scoring_mode(data: dict[str, Any]) -> str:
    """A multiple-answer question's scoring mode; ``penalty`` unless it says otherwise."""
    mode = data.get("scoring")
    return mode if mode in SCORING_MODES else PENALTY


def _fractions(grading: dict[str, Any]) -> dict[str, float]:
    return {str(k): float(v) for k, v in (grading.get("fractions") or {}).items()}


def option_weights(data: dict[str, Any], grading: dict[str, Any]) -> dict[str, float]:
    """Each option's weight under the penalty mode: the correct options' fractions, and the
    wrong options' own weights when together they cost the full mark or more, else −1/k each."""
    fractions = _fractions(grading)
    weights = {option: fractions.get(option, 0.0) for option in _option_ids(data)}
    wrong = [option for option, weight in weights.items() if weight <= 0]
    # a file's −33.33333% three times is the full mark: allow its rounding
    if wrong and sum(weights[option] for option in wrong) > -1 + 1e-4:
        for option in wrong:
            weights[option] = -1 / len(wrong)
    return weights


class MultipleChoice(QuestionType):
    name = "multiple_choice"
    shuffles = True
    label = _l("Multiple choice")

    def validate(self, data, grading):
        errors = []
        ids = _option_ids(data)
        fractions = _fractions(grading)
        if len(ids) < 2:
            errors.append(_("A choice question needs at least two options."))
        if len(set(ids)) != len(ids):
            errors.append(_("Option ids must be unique."))
        if set(fractions) - set(ids):
            errors.append(_("A grade refers to an option that does not exist."))
        if any(v < -1 or v > 1 for v in fractions.values()):
            errors.append(_("Option grades must lie between -100% and 100%."))
        positive = sum(v for v in fractions.values() if v > 0)
        if not math.isclose(positive, 1.0, abs_tol=0.01):
            errors.append(_("The grades of the correct options must add up to 100%."))
        if data.get("scoring") is not None and data["scoring"] not in SCORING_MODES:
            errors.append(_("Choose how wrong choices are scored."))
        return errors

    def grade(self, data, grading, answer):
        chosen = set(answer or [])
        if scoring_mode(data) == ALL_OR_NOTHING:
            correct = {option for option, value in _fractions(grading).items() if value > 0}
            return 1.0 if chosen == correct else 0.0
        weights = option_weights(data, grading)
        total = sum(weights.get(option, 0.0) for option in chosen)
        return min(1.0, max(0.0, round(total, 6)))

    def public_view(self, data, rng):
        return {"options": _public_options(_options(data), rng), "scoring": scoring_mode(data)}

    def accepts(self, data, answer):
        if answer is None:
            return True
        ids = set(_option_ids(data))
        return isinstance(answer, list) and all(isinstance(a, str) and a in ids for a in answer)

    def correct_answer(self, data, grading):
        return sorted(k for k, v in (grading.get("fractions") or {}).items() if float(v) > 0)


class TrueFalse(QuestionType):
    name = "true_false"
    label = _l("True / false")

    def validate(self, data, grading):
        if not isinstance(grading.get("correct"), bool):
            return [_("Say whether the statement is true or false.")]
        return []

    def grade(self, data, grading, answer):
        return 1.0 if isinstance(answer, bool) and answer == grading.get("correct") else 0.0

    def accepts(self, data, answer):
        return answer is None or isinstance(answer, bool)

    def correct_answer(self, data, grading):
        return grading.get("correct")


def _text_matches(pattern: str, answer: str, case_sensitive: bool) -> bool:
    if case_sensitive:
        pattern_n = " ".join(unicodedata.normalize("NFKC", pattern).split())
        answer_n = " ".join(unicodedata.normalize("NFKC", answer).split())
    else:
        pattern_n, answer_n = normalise_text(pattern), normalise_text(answer)
    if "*" in pattern_n:
        # Moodle's short-answer wildcard; nothing else is special
        escaped = pattern_n.replace("[", "[[]").replace("?", "[?]")
        return fnmatch.fnmatchcase(answer_n, escaped)
    return pattern_n == answer_n


class FillInTheBlank(QuestionType):
    """One or more blanks; each has accepted texts with fractions (Moodle's short answer)."""

    name = "fill_blank"
    label = _l("Fill in the blank")

    def _blanks(self, grading: dict[str, Any]) -> list[list[dict[str, Any]]]:
        blanks = grading.get("blanks")
        return blanks if isinstance(blanks, list) else []

    def validate(self, data, grading):
        blanks = self._blanks(grading)
        if not blanks or int(data.get("blanks", 0)) != len(blanks):
            return [_("Give the accepted answers for each blank.")]
        for accepted in blanks:
            if not accepted or not any(float(a.get("fraction", 0)) >= 1 for a in accepted):
                return [_("Each blank needs at least one fully correct answer.")]
            if any(not str(a.get("text", "")).strip() for a in accepted):
                return [_("An accepted answer is empty.")]
        return []

    def grade(self, data, grading, answer):
        blanks = self._blanks(grading)
        given = answer if isinstance(answer, list) else [answer]
        case_sensitive = bool(grading.get("case_sensitive"))
        total = 0.0
        for index, accepted in enumerate(blanks):
            text = str(given[index]) if index < len(given) and given[index] is not None else ""
            best = 0.0
            for option in accepted:
                if text.strip() and _text_matches(str(option["text"]), text, case_sensitive):
                    best = max(best, float(option.get("fraction", 0)))
            total += best
        return round(total / len(blanks), 6) if blanks else 0.0

    def public_view(self, data, rng):
        return {"blanks": int(data.get("blanks", 1))}

    def accepts(self, data, answer):
        if answer is None or isinstance(answer, str):
            return True
        count = int(data.get("blanks", 1))
        return (
            isinstance(answer, list)
            and len(answer) <= count
            and all(isinstance(a, str | None) and len(a or "") <= 500 for a in answer)
        )

    def correct_answer(self, data, grading):
        return [
            max(accepted, key=lambda a: float(a.get("fraction", 0)))["text"]
            for accepted in self._blanks(grading)
        ]


class Matching(QuestionType):
    name = "matching"
    shuffles = True
    label = _l("Matching")

    def validate(self, data, grading):
        prompts, choices = _option_ids(data, "prompts"), _option_ids(data, "choices")
        pairs = grading.get("pairs") or {}
        if len(prompts) < 2:
            return [_("A matching question needs at least two pairs.")]
        if set(pairs) != set(prompts) or not set(pairs.values()) <= set(choices):
            return [_("Every item must be matched to one of the answers.")]
        return []

    def grade(self, data, grading, answer):
        pairs = grading.get("pairs") or {}
        given = answer if isinstance(answer, dict) else {}
        right = sum(1 for prompt, choice in pairs.items() if given.get(prompt) == choice)
        return round(right / len(pairs), 6) if pairs else 0.0

    def public_view(self, data, rng):
        prompts = _public_options(_options(data, "prompts"), rng)
        # unshuffled, the answers would sit in the prompts' order: sort by their opaque ids
        by_id = sorted(_options(data, "choices"), key=lambda o: str(o.get("id")))
        choices = _public_options(by_id, rng)
        return {"prompts": prompts, "choices": choices}

    def accepts(self, data, answer):
        if answer is None:
            return True
        prompts, choices = set(_option_ids(data, "prompts")), set(_option_ids(data, "choices"))
        return isinstance(answer, dict) and all(
            k in prompts and (v is None or v in choices) for k, v in answer.items()
        )

    def correct_answer(self, data, grading):
        return grading.get("pairs") or {}


class Ordering(QuestionType):
    name = "ordering"
    shuffles = True
    label = _l("Ordering")

    def validate(self, data, grading):
        ids = _option_ids(data, "items")
        order = grading.get("order") or []
        if len(ids) < 2:
            return [_("An ordering question needs at least two items.")]
        if sorted(order) != sorted(ids):
            return [_("The correct order must list every item once.")]
        return []

    def grade(self, data, grading, answer):
        order = grading.get("order") or []
        given = answer if isinstance(answer, list) else []
        right = sum(1 for i, item in enumerate(order) if i < len(given) and given[i] == item)
        return round(right / len(order), 6) if order else 0.0

    def public_view(self, data, rng):
        # the stored order may be the answer: start from the opaque ids' order, then shuffle
        by_id = sorted(_options(data, "items"), key=lambda o: str(o.get("id")))
        items = _public_options(by_id, rng)
        return {"items": items}

    def accepts(self, data, answer):
        if answer is None:
            return True
        ids = _option_ids(data, "items")
        return isinstance(answer, list) and sorted(answer) == sorted(ids)

    def correct_answer(self, data, grading):
        return grading.get("order") or []


class ShortAnswer(QuestionType):
    """A written answer a teacher grades by hand (Moodle's essay)."""

    name = "short_answer"
    label = _l("Short answer (teacher-graded)")
    auto_graded = False

    def validate(self, data, grading):
        return []

    def grade(self, data, grading, answer):
        return None

    def public_view(self, data, rng):
        return {"max_length": int(data.get("max_length", 2000))}

    def accepts(self, data, answer):
        return answer is None or (
            isinstance(answer, str) and len(answer) <= int(data.get("max_length", 2000))
        )

    def correct_answer(self, data, grading):
        return grading.get("reference", "")


class Numerical(QuestionType):
    """A number within a tolerance (GIFT ``{#3:2}``, Moodle ``numerical``)."""

    name = "numerical"
    label = _l("Numerical")

    def validate(self, data, grading):
        answers = grading.get("answers") or []
        try:
            ok = any(float(a["fraction"]) >= 1 for a in answers) and all(
                math.isfinite(float(a["value"])) and float(a.get("tolerance", 0)) >= 0
                for a in answers
            )
        except (KeyError, TypeError, ValueError):
            ok = False
        return [] if ok else [_("Give at least one fully correct number.")]

    def grade(self, data, grading, answer):
        try:
            value = float(unicodedata.normalize("NFKC", str(answer)).strip())
        except (TypeError, ValueError):
            return 0.0
        best = 0.0
        for option in grading.get("answers") or []:
            if abs(value - float(option["value"])) <= float(option.get("tolerance", 0)) + 1e-9:
                best = max(best, float(option["fraction"]))
        return best

    def accepts(self, data, answer):
        return answer is None or (isinstance(answer, str | int | float) and len(str(answer)) < 64)

    def correct_answer(self, data, grading):
        answers = grading.get("answers") or []
        best = max(answers, key=lambda a: float(a["fraction"]), default=None)
        return None if best is None else best["value"]


class Opinion(QuestionType):
    """A survey question without a right answer (满意度); ``grading.positive`` lists the options
    that count as satisfied for the satisfaction rate."""

    name = "opinion"
    label = _l("Opinion (survey)")
    scored = False

    def validate(self, data, grading):
        ids = _option_ids(data)
        if len(ids) < 2:
            return [_("A choice question needs at least two options.")]
        if not set(grading.get("positive") or []) <= set(ids):
            return [_("A grade refers to an option that does not exist.")]
        return []

    def grade(self, data, grading, answer):
        return 0.0

    def public_view(self, data, rng):
        return {"options": _public_options(_options(data), None)}  # a scale keeps its order

    def accepts(self, data, answer):
        return answer is None or (isinstance(answer, str) and answer in _option_ids(data))

    def correct_answer(self, data, grading):
        return None


QUESTION_TYPES: dict[str, QuestionType] = {
    t.name: t
    for t in (
        SingleChoice(),
        MultipleChoice(),
        TrueFalse(),
        FillInTheBlank(),
        Matching(),
        Ordering(),
        ShortAnswer(),
        Numerical(),
        Opinion(),
    )
}


def get_type(name: str) -> QuestionType:
    try:
        return QUESTION_TYPES[name]
    except KeyError:
        raise LookupError(name) from None


def register_type(question_type: QuestionType) -> None:
    """Other packages (or later lesson types) plug in their own question types."""
    QUESTION_TYPES[question_type.name] = question_type
