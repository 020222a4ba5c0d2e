"""Campaigns (调度): a term exam or survey sent to grades, schools and roles; participation,
pass and excellent rates per unit, who has not taken it yet, reminders; anonymous surveys."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import Boolean, Float, Text, cast, false, func, null, or_, select

from elearn.extensions import db
from elearn.models import FactKind, GuardianLink, Role, RoleAssignment, Unit, User
from elearn.models.accounts import ADMIN_ROLES
from elearn.service import audit, coverage, notifications, org
from elearn.service.errors import ServiceError
from quizzes import figures
from quizzes.analysis import best_attempts
from quizzes.interchange import QuestionDraft
from quizzes.models import (
    AttemptSlot,
    AttemptState,
    Campaign,
    QuestionVersion,
    Quiz,
    QuizAttempt,
    QuizKind,
    SurveyParticipation,
    SurveyResponse,
)
from quizzes.qtypes import get_type, new_option_id
from quizzes.queries import audience_matches, audience_people
from quizzes.service.quizzes import AUDIENCE_ROLES, create_quiz

#: results of a group smaller than this are never shown for an anonymous survey
MIN_GROUP = 5
NOT_TAKEN_LIMIT = 500


def may_dispatch(actor: User, unit: Unit) -> bool:
    """County and prefecture admins send campaigns from their unit."""
    return unit.type in {"prefecture", "county"} and any(
        a.role in ADMIN_ROLES and unit.path.startswith(a.unit.path) for a in actor.roles
    )


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


def _audience_ids(quiz: Quiz) -> Any:
    """A Select of the active accounts in the quiz's audience."""
    return (
        select(RoleAssignment.user_id)
        .join(Unit, Unit.id == RoleAssignment.unit_id)
        .join(User, User.id == RoleAssignment.user_id)
        .where(_audience_matches(quiz), User.is_active_account.is_(True))
    )


def _quiz_link(quiz: Quiz) -> str:
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
        link=_quiz_link(quiz),
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


def _audience_matches(quiz: Quiz) -> Any:
    """A condition on RoleAssignment joined to Unit: the role is one the quiz's audience names."""
    return audience_matches(quiz)


def _people(quiz: Quiz, unit: Unit) -> Any:
    """The audience under ``unit`` as a subquery: (user_id, path of the unit they are in it by)."""
    return audience_people(quiz, [unit.path])


def _best_attempts(quiz: Quiz, people: Any) -> Any:
    """Each of ``people``'s best finished attempt, as the results page reads it (its ``user_id``,
    ``percent``, ``passed``, ``needs_manual_grading``); a subquery."""
    if quiz.is_anonymous:  # taking part is all there is
        return (
            select(
                SurveyParticipation.user_id.label("user_id"),
                cast(null(), Float).label("percent"),
                cast(null(), Boolean).label("passed"),
                false().label("needs_manual_grading"),
            )
            .where(
                SurveyParticipation.quiz_id == quiz.id,
                SurveyParticipation.user_id.in_(select(people.c.user_id)),
            )
            .subquery("best")
        )
    return best_attempts(quiz, people=people)


@dataclass
class UnitRates(figures.Rates):
    unit_id: int = 0
    name: str = ""

    def as_dict(self, anonymous: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "unit_id": self.unit_id,
            "name": self.name,
            "expected": self.expected,
            "took": self.took,
            "participation_rate": self.participation_rate,
        }
        if not anonymous:
            body["pending"] = self.pending
            body["pass_rate"] = self.pass_rate
            body["excellent_rate"] = self.excellent_rate
        return body


@dataclass
class Participation:
    total: UnitRates
    children: list[UnitRates] = field(default_factory=list)
    not_taken: list[dict[str, Any]] = field(default_factory=list)
    not_taken_count: int = 0


def participation(campaign: Campaign, unit: Unit) -> Participation:
    """Rates under ``unit`` and per child unit (county, school or class), and who has not taken it.

    Counted in the database, one row per unit the audience is in (a prefecture's exam has
    hundreds of thousands of people: none of them is loaded); rolled up here by path. The rates
    are the results page's (``quizzes.figures``): of each taker's best attempt, those waiting
    for a teacher are pending, neither passed nor failed.
    """
    quiz = campaign.quiz
    people = _people(quiz, unit)
    best = _best_attempts(quiz, people)
    per_unit = db.session.execute(
        select(people.c.path, func.count(), *figures.tally(best, campaign.excellent_mark))
        .select_from(people)
        .outerjoin(best, best.c.user_id == people.c.user_id)
        .group_by(people.c.path)
    ).all()
    depth = len(unit.ancestor_ids)
    child_of = {
        path: int(parts[depth])
        for path, *_counts in per_unit
        if len(parts := path.strip("/").split("/")) > depth
    }
    names: dict[int, str] = {
        unit_id: name
        for unit_id, name in db.session.execute(
            select(Unit.id, Unit.name).where(Unit.id.in_(set(child_of.values())))
        )
    }
    total = UnitRates(unit_id=unit.id, name=unit.name)
    children: dict[int, UnitRates] = {}
    for path, *counts in per_unit:
        groups = [total]
        if path in child_of:
            child = child_of[path]
            groups.append(
                children.setdefault(child, UnitRates(unit_id=child, name=names.get(child, "")))
            )
        for group in groups:
            group.add(*counts)
    return Participation(
        total=total,
        children=sorted(children.values(), key=lambda r: r.name),
        not_taken=_not_taken_list(quiz, unit, [(p, e, t) for p, e, t, *_ in per_unit]),
        not_taken_count=total.expected - total.took,
    )


