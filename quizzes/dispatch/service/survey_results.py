"""A survey's answers counted: each question's answers, 知晓率 (knowledge answered right) and 满意率
(opinions on the satisfied side), under a unit and per child unit; a group of fewer than
``MIN_GROUP`` responses shows its size only, so no answer can be traced to a few people.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Text, cast, func, select

from elearn.extensions import db
from elearn.models import Unit
from quizzes import richtext
from quizzes.dispatch.service.surveys import pending_count
from quizzes.models import (
    AttemptSlot,
    AttemptState,
    Campaign,
    QuestionVersion,
    Quiz,
    QuizAttempt,
    SurveyResponse,
)
from quizzes.qtypes import get_type
from quizzes.queries import audience_people

#: results of a group smaller than this are never shown for an anonymous survey
MIN_GROUP = 5


@dataclass
class _Tally:
    """Responses and how many gave each answer (as JSON text) to each question version."""

    responses: int = 0
    answers: Counter[tuple[int, str]] = field(default_factory=Counter)

    def add(self, other: _Tally) -> None:
        self.responses += other.responses
        self.answers.update(other.answers)


def _answer_tallies(quiz: Quiz, unit: Unit) -> dict[str, _Tally]:
    """The answers under ``unit`` tallied by where they come from (a unit's path): the school of
    an anonymous response, the unit a person is in the audience by for a named one.

    Finished attempts are grouped in the database by place, version and answer; anonymous
    responses (one JSON object each) are read in batches and tallied as they come. Neither holds
    a prefecture's responses in memory, and a report with a row per school needs one call.
    """
    tallies: dict[str, _Tally] = defaultdict(_Tally)
    if quiz.is_anonymous:
        query = (
            select(Unit.path, SurveyResponse.answers)
            .join(Unit, Unit.id == SurveyResponse.unit_id)
            .where(SurveyResponse.quiz_id == quiz.id, Unit.path.startswith(unit.path))
        )
        for path, answers in db.session.execute(query.execution_options(yield_per=5000)):
            tally = tallies[path]
            tally.responses += 1
            for version_id, answer in (answers or {}).items():
                tally.answers[(int(version_id), json.dumps(answer, ensure_ascii=False))] += 1
        return tallies
    people = audience_people(quiz, [unit.path])
    slots = (
        select(people.c.path, AttemptSlot.attempt_id, AttemptSlot.version_id, AttemptSlot.answer)
        .join(QuizAttempt, QuizAttempt.id == AttemptSlot.attempt_id)
        .join(people, people.c.user_id == QuizAttempt.user_id)
        .where(QuizAttempt.quiz_id == quiz.id, QuizAttempt.state == AttemptState.FINISHED)
        .subquery("slots")
    )
    for path, n in db.session.execute(
        select(slots.c.path, func.count(func.distinct(slots.c.attempt_id))).group_by(slots.c.path)
    ):
        tallies[path].responses = n
    answer_text = cast(slots.c.answer, Text)
    for path, version_id, text, n in db.session.execute(
        select(slots.c.path, slots.c.version_id, answer_text, func.count())
        .where(slots.c.answer.is_not(None))
        .group_by(slots.c.path, slots.c.version_id, answer_text)
    ):
        tallies[path].answers[(version_id, text)] += n
    return tallies


def _within(tallies: dict[str, _Tally], unit: Unit) -> _Tally:
    total = _Tally()
    for path, tally in tallies.items():
        if path.startswith(unit.path):
            total.add(tally)
    return total


def survey_results(quiz: Quiz, unit: Unit | None = None) -> dict[str, Any]:
    """Counts of each answer, 知晓率 and 满意率; nothing for a group of fewer than five."""
    unit = unit or quiz.unit
    return _rates(quiz, _within(_answer_tallies(quiz, unit), unit))


def _rates(quiz: Quiz, tally: _Tally) -> dict[str, Any]:
    if tally.responses < MIN_GROUP:
        return {"responses": tally.responses, "hidden": True, "questions": {}}
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    known, right, positive, opinions = 0, 0.0, 0, 0
    versions = {
        v.id: v
        for v in db.session.scalars(
            select(QuestionVersion).where(QuestionVersion.id.in_({v for v, _a in tally.answers}))
        )
    }
    for (version_id, text), n in tally.answers.items():
        answer = json.loads(text) if text is not None else None
        version = versions.get(version_id)
        if answer is None or version is None:
            continue
        for value in answer if isinstance(answer, list) else [answer]:
            counts[str(version.question_id)][str(value)] += n
        question_type = get_type(version.type)
        if question_type.scored and question_type.auto_graded:
            known += n
            right += n * (question_type.grade(version.data, version.grading, answer) or 0.0)
        elif version.type == "opinion":
            opinions += n
            positive += n * (answer in (version.grading.get("positive") or []))
    return {
        "responses": tally.responses,
        "hidden": False,
        "questions": {q: dict(c) for q, c in counts.items()},
        # 知晓率: the share of knowledge answers that were right
        "awareness_rate": round(right / known, 4) if known else None,
        # 满意率: the share of opinions on the satisfied side of the scale
        "satisfaction_rate": round(positive / opinions, 4) if opinions else None,
    }


def _labels(version: QuestionVersion) -> dict[str, str]:
    if version.type == "true_false":
        return {"True": _("True"), "False": _("False")}
    return {
        str(o["id"]): richtext.plain(str(o.get("text", "")))
        for key in ("options", "items", "choices")
        for o in version.data.get(key, [])
        if isinstance(o, dict)
    }


def survey_report(campaign: Campaign, unit: Unit) -> dict[str, Any]:
    """The survey results page: rates, each question's answers counted, and each child unit.

    Every group (the unit, each child) of fewer than five responses shows its size only.
    """
    quiz = campaign.quiz
    tallies = _answer_tallies(quiz, unit)  # once: the unit's figures and each child's
    results = _rates(quiz, _within(tallies, unit))
    children = []
    for child in db.session.scalars(
        select(Unit).where(Unit.parent_id == unit.id).order_by(Unit.name)
    ):
        part = _rates(quiz, _within(tallies, child))
        if part["responses"]:
            children.append({"unit": child, **part})
    return {
        **results,
        "question_rows": [] if results["hidden"] else _question_rows(quiz, results["questions"]),
        "children": children,
        "min_group": MIN_GROUP,
        # anonymous answers wait outside the database until their school's batch of five fills
        "pending": pending_count(quiz, unit) if quiz.is_anonymous else 0,
    }


def _question_rows(quiz: Quiz, counted: dict[str, dict[str, int]]) -> list[dict[str, Any]]:
    """Each question's answers as the report shows them, in the quiz's order (fixed questions
    first as placed, drawn ones after): every option of a choice, the share of each."""
    versions = {
        str(v.question_id): v
        for v in db.session.scalars(
            select(QuestionVersion)
            .where(QuestionVersion.question_id.in_([int(q) for q in counted]))
            .order_by(QuestionVersion.number)
        )
    }
    placed = [str(item.question_id) for item in quiz.items if item.question_id is not None]
    ordered = sorted(
        counted.items(),
        key=lambda pair: placed.index(pair[0]) if pair[0] in placed else len(placed),
    )
    questions = []
    for question_id, counts in ordered:
        version = versions.get(question_id)
        if version is None:
            continue
        labels = _labels(version)
        total = sum(counts.values()) or 1
        order = list(labels) + sorted(set(counts) - set(labels))
        correct = _correct_values(version)
        questions.append(
            {
                "stem": richtext.plain(version.stem),
                "type": version.type,
                "rows": [
                    {
                        "label": labels.get(value, value),
                        "count": counts.get(value, 0),
                        "share": round(counts.get(value, 0) / total, 4),
                        "is_correct": value in correct,
                    }
                    for value in order
                    if value in counts
                    or version.type in {"opinion", "single_choice"}
                    or version.type == "true_false"
                ],
            }
        )
    return questions


def _correct_values(version: QuestionVersion) -> set[str]:
    """The right answers of a scored choice question, as the counts name them."""
    question_type = get_type(version.type)
    if question_type.scored and version.type in {"true_false", "single_choice", "multiple_choice"}:
        right = question_type.correct_answer(version.data, version.grading)
        return {str(v) for v in (right if isinstance(right, list) else [right])}
    return set()
