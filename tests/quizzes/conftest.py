"""Quizzes' fixtures: a bank whose answers carry a marker, quizzes for student1's class."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from quizzes.interchange import QuestionDraft

#: every piece of grading data in the test bank contains this; no payload may, before review
SECRET = "SECRET9"


def secret_drafts() -> list[QuestionDraft]:
    """One question of each type; the answers and feedback carry SECRET."""
    return [
        QuestionDraft(
            type="single_choice",
            stem="国际禁毒日是哪一天？",
            name="禁毒日",
            data={
                "options": [
                    {"id": "opt-right", "text": "6月26日"},
                    {"id": "opt-wrong", "text": "12月1日"},
                ]
            },
            grading={"fractions": {"opt-right": 1.0}, "feedback": {"opt-right": f"{SECRET} 正确"}},
            general_feedback=f"{SECRET} 解析",
            topic="禁毒常识",
            difficulty=1,
        ),
        QuestionDraft(
            type="multiple_choice",
            stem="哪些是毒品？",
            name="毒品",
            data={
                "options": [
                    {"id": "m1", "text": "海洛因"},
                    {"id": "m2", "text": "冰毒"},
                    {"id": "m3", "text": "维C"},
                ]
            },
            grading={"fractions": {"m1": 0.5, "m2": 0.5, "m3": -1.0}},
            topic="毒品识别",
            difficulty=2,
        ),
        QuestionDraft(
            type="true_false",
            stem="吸毒一次不会成瘾。",
            name="判断",
            grading={"correct": False, "note": SECRET},
        ),
        QuestionDraft(
            type="fill_blank",
            stem="禁种、禁制、禁贩、禁____并举。",
            name="填空",
            data={"blanks": 1},
            grading={"blanks": [[{"text": f"{SECRET}吸", "fraction": 1.0}]]},
        ),
        QuestionDraft(
            type="matching",
            stem="连线",
            name="连线",
            data={
                "prompts": [{"id": "p1", "text": "LSD"}, {"id": "p2", "text": "大麻"}],
                "choices": [{"id": "c1", "text": "邮票"}, {"id": "c2", "text": "饼干"}],
            },
            grading={"pairs": {"p1": "c1", "p2": "c2"}, "note": SECRET},
        ),
        QuestionDraft(
            type="ordering",
            stem="排序",
            name="排序",
            data={
                "items": [
                    {"id": "o1", "text": "察觉"},
                    {"id": "o2", "text": "拒绝"},
                    {"id": "o3", "text": "离开"},
                ]
            },
            grading={"order": ["o1", "o2", "o3"], "note": SECRET},
        ),
        QuestionDraft(
            type="short_answer",
            stem="怎样劝朋友？",
            name="简答",
            grading={"reference": f"{SECRET} 参考"},
        ),
    ]


@pytest.fixture
def quiz_factory(ctx):
    """``quiz_factory(time_limit_seconds=600, …)`` → a published quiz for student1's class."""
    from elearn.models import Role
    from quizzes import service
    from tests.conftest import unit_by_code, user

    def make(*, types: set[str] | None = None, **settings):
        teacher = user("teacher1")
        klass = next(a.unit for a in teacher.roles if a.role == Role.TEACHER)
        bank = service.create_bank(actor=teacher, name="测试题库", unit=unit_by_code("S0101"))
        questions = [
            service.add_question(actor=teacher, bank=bank, draft=d)
            for d in secret_drafts()
            if types is None or d.type in types
        ]
        now = datetime.now(UTC)
        options = {
            "opens_at": now - timedelta(hours=1),
            "closes_at": now + timedelta(days=1),
            "time_limit_seconds": 600,
            "attempts_allowed": 2,
            "review_policy": "immediately",
            "publish": True,
            **settings,
        }
        return service.create_quiz(
            actor=teacher,
            unit=klass,
            title="测试测验",
            items=[{"question_id": q.id, "mark": 2} for q in questions],
            audience=[(klass, Role.STUDENT)],
            **options,
        )

    return make


def bearer(username: str) -> dict[str, str]:
    from elearn.extensions import db
    from elearn.service import accounts
    from tests.conftest import user

    token, _expires = accounts.issue_api_token(user=user(username), hours=1)
    # committed (into the test's outer transaction): each request ends its own session
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def committed(app, ctx):
    """Real, committed rows, for what a test's rolled-back transaction cannot show (parallel
    requests, the autosave lane's own connection): the session works on the database itself
    for the test; the quizzes whose ids the test appends are deleted afterwards."""
    from sqlalchemy.orm import scoped_session, sessionmaker

    from elearn.extensions import db

    test_session = db.session
    db.session = scoped_session(sessionmaker(bind=db.engine))
    quiz_ids: list[int] = []
    try:
        yield quiz_ids
    finally:
        db.session.remove()
        for quiz_id in quiz_ids:
            _delete_quiz(app, quiz_id)
        db.session.remove()
        db.session = test_session


def _delete_quiz(app, quiz_id):
    from sqlalchemy import delete, select

    from elearn.extensions import db
    from elearn.models import ApiToken, AuditEvent
    from quizzes.models import QuestionBank, Quiz, QuizAttempt
    from tests.conftest import user

    with app.app_context():
        quiz = db.session.get(Quiz, quiz_id)
        bank_ids = {item.question.bank_id for item in quiz.items if item.question}
        attempt_ids = db.session.scalars(
            select(QuizAttempt.id).where(QuizAttempt.quiz_id == quiz_id)
        ).all()
        db.session.execute(
            delete(AuditEvent).where(
                AuditEvent.target_type == "attempt",
                AuditEvent.target_id.in_([str(a) for a in attempt_ids]),
            )
        )
        db.session.execute(
            delete(AuditEvent).where(
                AuditEvent.target_type == "quiz", AuditEvent.target_id == str(quiz_id)
            )
        )
        db.session.execute(
            delete(AuditEvent).where(
                AuditEvent.target_type == "bank",
                AuditEvent.target_id.in_([str(b) for b in bank_ids]),
            )
        )
        db.session.delete(quiz)
        db.session.flush()
        for bank_id in bank_ids:
            db.session.delete(db.session.get(QuestionBank, bank_id))
        db.session.execute(delete(ApiToken).where(ApiToken.user_id == user("student1").id))
        db.session.commit()


def route_only(app):
    """The Flask app without the exam lanes the suite runs in front of it (tests/conftest.py):
    what a lane under test passes on goes to the route alone, and "the route" means it."""
    from quizzes.lanes.base import Lane

    layer = app.wsgi_app
    while isinstance(layer, Lane):
        layer = layer.following
    return layer