def _not_taken_list(
    quiz: Quiz, unit: Unit, per_unit: list[tuple[str, int, int]]
) -> list[dict[str, Any]]:
    """The first of those who have not taken it, unit by unit (in id order), each unit's by name.

    The units are picked from the counts already made, so only their people are read (reading
    a prefecture's 700,000 again to keep 500 took seconds).
    """
    chosen: list[str] = []
    wanted = 0
    for path, expected, took in sorted(per_unit, key=lambda row: _unit_id(row[0])):
        if expected > took:
            chosen.append(path)
            wanted += expected - took
            if wanted >= NOT_TAKEN_LIMIT:
                break
    if not chosen:
        return []
    members = (
        select(RoleAssignment.user_id)
        .join(Unit, Unit.id == RoleAssignment.unit_id)
        .where(_audience_matches(quiz), Unit.path.in_(chosen))
    )
    people = (
        select(RoleAssignment.user_id.label("user_id"), func.min(Unit.path).label("path"))
        .join(Unit, Unit.id == RoleAssignment.unit_id)
        .where(
            _audience_matches(quiz),
            Unit.path.startswith(unit.path),
            RoleAssignment.user_id.in_(members),
        )
        .group_by(RoleAssignment.user_id)
        .subquery("people")
    )
    if quiz.is_anonymous:
        took_it = select(SurveyParticipation.user_id).where(
            SurveyParticipation.quiz_id == quiz.id,
            SurveyParticipation.user_id == people.c.user_id,
        )
    else:
        took_it = select(QuizAttempt.id).where(
            QuizAttempt.quiz_id == quiz.id,
            QuizAttempt.user_id == people.c.user_id,
            QuizAttempt.state == AttemptState.FINISHED,
        )
    rows = db.session.execute(
        select(people.c.user_id, User.display_name, Unit.id)
        .join(User, User.id == people.c.user_id)
        .join(Unit, Unit.path == people.c.path)
        .where(people.c.path.in_(chosen), ~took_it.exists())
        .order_by(Unit.id, people.c.user_id)
        .limit(NOT_TAKEN_LIMIT)
    ).all()
    return [
        {"user_id": user_id, "name": name, "unit_id": unit_id}
        for user_id, name, unit_id in sorted(rows, key=lambda r: (r[2], r[1], r[0]))
    ]


def _unit_id(path: str) -> int:
    return int(path.strip("/").rsplit("/", 1)[-1])


def _not_taken_ids(campaign: Campaign, unit: Unit) -> Any:
    """A Select of the ids of everyone in the audience under ``unit`` who has not taken it yet."""
    quiz = campaign.quiz
    if quiz.is_anonymous:
        took = select(SurveyParticipation.user_id).where(SurveyParticipation.quiz_id == quiz.id)
    else:
        took = select(QuizAttempt.user_id).where(
            QuizAttempt.quiz_id == quiz.id, QuizAttempt.state == AttemptState.FINISHED
        )
    return (
        select(RoleAssignment.user_id)
        .join(Unit, Unit.id == RoleAssignment.unit_id)
        .where(
            _audience_matches(quiz),
            Unit.path.startswith(unit.path),
            RoleAssignment.user_id.not_in(took),
        )
    )


def send_reminder(*, actor: User, campaign: Campaign, unit: Unit) -> int:
    """Notify everyone under ``unit`` who has not taken it yet (guardians too, when the campaign
    is sent to guardians), with a link to take it, and the guardians of the students among
    them; returns how many were notified.

    One ``INSERT … SELECT`` into the carrier's inbox, however large the unit; recorded in the
    audit log for the ledger (台账).
    """
    quiz = campaign.quiz
    closes = _("It closes on %(day)s.", day=format_date(quiz.closes_at)) if quiz.closes_at else ""
    waiting = _not_taken_ids(campaign, unit)
    sent = notifications.notify(
        waiting,
        kind="quiz.campaign_reminder",
        title=_("Reminder: please take “%(title)s”", title=campaign.title),
        body=" ".join(
            part
            for part in (
                _(
                    "%(unit)s reminds you that you have not taken it yet.",
                    unit=actor_unit_name(actor, unit),
                ),
                closes,
            )
            if part
        ),
        link=_quiz_link(quiz),
    )
    home = notifications.guardians_of(waiting).where(
        GuardianLink.guardian_id.not_in(waiting)  # reminded above for their own part
    )
    sent += notifications.notify(
        home,
        kind="quiz.campaign_reminder_home",
        title=_("Reminder: your child has not taken “%(title)s” yet", title=campaign.title),
        body=closes,
    )
    audit.record(
        "quiz.campaign_reminder",
        actor=actor,
        unit_id=unit.id,
        target_type="campaign",
        target_id=campaign.id,
        count=sent,
    )
    return sent


