"""Campaigns (调度): a term exam or survey sent from a county or prefecture to grades, schools and
roles at once, as a published quiz of its own; who may send and follow one; the survey templates
(知晓率, 满意率) a campaign can start from.

Following a campaign (participation, rates, reminders) is ``participation``; a survey's answers
counted are ``survey_results``; what a finished term exam counts for is ``coverage``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import or_, select

from elearn.extensions import db
from elearn.models import GuardianLink, Role, RoleAssignment, Unit, User
from elearn.models.accounts import ADMIN_ROLES
from elearn.service import audit, notifications, org
from elearn.service.errors import ServiceError
from quizzes.access import may_edit_quiz
from quizzes.interchange import QuestionDraft
from quizzes.models import Campaign, QuestionBank, Quiz, QuizKind
from quizzes.qtypes import new_option_id
from quizzes.queries import audience_matches
from quizzes.service.bank import add_question, create_bank
from quizzes.service.quizzes import AUDIENCE_ROLES, create_quiz


def may_dispatch(actor: User, unit: Unit) -> bool:
    """County and prefecture admins send campaigns from their unit."""
    return unit.type in {"prefecture", "county"} and any(
        a.role in ADMIN_ROLES and unit.path.startswith(a.unit.path) for a in actor.roles
    )


def dispatch_units(actor: User) -> list[Unit]:
    """The prefectures and counties the actor may send campaigns from."""
    units = {a.unit for a in actor.roles if may_dispatch(actor, a.unit)}
    return sorted(units, key=lambda u: (len(u.path), u.name))


def _expand_targets(
    sender: Unit, units: list[Unit], grade_levels: list[int], roles: list[str]
) -> list[tuple[Unit, str]]:
    if not roles or any(role not in AUDIENCE_ROLES for role in roles):
        raise ServiceError(
            _("Choose who takes it: students, teachers or guardians."), field="roles"
        )
    targets = units or [sender]
    if any(not unit.path.startswith(sender.path) for unit in targets):
        raise ServiceError(_("The audience must lie within your units."), field="unit_ids")
    if grade_levels:
        grades = db.session.scalars(
            select(Unit).where(
                Unit.type == "grade",
                Unit.grade_level.in_(grade_levels),
                or_(*[Unit.path.startswith(t.path) for t in targets]),
            )
        ).all()
        if not grades:
            raise ServiceError(_("No such grade in the chosen units."), field="grade_levels")
        targets = list(grades)
    return [(unit, role) for unit in targets for role in roles]


def _check_campaign(
    actor: User, sender: Unit, *, kind: str, anonymous: bool, excellent_mark: float
) -> None:
    if not may_dispatch(actor, sender):
        raise ServiceError(_("Only county and prefecture admins send campaigns."), status=403)
    if kind not in {QuizKind.EXAM, QuizKind.SURVEY}:
        raise ServiceError(_("A campaign is a term exam or a survey."), field="kind")
    if anonymous and kind != QuizKind.SURVEY:
        raise ServiceError(_("Only surveys can be anonymous."), field="anonymous")
    if not 0 <= excellent_mark <= 100:
        raise ServiceError(
            _("The pass mark is a percentage from 0 to 100."), field="excellent_mark"
        )


def create_campaign(
    *,
    actor: User,
    sender: Unit,
    title: str,
    kind: str,
    items: list[dict[str, Any]],
    unit_targets: list[Unit],
    grade_levels: list[int],
    roles: list[str],
    opens_at: datetime | None,
    closes_at: datetime | None,
    time_limit_seconds: int | None = None,
    pass_mark: float = 60.0,
    excellent_mark: float = 85.0,
    anonymous: bool = False,
) -> Campaign:
    """Send a term exam or a survey to many units at once (published at once)."""
    _check_campaign(actor, sender, kind=kind, anonymous=anonymous, excellent_mark=excellent_mark)
    quiz = create_quiz(
        actor=actor,
        unit=sender,
        title=title,
        items=items,
        audience=_expand_targets(sender, unit_targets, grade_levels, roles),
        opens_at=opens_at,
        closes_at=closes_at,
        time_limit_seconds=time_limit_seconds,
        attempts_allowed=1,
        pass_mark=pass_mark,
        review_policy="after_close" if kind == QuizKind.EXAM else "never",
        publish=True,
    )
    quiz.kind = kind
    quiz.is_anonymous = anonymous
    term = org.current_term()
    campaign = Campaign(
        title=quiz.title,
        unit_id=sender.id,
        unit=sender,
        quiz_id=quiz.id,
        quiz=quiz,
        term_id=term.id if term else None,
        excellent_mark=excellent_mark,
        created_by_id=actor.id,
    )
    db.session.add(campaign)
    db.session.flush()
    audit.record(
        "quiz.campaign_sent",
        actor=actor,
        unit_id=sender.id,
        target_type="campaign",
        target_id=campaign.id,
    )
    announce(campaign, actor=actor)
    return campaign


def send_campaign(*, actor: User, sender: Unit, source: str, **settings: Any) -> Campaign:
    """The campaign page: questions from a survey template ("template:knowledge") or from a quiz
    the actor manages ("quiz:12"), then ``create_campaign`` with the page's settings."""
    kind, _sep, value = (source or "").partition(":")
    if kind == "template":
        items = template_items(actor=actor, sender=sender, template=value)
    elif kind == "quiz" and value.isdigit():
        quiz = db.session.get(Quiz, int(value))
        if quiz is None:
            raise ServiceError(_("Choose a quiz you manage."), field="source")
        items = items_from_quiz(actor=actor, quiz=quiz)
    else:
        raise ServiceError(_("Choose a quiz you manage."), field="source")
    return create_campaign(actor=actor, sender=sender, items=items, **settings)


