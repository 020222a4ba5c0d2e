"""Demo content: a drug-prevention question bank and a quiz open to student1's class."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from elearn.extensions import db
from elearn.models import Role, RoleAssignment, Unit, User
from quizzes import service
from quizzes.dispatch.service import campaigns
from quizzes.interchange import QuestionDraft
from quizzes.models import Question, QuestionBank, Quiz
from quizzes.qtypes import PENALTY, new_option_id

BANK_NAME = "禁毒知识题库（示范）"
QUIZ_TITLE = "禁毒知识小测验"


def _choice(stem: str, options: list[str], correct: list[int], **tags: Any) -> QuestionDraft:
    ids = [new_option_id() for _ in options]
    share = round(1 / len(correct), 6)
    kind = "single_choice" if len(correct) == 1 else "multiple_choice"
    data: dict[str, Any] = {
        "options": [{"id": i, "text": t} for i, t in zip(ids, options, strict=True)]
    }
    if kind == "multiple_choice":  # each wrong choice costs: ticking every box earns nothing
        data["scoring"] = PENALTY
    return QuestionDraft(
        type=kind,
        stem=stem,
        name=stem[:40],
        data=data,
        grading={"fractions": {ids[i]: share for i in correct}},
        **tags,
    )


def _drafts() -> list[QuestionDraft]:
    common: dict[str, Any] = {"category": "毒品知识", "grade_band": "小学高年级"}
    return _basic_drafts(common) + _more_drafts(common) + _matching_and_ordering(common)


def _basic_drafts(common: dict[str, Any]) -> list[QuestionDraft]:
    return [
        _choice(
            "国际禁毒日是每年的哪一天？",
            ["6月26日", "12月1日", "3月15日", "10月1日"],
            [0],
            topic="禁毒常识",
            difficulty=1,
            **common,
        ),
        _choice(
            "下列哪些属于毒品？",
            ["海洛因", "冰毒", "摇头丸", "维生素C"],
            [0, 1, 2],
            topic="毒品识别",
            difficulty=2,
            **common,
        ),
        _choice(
            "陌生人递来一杯“饮料”，你应该怎么做？",
            ["接过来尝一口", "礼貌拒绝并离开", "带回家给父母", "转送给同学"],
            [1],
            topic="拒毒技能",
            difficulty=1,
            **common,
        ),
        _choice(
            "“笑气”（一氧化二氮）被滥用会：",
            ["损害神经系统", "让人更聪明", "没有任何危害", "治疗感冒"],
            [0],
            topic="新型毒品",
            difficulty=2,
            **common,
        ),
        QuestionDraft(
            type="true_false",
            stem="吸毒一次不会成瘾，可以尝试。",
            name="吸毒一次不会成瘾",
            grading={"correct": False},
            topic="禁毒常识",
            difficulty=1,
            **common,
        ),
    ]


def _more_drafts(common: dict[str, Any]) -> list[QuestionDraft]:
    return [
        QuestionDraft(
            type="true_false",
            stem="<p>新型毒品常常伪装成<strong>奶茶、糖果、邮票</strong>等样子。</p>",
            name="新型毒品伪装",
            grading={"correct": True},
            topic="新型毒品",
            difficulty=2,
            **common,
        ),
        QuestionDraft(
            type="fill_blank",
            stem="我国的禁毒工作实行“预防为主，综合治理，禁种、禁制、禁贩、禁______并举”的方针。",
            name="禁毒方针",
            data={"blanks": 1},
            grading={"blanks": [[{"text": "吸", "fraction": 1.0}]]},
            topic="禁毒法规",
            difficulty=3,
            **common,
        ),
    ]


def _matching_and_ordering(common: dict[str, Any]) -> list[QuestionDraft]:
    match_ids = [new_option_id() for _ in range(6)]
    order_ids = [new_option_id() for _ in range(4)]
    order_texts = ["察觉异常", "坚决拒绝", "迅速离开", "告诉老师或家长"]
    return [
        QuestionDraft(
            type="matching",
            stem="把毒品与它常见的伪装连起来：",
            name="毒品伪装连线",
            data={
                "prompts": [
                    {"id": match_ids[0], "text": "LSD"},
                    {"id": match_ids[1], "text": "甲卡西酮"},
                    {"id": match_ids[2], "text": "大麻"},
                ],
                "choices": [
                    {"id": match_ids[3], "text": "邮票"},
                    {"id": match_ids[4], "text": "“浴盐”"},
                    {"id": match_ids[5], "text": "“巧克力”/饼干"},
                ],
            },
            grading={
                "pairs": {
                    match_ids[0]: match_ids[3],
                    match_ids[1]: match_ids[4],
                    match_ids[2]: match_ids[5],
                }
            },
            topic="毒品识别",
            difficulty=3,
            **common,
        ),
        QuestionDraft(
            type="ordering",
            stem="有人引诱你吸毒时，正确的做法依次是：",
            name="拒毒步骤",
            data={
                "items": sorted(
                    [{"id": i, "text": t} for i, t in zip(order_ids, order_texts, strict=True)],
                    key=lambda o: o["id"],
                )
            },
            grading={"order": order_ids},
            topic="拒毒技能",
            difficulty=2,
            **common,
        ),
        QuestionDraft(
            type="short_answer",
            stem="请用一两句话写出你会怎样劝说朋友远离毒品。",
            name="劝说朋友",
            grading={"reference": "说明毒品危害，表明坚决拒绝的态度，建议求助老师家长。"},
            topic="拒毒技能",
            difficulty=3,
            **common,
        ),
    ]


def seed_demo_quiz() -> None:
    """The demo bank (prefecture-wide) and a published quiz for student1's class; idempotent."""
    prefecture = db.session.scalar(
        select(Unit).where(Unit.parent_id.is_(None), Unit.code == "DEMO")
    )
    admin = db.session.scalar(select(User).where(User.username == "pref_admin"))
    teacher = db.session.scalar(select(User).where(User.username == "teacher1"))
    if prefecture is None or admin is None or teacher is None:
        return
    bank = db.session.scalar(
        select(QuestionBank).where(
            QuestionBank.unit_id == prefecture.id, QuestionBank.name == BANK_NAME
        )
    )
    if bank is None:
        bank = service.create_bank(actor=admin, name=BANK_NAME, unit=prefecture)
        for draft in _drafts():
            service.add_question(actor=admin, bank=bank, draft=draft)
    klass = next(a.unit for a in teacher.roles if a.role == Role.TEACHER)
    if db.session.scalar(select(Quiz.id).where(Quiz.title == QUIZ_TITLE, Quiz.unit_id == klass.id)):
        return
    questions = db.session.scalars(
        select(Question).where(Question.bank_id == bank.id).order_by(Question.id)
    ).all()
    now = datetime.now(UTC)
    service.create_quiz(
        actor=teacher,
        unit=klass,
        title=QUIZ_TITLE,
        description="10 道题，限时 10 分钟，交卷后立即可以查看答案。",
        items=[{"question_id": q.id, "mark": 10} for q in questions],
        audience=[(klass, Role.STUDENT)],
        opens_at=now - timedelta(hours=1),
        closes_at=now + timedelta(days=180),
        time_limit_seconds=600,
        attempts_allowed=3,
        pass_mark=60,
        review_policy="immediately",
        publish=True,
    )


def scale_term_exam(root: Unit, *, title: str, items: list[dict[str, Any]]) -> Any:
    """A term exam sent by pref_admin to every student under ``root``, open for a week: the
    exam of the scale benches and tests (a scale seed's root has no admin of its own, so
    pref_admin is given the role there)."""
    admin = db.session.scalar(select(User).where(User.username == "pref_admin"))
    assert admin is not None, "the demo seed comes first"
    db.session.add(RoleAssignment(user_id=admin.id, unit_id=root.id, role=Role.PREFECTURE_ADMIN))
    db.session.flush()
    db.session.expire(admin, ["roles"])
    now = datetime.now(UTC)
    return campaigns.create_campaign(
        actor=admin,
        sender=root,
        title=title,
        kind="exam",
        items=items,
        unit_targets=[root],
        grade_levels=[],
        roles=[Role.STUDENT],
        opens_at=now - timedelta(hours=1),
        closes_at=now + timedelta(days=7),
    )
