"""The campaign creation page, the survey results page and the question edit page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from elearn.extensions import db
from quizzes import service
from quizzes.dispatch.service import campaigns
from quizzes.models import Campaign, Question, QuestionVersion, Quiz
from quizzes.qtypes import get_type
from quizzes.seed import QUIZ_TITLE
from tests.conftest import post_form, unit_by_code, user
from tests.quizzes.test_campaigns import send, take_survey


def _window() -> dict[str, str]:
    now = datetime.now(UTC) + timedelta(hours=8)  # the form takes Asia/Shanghai local time
    return {
        "opens_at": now.strftime("%Y-%m-%dT%H:%M"),
        "closes_at": (now + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"),
    }


def test_county_admin_sends_an_anonymous_survey_from_a_template(app, signed_in):
    county = signed_in("county_admin")
    page = county.get("/quizzes/campaigns/new")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "示范市第一小学" in html and 'name="grade_levels"' in html and 'value="guardian"' in html
    with app.app_context():
        county_id = unit_by_code("C01").id
    sent = post_form(
        county,
        "/quizzes/campaigns/new",
        {
            "title": "秋季禁毒知晓率调查",
            "unit_id": county_id,
            "kind": "survey",
            "source": "template:knowledge",
            "anonymous": "y",
            "roles": ["student", "guardian"],
            "grade_levels": ["5"],
            "pass_mark": "60",
            "excellent_mark": "85",
            **_window(),
        },
        page="/quizzes/campaigns/new",
    )
    assert sent.status_code == 302, sent.get_data(as_text=True)[:2000]
    with app.app_context():
        campaign = db.session.scalar(select(Campaign).where(Campaign.title == "秋季禁毒知晓率调查"))
        quiz = campaign.quiz
        assert quiz.kind == "survey" and quiz.is_anonymous and len(quiz.items) == 5
        assert {(a.unit.code, a.role) for a in quiz.audiences} == {
            ("G5", "student"),
            ("G5", "guardian"),
        }
        assert campaign.unit_id == county_id
        # the window typed in local time is stored in UTC
        assert abs((quiz.closes_at - quiz.opens_at) - timedelta(days=7)) < timedelta(minutes=1)


def test_a_campaign_copies_a_quiz_the_admin_manages(app, signed_in):
    county = signed_in("county_admin")
    with app.app_context():
        quiz = db.session.scalar(select(Quiz).where(Quiz.title == QUIZ_TITLE))
        quiz_id, items = quiz.id, len(quiz.items)
        county_id, school_id = unit_by_code("C01").id, unit_by_code("S0101").id
    sent = post_form(
        county,
        "/quizzes/campaigns/new",
        {
            "title": "期末禁毒知识考试",
            "unit_id": county_id,
            "kind": "exam",
            "source": f"quiz:{quiz_id}",
            "roles": ["student"],
            "unit_ids": [str(school_id)],
            "pass_mark": "60",
            "excellent_mark": "90",
            **_window(),
        },
        page="/quizzes/campaigns/new",
    )
    assert sent.status_code == 302
    with app.app_context():
        campaign = db.session.scalar(select(Campaign).where(Campaign.title == "期末禁毒知识考试"))
        assert campaign.quiz.kind == "exam" and len(campaign.quiz.items) == items
        assert campaign.quiz_id != quiz_id and campaign.excellent_mark == 90
        assert [a.unit_id for a in campaign.quiz.audiences] == [school_id]


def test_campaign_page_refuses_whoever_cannot_dispatch(app, signed_in):
    assert signed_in("school_admin").get("/quizzes/campaigns/new").status_code == 403
    assert signed_in("teacher1").get("/quizzes/campaigns/new").status_code == 403
    county = signed_in("county_admin")
    with app.app_context():
        other = unit_by_code("S0201").id  # a school of another county
        county_id = unit_by_code("C01").id
    refused = post_form(
        county,
        "/quizzes/campaigns/new",
        {
            "title": "越界",
            "unit_id": county_id,
            "kind": "exam",
            "source": "template:knowledge",
            "roles": ["student"],
            "unit_ids": [str(other)],
            **_window(),
        },
        page="/quizzes/campaigns/new",
    )
    assert refused.status_code in (400, 404)
    with app.app_context():
        assert db.session.scalar(select(Campaign).where(Campaign.title == "越界")) is None


def test_survey_results_page_hides_small_groups_and_shows_rates(app, signed_in):
    names = ["student1", "s_S0101_5_01", "s_S0101_5_02", "s_S0101_5_03", "s_S0101_5_04"]
    with app.test_request_context():
        county = unit_by_code("C01")
        items = campaigns.template_items(
            actor=user("county_admin"), sender=county, template="knowledge"
        )
        campaign = send(kind="survey", items=items, anonymous=True, title="知晓率调查")
        for name in names[:4]:
            take_survey(user(name), campaign, right=True)
        campaign_id = campaign.id
        db.session.commit()
    admin = signed_in("county_admin")
    page = admin.get(f"/quizzes/campaigns/{campaign_id}/survey").get_data(as_text=True)
    assert "已有 4 份回答" in page and "满 5 份" in page and "知晓率</div>" not in page
    with app.test_request_context():
        take_survey(user(names[4]), db.session.get(Campaign, campaign_id), right=False)
        db.session.commit()
    page = admin.get(f"/quizzes/campaigns/{campaign_id}/survey").get_data(as_text=True)
    assert "80.0%" in page  # four of five knew every statement
    assert "每年的6月26日是国际禁毒日。" in page and "示范市第一小学" in page
    assert signed_in("student1").get(f"/quizzes/campaigns/{campaign_id}/survey").status_code == 404


def _single_choice_quiz(quiz_factory):
    quiz = quiz_factory(types={"single_choice"})
    question = quiz.items[0].question
    return quiz, question


def test_editing_a_question_makes_a_version_old_attempts_keep_theirs(app, signed_in, quiz_factory):
    with app.test_request_context():
        quiz, question = _single_choice_quiz(quiz_factory)
        student = user("student1")
        attempt = service.start_attempt(actor=student, quiz=quiz)
        # student1 answers "6月26日", right in version 1
        service.save_answer(
            actor=student,
            attempt_id=attempt.id,
            question_id=question.id,
            answer="opt-right",
            seq=1,
        )
        question_id, attempt_id = question.id, attempt.id
        db.session.commit()
    teacher = signed_in("teacher1")
    page = teacher.get(f"/quizzes/questions/{question_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "国际禁毒日是哪一天？" in html and 'value="A"' in html  # the answer, as a letter
    saved = post_form(
        teacher,
        f"/quizzes/questions/{question_id}",
        {
            "stem": "国际禁毒日是哪一天？（修订）",
            "option_a": "6月26日",
            "option_b": "12月1日",
            "answer": "B",  # a deliberate change: the right option moves
            "mark": "1",
            "difficulty": "2",
        },
        page=f"/quizzes/questions/{question_id}",
    )
    assert saved.status_code == 302, saved.get_data(as_text=True)[:2000]
    with app.test_request_context():
        versions = db.session.scalars(
            select(QuestionVersion)
            .where(QuestionVersion.question_id == question_id)
            .order_by(QuestionVersion.number)
        ).all()
        assert [v.number for v in versions] == [1, 2]
        assert db.session.get(Question, question_id).current_version_id == versions[1].id
        result = service.submit_attempt(actor=user("student1"), attempt_id=attempt_id)
        assert result.attempt.score == result.attempt.max_score  # graded against version 1
        db.session.commit()
    history = teacher.get(f"/quizzes/questions/{question_id}?version=1").get_data(as_text=True)
    assert "国际禁毒日是哪一天？" in history and "6月26日" in history
    assert "（修订）" in teacher.get(f"/quizzes/questions/{question_id}").get_data(as_text=True)


def test_only_bank_authors_edit_and_a_bad_answer_is_refused(app, signed_in, quiz_factory):
    with app.test_request_context():
        _quiz, question = _single_choice_quiz(quiz_factory)
        question_id = question.id
        db.session.commit()
    teacher = signed_in("teacher1")
    refused = post_form(
        teacher,
        f"/quizzes/questions/{question_id}",
        {"stem": "x", "option_a": "甲", "answer": "C", "mark": "1"},
        page=f"/quizzes/questions/{question_id}",
    )
    assert refused.status_code == 422
    with app.test_request_context():
        assert (
            db.session.scalar(
                select(QuestionVersion.number)
                .where(QuestionVersion.question_id == question_id)
                .order_by(QuestionVersion.number.desc())
            )
            == 1
        )


def test_a_student_cannot_see_a_question(app, signed_in, quiz_factory):
    with app.test_request_context():
        _quiz, question = _single_choice_quiz(quiz_factory)
        question_id = question.id
        db.session.commit()
    assert signed_in("student1").get(f"/quizzes/questions/{question_id}").status_code == 404


def _checked(html: str) -> str:
    """The value of the scoring choice the page has checked."""
    (found,) = [
        re.search(r'value="([^"]+)"', tag)[1]
        for tag in re.findall(r"<input[^>]*>", html)
        if 'name="scoring"' in tag and "checked" in tag
    ]
    return found


def test_the_question_editor_shows_and_changes_how_a_multiple_answer_question_is_scored(
    app, signed_in
):
    """The demo bank's "下列哪些属于毒品？": wrong choices cost marks (checked), or all or
    nothing; the choice is saved as a new version and shown in the history."""
    from quizzes.models import QuestionBank
    from quizzes.seed import BANK_NAME

    question_id = db.session.scalar(
        select(Question.id)
        .join(QuestionBank, QuestionBank.id == Question.bank_id)
        .join(QuestionVersion, QuestionVersion.id == Question.current_version_id)
        .where(QuestionBank.name == BANK_NAME, QuestionVersion.stem == "下列哪些属于毒品？")
    )
    author = signed_in("pref_admin")
    page = f"/quizzes/questions/{question_id}"
    html = author.get(page).get_data(as_text=True)
    assert "计分方式" in html and "全部选上不得分" in html and "全对才得分：" in html
    assert _checked(html) == "错选扣分"
    fields = {
        "stem": "下列哪些属于毒品？",
        "option_a": "海洛因",
        "option_b": "冰毒",
        "option_c": "摇头丸",
        "option_d": "维生素C",
        "answer": "ABC",
        "mark": "1",
        "scoring": "全对才得分",
    }
    saved = post_form(author, page, fields, page=page)
    assert saved.status_code == 302, saved.get_data(as_text=True)[:2000]
    version = db.session.get(Question, question_id).current_version
    assert version.number == 2 and version.data["scoring"] == "all_or_nothing"
    options = {o["text"]: o["id"] for o in version.data["options"]}
    grade = get_type("multiple_choice").grade
    assert grade(version.data, version.grading, [options["海洛因"], options["冰毒"]]) == 0.0
    assert _checked(author.get(page).get_data(as_text=True)) == "全对才得分"
    first = author.get(f"{page}?version=1").get_data(as_text=True)
    assert "计分方式" in first and "错选扣分" in first
    refused = post_form(author, page, {**fields, "scoring": "随便"}, page=page)
    assert refused.status_code == 422 and "计分方式请写" in refused.get_data(as_text=True)