def actor_unit_name(actor: User, unit: Unit) -> str:
    """The unit a reminder comes from: the reminding admin's or teacher's own unit on the way."""
    own = [a.unit for a in actor.roles if unit.path.startswith(a.unit.path)]
    return max(own, key=lambda u: len(u.path)).name if own else unit.name


def record_exam_coverage(attempt: QuizAttempt) -> None:
    """A finished term exam is evidence that the student was assessed this term."""
    if attempt.quiz.kind != QuizKind.EXAM:
        return
    term = org.current_term()
    klass = next((a.unit for a in attempt.user.roles if a.role == Role.STUDENT), None)
    if term is None or klass is None:
        return
    coverage.record_fact(FactKind.STUDENT_ASSESSED, attempt.user_id, klass, term)


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
    people = _people(quiz, unit)
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
    from quizzes.models import QuestionBank
    from quizzes.service.bank import add_question, create_bank

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


def dispatch_units(actor: User) -> list[Unit]:
    """The prefectures and counties the actor may send campaigns from."""
    units = {a.unit for a in actor.roles if may_dispatch(actor, a.unit)}
    return sorted(units, key=lambda u: (len(u.path), u.name))


def items_from_quiz(*, actor: User, quiz: Quiz) -> list[dict[str, Any]]:
    """A quiz's questions and random draws, as the items of a campaign's own copy."""
    from quizzes.access import may_edit_quiz

    if not may_edit_quiz(actor, quiz):
        raise ServiceError(_("Choose a quiz you manage."), field="source")
    return [
        {"question_id": item.question_id, "mark": item.mark}
        if item.question_id is not None
        else {"category_id": item.category_id, "count": item.draw_count, "mark": item.mark}
        for item in quiz.items
    ]


def _labels(version: QuestionVersion) -> dict[str, str]:
    from quizzes import richtext

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
    from quizzes import richtext

    quiz = campaign.quiz
    tallies = _answer_tallies(quiz, unit)  # once: the unit's figures and each child's
    results = _rates(quiz, _within(tallies, unit))
    questions = []
    if not results["hidden"]:
        versions = {
            str(v.question_id): v
            for v in db.session.scalars(
                select(QuestionVersion)
                .where(QuestionVersion.question_id.in_([int(q) for q in results["questions"]]))
                .order_by(QuestionVersion.number)
            )
        }
        # in the quiz's order (fixed questions first as placed, drawn ones after)
        placed = [str(item.question_id) for item in quiz.items if item.question_id is not None]
        ordered = sorted(
            results["questions"].items(),
            key=lambda pair: placed.index(pair[0]) if pair[0] in placed else len(placed),
        )
        for question_id, counts in ordered:
            version = versions.get(question_id)
            if version is None:
                continue
            labels = _labels(version)
            correct: set[str] = set()
            question_type = get_type(version.type)
            if question_type.scored and version.type in {
                "true_false",
                "single_choice",
                "multiple_choice",
            }:
                right = question_type.correct_answer(version.data, version.grading)
                correct = {str(v) for v in (right if isinstance(right, list) else [right])}
            total = sum(counts.values()) or 1
            order = list(labels) + sorted(set(counts) - set(labels))
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
    children = []
    for child in db.session.scalars(
        select(Unit).where(Unit.parent_id == unit.id).order_by(Unit.name)
    ):
        part = _rates(quiz, _within(tallies, child))
        if part["responses"]:
            children.append({"unit": child, **part})
    pending = 0
    if quiz.is_anonymous:
        from quizzes.service.surveys import pending_count

        pending = pending_count(quiz, unit)
    return {
        **results,
        "question_rows": questions,
        "children": children,
        "min_group": MIN_GROUP,
        # anonymous answers wait outside the database until their school's batch of five fills
        "pending": pending,
    }


def send_campaign(*, actor: User, sender: Unit, source: str, **settings: Any) -> Campaign:
    """The campaign page: questions from a survey template ("template:knowledge") or from a quiz
    the actor manages ("quiz:12"), then ``create_campaign`` with the page's settings."""
    from quizzes.models import Quiz as QuizModel

    kind, _sep, value = (source or "").partition(":")
    if kind == "template":
        items = template_items(actor=actor, sender=sender, template=value)
    elif kind == "quiz" and value.isdigit():
        quiz = db.session.get(QuizModel, int(value))
        if quiz is None:
            raise ServiceError(_("Choose a quiz you manage."), field="source")
        items = items_from_quiz(actor=actor, quiz=quiz)
    else:
        raise ServiceError(_("Choose a quiz you manage."), field="source")
    return create_campaign(actor=actor, sender=sender, items=items, **settings)
