"""Scores rounded for display (issue 14, point 14) and rates counted one way on every page (point
16): a share of a mark shows as 3.3, not 3.33333; an attempt waiting for its short answer's grade
is pending on the campaign page and the results page alike, never a pass; "—" with nobody."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from elearn.extensions import db
from elearn.models import Role, Unit
from quizzes import figures, service
from quizzes.dispatch.service import campaigns
from quizzes.interchange import QuestionDraft
from quizzes.models import Question, QuestionBank
from quizzes.seed import BANK_NAME
from tests.conftest import unit_by_code, user
from tests.quizzes.conftest import bearer


@pytest.mark.parametrize(
    ("value", "shown"),
    [(43.33333, "43.3"), (3.33333, "3.3"), (10.0, "10"), (2.25, "2.3"), (0, "0"), (None, "—")],
)
def test_scores_show_one_decimal_rounded_half_up(ctx, value, shown):
    assert figures.score_text(value) == shown
    if value is not None:
        assert figures.score(value) == float(shown)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (2 / 3, "66.7%"),
        (1.0, "100%"),
        (0.99996, "99.9%"),  # never a rounded 100%
        (0.0004, "<0.1%"),  # nor a rounded 0%
        (0.0, "0%"),
        (None, "—"),
    ],
)
def test_rates_show_a_percent_with_one_decimal(ctx, value, shown):
    assert figures.rate_text(value) == shown


def _third_quiz():
    """A published quiz for student1's class: a true/false worth 10/3 points (3.33333…) and a
    single choice worth 10, by teacher1."""
    teacher = user("teacher1")
    klass = next(a.unit for a in teacher.roles if a.role == Role.TEACHER)
    bank = service.create_bank(actor=teacher, name="分数题库", unit=unit_by_code("S0101"))
    drafts = [
        QuestionDraft(type="true_false", stem="吸毒一次不会成瘾。", grading={"correct": False}),
        QuestionDraft(
            type="single_choice",
            stem="国际禁毒日是哪一天？",
            data={"options": [{"id": "a", "text": "6月26日"}, {"id": "b", "text": "12月1日"}]},
            grading={"fractions": {"a": 1.0}},
        ),
    ]
    tf, choice = (service.add_question(actor=teacher, bank=bank, draft=d) for d in drafts)
    now = datetime.now(UTC)
    return service.create_quiz(
        actor=teacher,
        unit=klass,
        title="分数显示测验",
        items=[{"question_id": tf.id, "mark": 10 / 3}, {"question_id": choice.id, "mark": 10}],
        audience=[(klass, Role.STUDENT)],
        opens_at=now - timedelta(hours=1),
        closes_at=now + timedelta(days=1),
        publish=True,
    )


def test_scores_are_rounded_on_results_records_and_exports(app, signed_in):
    with app.test_request_context():
        quiz = _third_quiz()
        student = user("student1")
        attempt = service.start_attempt(actor=student, quiz=quiz)
        for seq, slot in enumerate(attempt.slots, start=1):
            answer = False if slot.version.type == "true_false" else "b"  # right, then wrong
            service.save_answer(
                actor=student,
                attempt_id=attempt.id,
                question_id=slot.question_id,
                answer=answer,
                seq=seq,
            )
        service.submit_attempt(actor=student, attempt_id=attempt.id)
        assert attempt.score == 3.3333  # stored to four decimals, shown to one
        quiz_id, attempt_id, student_id = quiz.id, attempt.id, student.id
        db.session.commit()
    pupil = signed_in("student1")
    teacher = signed_in("teacher1")
    pages = {
        "result": pupil.get(f"/quizzes/attempts/{attempt_id}"),
        "quizzes": pupil.get("/quizzes"),
        "record": pupil.get(f"/quizzes/record/{student_id}"),
        "results": teacher.get(f"/quizzes/{quiz_id}/results"),
    }
    for name, page in pages.items():
        text = page.get_data(as_text=True)
        assert page.status_code == 200, name
        assert "3.3" in text and not re.search(r"3\.33|13\.33", text), name
    assert re.search(r"3\.3\s*/\s*13\.3", pages["results"].get_data(as_text=True))
    assert "得 3.3 分（满分 3.3 分）" in pages["result"].get_data(as_text=True)  # the review
    book = load_workbook(io.BytesIO(teacher.get(f"/quizzes/{quiz_id}/results.xlsx").data))
    header, first = [list(row) for row in book["成绩"].iter_rows(max_row=2, values_only=True)]
    taken = dict(zip(header, first, strict=True))
    assert (taken["得分"], taken["满分"], taken["百分比"]) == (3.3, 13.3, 25.0)


def _campaign_with_a_short_answer():
    """A county exam for grade 5: a true/false worth 10, and a short answer worth 1."""
    bank = db.session.scalar(select(QuestionBank).where(QuestionBank.name == BANK_NAME))
    questions = db.session.scalars(select(Question).where(Question.bank_id == bank.id)).all()
    by_type = {q.current_version.type: q for q in questions}
    now = datetime.now(UTC)
    return campaigns.create_campaign(
        actor=user("county_admin"),
        sender=unit_by_code("C01"),
        title="待批改测评",
        kind="exam",
        items=[
            {"question_id": by_type["true_false"].id, "mark": 10},
            {"question_id": by_type["short_answer"].id, "mark": 1},
        ],
        unit_targets=[],
        grade_levels=[5],
        roles=["student"],
        opens_at=now - timedelta(hours=1),
        closes_at=now + timedelta(days=1),
    )


def _metric(page: str, label: str) -> str:
    found = re.search(rf'metric-label">{label}</div><div class="metric-rate">([^<]*)</div>', page)
    assert found, label
    return found.group(1).strip()


def test_an_answer_waiting_for_its_grade_is_pending_on_both_pages(app, signed_in, client):
    with app.test_request_context():
        campaign = _campaign_with_a_short_answer()
        student = user("student1")
        attempt = service.start_attempt(actor=student, quiz=campaign.quiz)
        for seq, slot in enumerate(attempt.slots, start=1):
            right = slot.version.grading.get("correct")
            answer = "远离毒品" if slot.version.type == "short_answer" else right
            service.save_answer(
                actor=student,
                attempt_id=attempt.id,
                question_id=slot.question_id,
                answer=answer,
                seq=seq,
            )
        service.submit_attempt(actor=student, attempt_id=attempt.id)
        # 10 of 11 points already: above the pass mark, but the short answer is not graded
        assert attempt.needs_manual_grading and attempt.score == 10
        short = next(s for s in attempt.slots if s.version.type == "short_answer")
        campaign_id, quiz_id, attempt_id = campaign.id, campaign.quiz_id, attempt.id
        question_id = short.question_id
        db.session.commit()
    admin = signed_in("county_admin")

    def pages():
        return (
            admin.get(f"/quizzes/campaigns/{campaign_id}").get_data(as_text=True),
            admin.get(f"/quizzes/{quiz_id}/results").get_data(as_text=True),
        )

    campaign_page, results_page = pages()
    for page in (campaign_page, results_page):
        assert _metric(page, "及格率") == "待批改"
        assert "1 份答卷等待教师批改" in page
    assert _metric(campaign_page, "优秀率") == "待批改"
    body = client.get(
        f"/api/v1/campaigns/{campaign_id}/participation", headers=bearer("county_admin")
    ).get_json()
    assert body["unit"]["took"] == 1 and body["unit"]["pending"] == 1
    assert body["unit"]["pass_rate"] is None

    graded = client.put(
        f"/api/v1/attempts/{attempt_id}/grades/{question_id}",
        json={"points": 0.5},
        headers=bearer("teacher1"),  # the class's teacher grades it
    )
    assert graded.status_code == 200, graded.get_json()
    assert graded.get_json()["score"] == 10.5 and graded.get_json()["passed"] is True
    campaign_page, results_page = pages()
    for page in (campaign_page, results_page):
        assert _metric(page, "及格率") == "100%"
        assert "等待教师批改" not in page
    assert _metric(campaign_page, "优秀率") == "100%"  # 10.5 of 11 is above 85%


def test_rates_with_nobody_to_count_show_a_dash(app, signed_in):
    with app.test_request_context():
        campaign = _campaign_with_a_short_answer()
        school = unit_by_code("S0101")
        empty = db.session.scalar(
            select(Unit).where(Unit.parent_id == school.id, Unit.code == "G5")
        )
        db.session.commit()
        campaign_id, quiz_id, grade_id = campaign.id, campaign.quiz_id, empty.id
    admin = signed_in("county_admin")
    page = admin.get(f"/quizzes/campaigns/{campaign_id}?unit={grade_id}").get_data(as_text=True)
    assert _metric(page, "参与率") == "0%"  # 26 expected, none took it
    assert _metric(page, "及格率") == "—" and _metric(page, "优秀率") == "—"
    results = admin.get(f"/quizzes/{quiz_id}/results").get_data(as_text=True)
    assert _metric(results, "及格率") == "—" and _metric(results, "平均得分率") == "—"
