"""A prefecture's term exam on its dashboards, at the prefecture's real size.

The prefecture-scale seed (700,000 students under 8 counties and 1,675 schools), a term exam
sent to every student, and two in three of them having taken it: their attempts and ten graded
answers each written straight into PostgreSQL. Then, timed in this process as a page would ask:
participation (rates per child unit, who has not taken it) at the prefecture, a county and a
school; the results page (summary, distribution, item analysis by county, one page of
students); and the Excel export of every student, with its peak memory. Before these were
counted in the database they failed at this size: a statement may carry 65,535 parameters.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from bench import build_app, load, peak_rss_mb, throwaway_database

QUESTIONS = 10


def _timed(call: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    value = call()
    return value, time.perf_counter() - started


def _write_attempts(campaign: Any, root: Any) -> int:
    """Two in three students took it: an attempt each and its ten answers, graded, by SQL."""
    from sqlalchemy import text

    from elearn.extensions import db

    now = datetime.now(UTC)
    params = {"quiz": campaign.quiz_id, "now": now, "path": f"{root.path}%"}
    db.session.execute(
        text(
            "INSERT INTO quiz_attempts (quiz_id, user_id, number, state, seed, started_at,"
            " deadline_at, finished_at, closed_reason, score, max_score, needs_manual_grading)"
            " SELECT :quiz, ra.user_id, 1, 'finished', 1, :now, :now, :now, 'submitted', 0, 100,"
            " false FROM role_assignments ra JOIN units u ON u.id = ra.unit_id"
            " WHERE ra.role = 'student' AND u.path LIKE :path AND ra.user_id % 3 <> 0"
        ),
        params,
    )
    # each answer's fraction (0, 0.1 … 1) follows the student and the question: a spread of scores
    db.session.execute(
        text(
            "INSERT INTO quiz_attempt_slots (attempt_id, position, question_id, version_id, mark,"
            " seq, saved_at, fraction)"
            " SELECT a.id, i.position, i.question_id, q.current_version_id, 10, 1, :now,"
            " ((a.user_id::bigint * (i.position + 3) * 7919) % 11) / 10.0"
            " FROM quiz_attempts a"
            " JOIN quiz_items i ON i.quiz_id = a.quiz_id"
            " JOIN quiz_questions q ON q.id = i.question_id"
            " WHERE a.quiz_id = :quiz"
        ),
        params,
    )
    db.session.execute(
        text(
            "UPDATE quiz_attempts a SET score = s.score, passed = s.score >= 60"
            " FROM (SELECT attempt_id, sum(fraction * mark) AS score FROM quiz_attempt_slots"
            " GROUP BY attempt_id) s WHERE s.attempt_id = a.id AND a.quiz_id = :quiz"
        ),
        params,
    )
    db.session.commit()
    # as autovacuum would after such a write: the planner needs the new tables' statistics
    for table in ("quiz_attempts", "quiz_attempt_slots", "role_assignments", "units", "users"):
        db.session.execute(text(f"ANALYZE {table}"))
    db.session.commit()
    return db.session.scalar(
        text("SELECT count(*) FROM quiz_attempts WHERE quiz_id = :quiz"), params
    )


def run() -> list[str]:
    from sqlalchemy import select

    from elearn.extensions import db
    from elearn.models import Unit
    from elearn.seed import demo, scale
    from quizzes import analysis, workbook
    from quizzes.dispatch.service import participation
    from quizzes.models import Question
    from quizzes.seed import scale_term_exam, seed_demo_quiz

    lines = []
    with throwaway_database("bench_campaign") as url:
        app = build_app(url)
        with app.test_request_context():
            demo.seed_demo()
            seed_demo_quiz()
            db.session.commit()
            _report, seeded = _timed(lambda: scale.seed(scale.PREFECTURE, echo=lambda _l: None))
            db.session.commit()
            root = db.session.scalar(select(Unit).where(Unit.code == scale.PREFECTURE.code))
            questions = db.session.scalars(select(Question).order_by(Question.id)).all()
            campaign = scale_term_exam(
                root,
                title="全州期末禁毒知识考试",
                items=[{"question_id": q.id, "mark": 10} for q in questions[:QUESTIONS]],
            )
            db.session.commit()
            took, written = _timed(lambda: _write_attempts(campaign, root))
            lines.append(
                f"prefecture seed {seeded:.0f} s; {took:,} attempts with {took * QUESTIONS:,} "
                f"graded answers written in {written:.0f} s"
            )
            county = db.session.scalar(
                select(Unit).where(Unit.parent_id == root.id, Unit.type == "county")
            )
            school = db.session.scalar(
                select(Unit)
                .where(Unit.path.startswith(county.path), Unit.type == "school")
                .order_by(Unit.id)
            )
            for label, unit in (("prefecture", root), ("a county", county), ("a school", school)):
                times = []
                for _ in range(2):
                    result, seconds = _timed(
                        lambda unit=unit: participation.participation(campaign, unit)
                    )
                    times.append(seconds)
                    db.session.rollback()
                total = result.total
                lines.append(
                    f"participation at {label} ({unit.name}): {total.expected:,} expected, "
                    f"{total.took:,} took, {len(result.children)} child units, "
                    f"{result.not_taken_count:,} not yet: {times[0]:.2f} s, again {times[1]:.2f} s"
                )
            quiz = campaign.quiz
            times = []
            for _ in range(2):
                data, seconds = _timed(lambda: analysis.results(quiz))
                times.append(seconds)
                db.session.rollback()
            counties = sorted({c for item in data.items for c in item.by_county})
            lines.append(
                f"results page: {data.attempts:,} best attempts, distribution "
                f"{data.distribution}, {len(data.items)} items × {len(counties)} counties, "
                f"page 1 of {data.pages:,}: counted {times[0]:.2f} s, again (the overview from "
                f"the cache) {times[1]:.2f} s"
            )
            before = peak_rss_mb()
            content, seconds = _timed(lambda: workbook.results_workbook(quiz, data))
            lines.append(
                f"Excel export of every student (who took it, and who did not): "
                f"{len(content) / 1e6:.1f} MB in {seconds:.1f} s; "
                f"this process's peak RSS {before:.0f} → {peak_rss_mb():.0f} MB"
            )
            lines.append(f"load average now {load()}")
            db.session.remove()
            db.engine.dispose()
    return lines
