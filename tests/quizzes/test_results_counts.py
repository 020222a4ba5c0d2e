"""A quiz's results and a campaign's participation are counted in the database: the figures match
a plain count over every attempt and answer, and they hold at a county's scale (more people than
one statement may carry as parameters, which the old per-person lists could not pass)."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime

import pytest
from sqlalchemy import Integer, func, insert, literal, select

from elearn.extensions import db
from elearn.models import Role, RoleAssignment, Unit
from elearn.seed import scale
from quizzes import analysis, service
from quizzes.dispatch.service import campaigns, participation, survey_results
from quizzes.models import AttemptSlot, AttemptState, QuizAttempt
from quizzes.seed import scale_term_exam
from tests.conftest import user

PUPILS = ["student1"] + [f"s_S0101_5_{n:02d}" for n in range(1, 14)]


def answer_at_random(quiz, rng: random.Random) -> None:
    """Each pupil takes the quiz once or twice, answering each question right or wrong at random."""
    right = {"true_false": False, "single_choice": "opt-right", "multiple_choice": ["m1", "m2"]}
    wrong = {"true_false": True, "single_choice": "opt-wrong", "multiple_choice": ["m3"]}
    for username in PUPILS:
        pupil = user(username)
        for _time in range(min(rng.choice([1, 1, 2]), quiz.attempts_allowed or 2)):
            attempt = service.start_attempt(actor=pupil, quiz=quiz)
            for slot in attempt.slots:
                if rng.random() < 0.15:
                    continue  # left unanswered
                kind = slot.version.type
                answer = right[kind] if rng.random() < 0.6 else wrong[kind]
                service.save_answer(
                    actor=pupil,
                    attempt_id=attempt.id,
                    question_id=slot.question_id,
                    answer=answer,
                    seq=1,
                )
            service.submit_attempt(actor=pupil, attempt_id=attempt.id)


def reference(quiz) -> dict:
    """The figures counted the plain way, over every attempt loaded."""
    attempts = db.session.scalars(
        select(QuizAttempt).where(
            QuizAttempt.quiz_id == quiz.id, QuizAttempt.state == AttemptState.FINISHED
        )
    ).all()
    best: dict[int, QuizAttempt] = {}
    for a in sorted(attempts, key=lambda a: (-(a.score or 0), a.id)):
        best.setdefault(a.user_id, a)
    percent = {a.id: (a.score or 0) * 100 / a.max_score for a in best.values()}
    ranked = sorted(best.values(), key=lambda a: (percent[a.id], a.user_id))
    group = max(1, round(len(ranked) * 0.27))
    lower, upper = {a.id for a in ranked[:group]}, {a.id for a in ranked[-group:]}
    fractions: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for a in best.values():
        for slot in a.slots:
            if slot.fraction is not None:
                fractions[slot.question_id].append((a.id, slot.fraction))
    items = {}
    for question_id, values in fractions.items():
        up = [f for a, f in values if a in upper]
        low = [f for a, f in values if a in lower]
        items[question_id] = (
            len(values),
            round(sum(f for _a, f in values) / len(values), 3),
            round(sum(up) / len(up) - sum(low) / len(low), 3) if up and low else None,
        )
    distribution = [0] * 10
    for value in percent.values():
        distribution[min(9, int(value // 10))] += 1
    return {
        "attempts": len(best),
        "mean": round(sum(percent.values()) / len(best), 1),
        "pass_rate": round(sum(1 for a in best.values() if a.passed) / len(best), 4),
        "distribution": distribution,
        "items": items,
        "order": [
            a.user_id for a in sorted(best.values(), key=lambda a: (-percent[a.id], a.user_id))
        ],
    }


def test_results_match_a_plain_count_of_every_attempt(quiz_factory):
    quiz = quiz_factory(
        types={"true_false", "single_choice", "multiple_choice"}, attempts_allowed=2
    )
    answer_at_random(quiz, random.Random(7))
    expected = reference(quiz)
    data = analysis.results(quiz, per_page=5)
    assert data.attempts == expected["attempts"] == len(PUPILS)
    assert data.mean_percent == expected["mean"] and data.pass_rate == expected["pass_rate"]
    assert data.distribution == expected["distribution"]
    assert {i.question_id: (i.answered, i.facility, i.discrimination) for i in data.items} == (
        expected["items"]
    )
    assert all(set(i.by_county) == {"示范市"} for i in data.items)
    assert (data.page, data.pages) == (1, 3) and len(data.rows) == 5
    last = analysis.results(quiz, page=9, per_page=5)  # past the end: the last page
    assert last.page == 3 and len(last.rows) == len(PUPILS) - 10
    order = [r["user_id"] for r in data.rows + analysis.results(quiz, page=2, per_page=5).rows]
    assert order + [r["user_id"] for r in last.rows] == expected["order"]
    assert [r["user_id"] for r in analysis.student_rows(quiz)] == expected["order"]


def test_results_page_pages_the_students(signed_in, quiz_factory, app):
    quiz = quiz_factory(types={"true_false"}, attempts_allowed=1)
    answer_at_random(quiz, random.Random(3))
    quiz_id = quiz.id
    db.session.commit()
    app.config["PAGE_SIZE"] = 10
    try:
        client = signed_in("teacher1")
        first = client.get(f"/quizzes/{quiz_id}/results").get_data(as_text=True)
        second = client.get(f"/quizzes/{quiz_id}/results?page=2").get_data(as_text=True)
    finally:
        app.config["PAGE_SIZE"] = 50
    assert "第 1 / 2 页" in first and first.count("/quizzes/record/") == 10
    assert "第 2 / 2 页" in second and second.count("/quizzes/record/") == len(PUPILS) - 10


COUNTY = scale.ScaleSpec(
    code="TEST-COUNTS",
    name="计数测试县",
    counties=2,
    schools=60,
    teachers=1_500,
    students=70_000,
    guardians=70_000,
    username_prefix="tcn",
    guardian_phone_prefix="153",
    teacher_phone_prefix="183",
)


@pytest.fixture
def county_exam(ctx):
    """A term exam sent to 70,000 students (more than the 65,535 parameters a PostgreSQL statement
    may carry); two in three took it, one attempt each, with a score that follows their id."""
    from tests.quizzes.test_campaigns import demo_items

    scale.seed(COUNTY, echo=lambda _line: None)
    root = db.session.scalar(select(Unit).where(Unit.code == COUNTY.code))
    campaign = scale_term_exam(root, title="县级期末考试", items=demo_items())
    now = datetime.now(UTC)
    # the attempts in one statement: score = user id mod 11 × 10 (0…100); every third skipped
    score = (RoleAssignment.user_id % 11) * 10
    columns = {
        "quiz_id": literal(campaign.quiz_id),
        "user_id": RoleAssignment.user_id,
        "number": literal(1),
        "state": literal(AttemptState.FINISHED.value),
        "seed": literal(1),
        "started_at": literal(now),
        "finished_at": literal(now),
        "closed_reason": literal("submitted"),
        "score": score,
        "max_score": literal(100.0),
        "passed": score >= campaign.quiz.pass_mark,
        "needs_manual_grading": literal(False),
    }
    db.session.execute(
        insert(QuizAttempt).from_select(
            list(columns),
            select(*columns.values())
            .join(Unit, Unit.id == RoleAssignment.unit_id)
            .where(
                RoleAssignment.role == Role.STUDENT,
                Unit.path.startswith(root.path),
                RoleAssignment.user_id % 3 != 0,
            ),
        )
    )
    return campaign, root


def test_participation_of_a_county_sized_exam_is_counted(county_exam):
    campaign, root = county_exam
    counted = db.session.execute(
        select(
            func.count(),
            func.sum((QuizAttempt.score >= campaign.quiz.pass_mark).cast(Integer)),
            func.sum((QuizAttempt.score >= campaign.excellent_mark).cast(Integer)),
        ).where(QuizAttempt.quiz_id == campaign.quiz_id)
    ).one()
    result = participation.participation(campaign, root)
    total = result.total
    assert total.expected == 70_000
    assert (total.took, total.passed, total.excellent) == tuple(counted)
    assert result.not_taken_count == 70_000 - counted[0]
    assert len(result.not_taken) == participation.NOT_TAKEN_LIMIT
    # the first 500 by class and id, each class's sorted by name, as counted the plain way
    pupils = db.session.execute(
        select(RoleAssignment.user_id, RoleAssignment.unit_id)
        .join(Unit, Unit.id == RoleAssignment.unit_id)
        .where(RoleAssignment.role == Role.STUDENT, Unit.path.startswith(root.path))
    ).all()
    first = sorted((unit_id, uid) for uid, unit_id in pupils if uid % 3 == 0)[:500]
    assert sorted((r["unit_id"], r["user_id"]) for r in result.not_taken) == first
    names = [(r["unit_id"], r["name"]) for r in result.not_taken]
    assert names == sorted(names)
    assert len(result.children) == 2  # the two counties
    assert sum(c.expected for c in result.children) == 70_000
    assert sum(c.took for c in result.children) == counted[0]


def test_results_of_a_county_sized_exam_are_counted(county_exam):
    campaign, _root = county_exam
    data = analysis.results(campaign.quiz)
    took = db.session.scalar(select(func.count()).where(QuizAttempt.quiz_id == campaign.quiz_id))
    assert data.attempts == took and sum(data.distribution) == took
    # scores are 0, 10, … 100 by user id: each bin holds its share, 90 and 100 share the last
    assert data.distribution[9] > data.distribution[0] > 0
    assert data.rows[0]["percent"] == 100.0 and len(data.rows) == 50
    assert data.items == []  # no answers were written, only scores
    assert not db.session.scalar(select(func.count()).select_from(AttemptSlot))


def take_named(username, campaign, right: bool) -> None:
    """A named survey: every statement right (or the true/false ones wrong), the top of each scale."""
    from quizzes.qtypes import get_type

    pupil = user(username)
    attempt = service.start_attempt(actor=pupil, quiz=campaign.quiz)
    for seq, slot in enumerate(attempt.slots, start=1):
        version = slot.version
        if version.type == "opinion":
            answer = version.data["options"][0]["id"]
        else:
            answer = get_type(version.type).correct_answer(version.data, version.grading)
            if not right and version.type == "true_false":
                answer = not answer
        service.save_answer(
            actor=pupil, attempt_id=attempt.id, question_id=slot.question_id, answer=answer, seq=seq
        )
    service.submit_attempt(actor=pupil, attempt_id=attempt.id)


@pytest.mark.parametrize("anonymous", [True, False])
def test_survey_rates_and_answer_counts_named_or_anonymous(ctx, anonymous):
    from tests.conftest import unit_by_code
    from tests.quizzes.test_campaigns import send, take_survey

    county = unit_by_code("C01")
    admin = user("county_admin")
    items = campaigns.template_items(actor=admin, sender=county, template="knowledge")
    items += campaigns.template_items(actor=admin, sender=county, template="satisfaction")
    campaign = send(kind="survey", items=items, anonymous=anonymous, title="知晓率与满意率调查")
    names = ["student1"] + [f"s_S0101_5_{n:02d}" for n in range(1, 5)]
    for n, name in enumerate(names):
        if anonymous:
            take_survey(user(name), campaign, right=n < 4)
        else:
            take_named(name, campaign, right=n < 4)
    results = survey_results.survey_results(campaign.quiz, county)
    assert results["responses"] == 5 and not results["hidden"]
    versions = [i.question.current_version for i in campaign.quiz.items]
    knowledge = [v for v in versions if v.type != "opinion"]
    true_false = [v for v in knowledge if v.type == "true_false"]
    # four answer every statement right; the fifth gets the true/false ones wrong
    right = 4 * len(knowledge) + len(knowledge) - len(true_false)
    assert results["awareness_rate"] == round(right / (5 * len(knowledge)), 4)
    assert results["satisfaction_rate"] == 1.0  # everyone at the top of every scale
    for version in versions:
        assert sum(results["questions"][str(version.question_id)].values()) == 5
    # the report reads the answers once and gives each school its own figures
    report = survey_results.survey_report(campaign, county)
    assert report["responses"] == 5 and report["awareness_rate"] == results["awareness_rate"]
    (school,) = report["children"]
    assert school["unit"].code == "S0101" and school["responses"] == 5
    assert school["awareness_rate"] == results["awareness_rate"]
    assert school["questions"] == results["questions"]


def test_results_are_kept_until_a_result_changes(quiz_factory):
    """The overview (summary, distribution, item analysis: seconds at a prefecture's size) is
    counted once; a grade, once committed, gives the quiz a new version and a new count."""
    from sqlalchemy import event

    quiz = quiz_factory(types={"true_false", "short_answer"})
    attempt = service.start_attempt(actor=user("student1"), quiz=quiz)
    kinds = {slot.version.type: slot for slot in attempt.slots}
    service.save_answer(
        actor=user("student1"),
        attempt_id=attempt.id,
        question_id=kinds["short_answer"].question_id,
        answer="远离毒品",
        seq=1,
    )
    service.submit_attempt(actor=user("student1"), attempt_id=attempt.id)
    db.session.commit()
    seen: list[str] = []

    def note(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        first = analysis.results(quiz)
        counted = len(seen)
        again = analysis.results(quiz)
        kept = len(seen) - counted
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    assert kept < counted and again.items == first.items and again.attempts == 1
    assert "short_answer" not in {i.type for i in first.items}  # waiting for the teacher

    before = analysis._results_version(quiz.id)
    service.grade_slot(actor=user("teacher1"), slot=kinds["short_answer"], points=2.0)
    assert analysis._results_version(quiz.id) == before  # not before the commit
    db.session.commit()
    assert analysis._results_version(quiz.id) != before
    graded = analysis.results(quiz)
    assert next(i for i in graded.items if i.type == "short_answer").facility == 1.0
    # the only attempt waited for its grade: no mean until then (point 16 of issue 14)
    assert first.mean_percent is None and graded.mean_percent is not None
