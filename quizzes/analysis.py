"""Results of a quiz: score distribution, item analysis (facility, discrimination), by county."""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook
from sqlalchemy import select

from elearn.extensions import db
from elearn.models import Unit, User
from elearn.service import audit
from quizzes import richtext
from quizzes.models import AttemptSlot, AttemptState, QuestionVersion, Quiz, QuizAttempt

BINS = 10


@dataclass
class ItemStats:
    question_id: int
    name: str
    type: str
    answered: int = 0
    #: mean fraction earned (0 hard … 1 easy)
    facility: float | None = None
    #: upper 27% minus lower 27% facility (> 0.3 good, < 0.2 poor, < 0 suspect)
    discrimination: float | None = None
    by_county: dict[str, float] = field(default_factory=dict)


@dataclass
class QuizResults:
    attempts: int
    mean_percent: float | None
    pass_rate: float | None
    #: counts of best-attempt percentages in ten bins: 0–9, 10–19, … 90–100
    distribution: list[int]
    items: list[ItemStats]
    rows: list[dict[str, Any]]


def _county_of(unit: Unit, names: dict[int, str]) -> str:
    ids = unit.ancestor_ids
    return names.get(ids[1], "") if len(ids) > 1 else ""


def results(quiz: Quiz) -> QuizResults:
    """Each student's best finished attempt, the distribution and the item analysis."""
    attempts = db.session.scalars(
        select(QuizAttempt)
        .where(QuizAttempt.quiz_id == quiz.id, QuizAttempt.state == AttemptState.FINISHED)
        .order_by(QuizAttempt.user_id, QuizAttempt.score.desc().nulls_last())
    ).all()
    best: dict[int, QuizAttempt] = {}
    for attempt in attempts:
        best.setdefault(attempt.user_id, attempt)
    chosen = list(best.values())
    percents = {a.id: (a.score or 0) * 100 / a.max_score if a.max_score else 0.0 for a in chosen}
    distribution = [0] * BINS
    for value in percents.values():
        distribution[min(BINS - 1, int(value // 10))] += 1
    county_names = dict(
        db.session.execute(select(Unit.id, Unit.name).where(Unit.type == "county")).all()
    )
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(best.keys())))}
    county_by_user: dict[int, str] = {}
    class_by_user: dict[int, str] = {}
    for user_id, user in users.items():
        unit = next((a.unit for a in user.roles if a.role == "student"), None)
        if unit is not None:
            county_by_user[user_id] = _county_of(unit, county_names)
            class_by_user[user_id] = unit.name
    items = _item_analysis(
        [a.id for a in chosen], percents, {a.id: a.user_id for a in chosen}, county_by_user
    )
    rows = [
        {
            "name": users[a.user_id].display_name if a.user_id in users else "",
            "class": class_by_user.get(a.user_id, ""),
            "score": a.score,
            "max_score": a.max_score,
            "percent": round(percents[a.id], 1),
            "passed": a.passed,
            "finished_at": a.finished_at,
            "attempt_id": a.id,
            "needs_grading": a.needs_manual_grading,
            "user_id": a.user_id,
        }
        for a in sorted(chosen, key=lambda a: -percents[a.id])
    ]
    passed = [a for a in chosen if a.passed is not None]
    return QuizResults(
        attempts=len(chosen),
        mean_percent=round(sum(percents.values()) / len(chosen), 1) if chosen else None,
        pass_rate=round(sum(1 for a in passed if a.passed) / len(passed), 4) if passed else None,
        distribution=distribution,
        items=items,
        rows=rows,
    )


def _item_analysis(
    attempt_ids: list[int],
    percents: dict[int, float],
    owner: dict[int, int],
    county_by_user: dict[int, str],
) -> list[ItemStats]:
    if not attempt_ids:
        return []
    slots = db.session.execute(
        select(
            AttemptSlot.attempt_id,
            AttemptSlot.question_id,
            AttemptSlot.fraction,
            QuestionVersion.name,
            QuestionVersion.type,
            QuestionVersion.stem,
        )
        .join(QuestionVersion, QuestionVersion.id == AttemptSlot.version_id)
        .where(AttemptSlot.attempt_id.in_(attempt_ids), AttemptSlot.fraction.is_not(None))
    ).all()
    ranked = sorted(attempt_ids, key=lambda a: percents[a])
    group = max(1, round(len(ranked) * 0.27))
    lower, upper = set(ranked[:group]), set(ranked[-group:])
    by_question: dict[int, list[tuple[int, float]]] = defaultdict(list)
    labels: dict[int, tuple[str, str]] = {}
    for attempt_id, question_id, fraction, name, qtype, stem in slots:
        by_question[question_id].append((attempt_id, float(fraction or 0)))
        labels[question_id] = (name or richtext.plain(stem)[:40], qtype)
    items = []
    for question_id, values in sorted(by_question.items()):
        stats = ItemStats(
            question_id=question_id, name=labels[question_id][0], type=labels[question_id][1]
        )
        stats.answered = len(values)
        stats.facility = round(sum(f for _a, f in values) / len(values), 3)
        up = [f for a, f in values if a in upper]
        low = [f for a, f in values if a in lower]
        if up and low and len(ranked) >= 4:
            stats.discrimination = round(sum(up) / len(up) - sum(low) / len(low), 3)
        per_county: dict[str, list[float]] = defaultdict(list)
        for attempt_id, fraction in values:
            per_county[county_by_user.get(owner[attempt_id], "")].append(fraction)
        stats.by_county = {
            county: round(sum(v) / len(v), 3) for county, v in sorted(per_county.items()) if county
        }
        items.append(stats)
    return items


def results_workbook(quiz: Quiz, data: QuizResults) -> bytes:
    """The results as an .xlsx: students, items, distribution."""
    book = Workbook()
    sheet = book.active
    sheet.title = "成绩"
    sheet.append(["姓名", "班级", "得分", "满分", "百分比", "是否及格", "交卷时间"])
    for row in data.rows:
        finished = row["finished_at"].strftime("%Y-%m-%d %H:%M") if row["finished_at"] else ""
        passed = "" if row["passed"] is None else ("是" if row["passed"] else "否")
        sheet.append(
            [
                row["name"],
                row["class"],
                row["score"],
                row["max_score"],
                row["percent"],
                passed,
                finished,
            ]
        )
    items = book.create_sheet("题目分析")
    counties = sorted({c for item in data.items for c in item.by_county})
    items.append(["题目", "题型", "作答人数", "难度系数（得分率）", "区分度", *counties])
    for item in data.items:
        items.append(
            [
                item.name,
                item.type,
                item.answered,
                item.facility,
                item.discrimination,
                *[item.by_county.get(c) for c in counties],
            ]
        )
    spread = book.create_sheet("分数分布")
    spread.append(["分数段", "人数"])
    for index, count in enumerate(data.distribution):
        spread.append([f"{index * 10}–{index * 10 + 9 if index < 9 else 100}%", count])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def export_results(*, actor: User, quiz: Quiz) -> bytes:
    """The quiz's results as an Excel workbook; the export is audited (it holds pupils' scores)."""
    content = results_workbook(quiz, results(quiz))
    audit.record(
        "quiz.results_exported",
        actor=actor,
        unit_id=quiz.unit_id,
        target_type="quiz",
        target_id=quiz.id,
    )
    return content