def items_from_quiz(*, actor: User, quiz: Quiz) -> list[dict[str, Any]]:
    """A quiz's questions and random draws, as the items of a campaign's own copy."""
    if not may_edit_quiz(actor, quiz):
        raise ServiceError(_("Choose a quiz you manage."), field="source")
    return [
        {"question_id": item.question_id, "mark": item.mark}
        if item.question_id is not None
        else {"category_id": item.category_id, "count": item.draw_count, "mark": item.mark}
        for item in quiz.items
    ]


def _audience_ids(quiz: Quiz) -> Any:
    """A Select of the active accounts in the quiz's audience."""
    return (
        select(RoleAssignment.user_id)
        .join(Unit, Unit.id == RoleAssignment.unit_id)
        .join(User, User.id == RoleAssignment.user_id)
        .where(audience_matches(quiz), User.is_active_account.is_(True))
    )


def quiz_link(quiz: Quiz) -> str:
    """Where a notification about a campaign takes its reader: the quiz on their list."""
    return notifications.path_for("quizzes.mine") + f"#quiz-{quiz.id}"


def announce(campaign: Campaign, *, actor: User) -> int:
    """Tell the audience a campaign has arrived, and the guardians of its students that their
    child has one; returns how many were told. Sent as the campaign is created, once."""
    quiz = campaign.quiz
    exam = quiz.kind == QuizKind.EXAM
    closes = _("It closes on %(day)s.", day=format_date(quiz.closes_at)) if quiz.closes_at else ""
    audience = _audience_ids(quiz)
    sent = notifications.notify(
        audience,
        kind="quiz.campaign_sent",
        title=_("New term exam: %(title)s", title=campaign.title)
        if exam
        else _("New survey: %(title)s", title=campaign.title),
        body=" ".join(
            part for part in (_("Sent by %(unit)s.", unit=campaign.unit.name), closes) if part
        ),
        link=quiz_link(quiz),
    )
    home = notifications.guardians_of(audience).where(
        GuardianLink.guardian_id.not_in(audience)  # in the audience themselves: told above
    )
    return sent + notifications.notify(
        home,
        kind="quiz.campaign_sent_home",
        title=_("Your child has a term exam: %(title)s", title=campaign.title)
        if exam
        else _("Your child has a survey: %(title)s", title=campaign.title),
        body=" ".join(
            part
            for part in (
                _(
                    "%(unit)s sent it to your child's class; they take it at school or at home.",
                    unit=campaign.unit.name,
                ),
                closes,
            )
            if part
        ),
    )


def may_follow(actor: User, campaign: Campaign, unit: Unit) -> bool:
    """Admins of a unit (or above it), and teachers of it, follow the campaign there."""
    for a in actor.roles:
        if a.role in ADMIN_ROLES and unit.path.startswith(a.unit.path):
            return True
        if a.role == Role.TEACHER and unit.path.startswith(a.unit.path):
            return True
    return False


def campaign_rule(actor: User, action: str, campaign: Campaign) -> bool:
    """Admins above or below the sender, and teachers under it, see a campaign."""
    if action != "view":
        return False
    for a in actor.roles:
        staff = a.role in ADMIN_ROLES or a.role == Role.TEACHER
        related = a.unit.path.startswith(campaign.unit.path) or campaign.unit.path.startswith(
            a.unit.path
        )
        if staff and related:
            return True
    return False


def _opinion(stem: str) -> QuestionDraft:
    scale = ["非常满意", "满意", "一般", "不满意"]
    ids = [new_option_id() for _ in scale]
    return QuestionDraft(
        type="opinion",
        stem=stem,
        name=stem[:40],
        data={"options": [{"id": i, "text": t} for i, t in zip(ids, scale, strict=True)]},
        grading={"positive": ids[:2]},
        category="满意度调查",
    )


def _knowledge(stem: str, correct: bool) -> QuestionDraft:
    return QuestionDraft(
        type="true_false",
        stem=stem,
        name=stem[:40],
        grading={"correct": correct},
        category="知晓率调查",
    )


TEMPLATES: dict[str, Callable[[], list[QuestionDraft]]] = {
    # 知晓率: knowledge statements a pupil, parent or teacher should know
    "knowledge": lambda: [
        _knowledge("每年的6月26日是国际禁毒日。", True),
        _knowledge("吸毒一次不会成瘾。", False),
        _knowledge("“笑气”“聪明药”等新型毒品同样会损害身体健康。", True),
        _knowledge("未成年人吸毒不需要承担任何责任。", False),
        _knowledge("发现有人贩卖毒品，可以向公安机关举报。", True),
    ],
    # 满意率: how the school's drug-prevention education is received
    "satisfaction": lambda: [
        _opinion("你对学校开展的禁毒教育课程是否满意？"),
        _opinion("你对禁毒教育直播课、专题讲座是否满意？"),
        _opinion("你对学校与家庭共同开展的禁毒宣传活动是否满意？"),
        _opinion("你对禁毒教育平台的使用体验是否满意？"),
    ],
}


def template_items(*, actor: User, sender: Unit, template: str) -> list[dict[str, Any]]:
    """The template's questions, put into a bank at the sender's unit, as quiz items."""
    if template not in TEMPLATES:
        raise ServiceError(_("Unknown survey template."), field="template")
    name = _("Survey templates")
    bank = db.session.scalar(
        select(QuestionBank).where(QuestionBank.unit_id == sender.id, QuestionBank.name == name)
    ) or create_bank(actor=actor, name=name, unit=sender)
    return [
        {"question_id": add_question(actor=actor, bank=bank, draft=draft).id, "mark": 1}
        for draft in TEMPLATES[template]()
    ]
