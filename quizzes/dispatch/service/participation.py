"""Following a campaign: participation, pass and excellent rates under a unit and per child unit,
who has not taken it yet, and reminders to them (and their guardians).

Counted in the database, one row per unit the audience is in: a prefecture's exam has hundreds
of thousands of people, and none of them is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import Boolean, Float, cast, false, func, null, select

from elearn.extensions import db
from elearn.models import GuardianLink, RoleAssignment, Unit, User
from elearn.service import audit, notifications
from quizzes import figures
from quizzes.analysis import best_attempts
from quizzes.dispatch.service.campaigns import quiz_link
from quizzes.models import AttemptState, Campaign, Quiz, QuizAttempt, SurveyParticipation
from quizzes.queries import audience_matches, audience_people

NOT_TAKEN_LIMIT = 500


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
        link=quiz_link(quiz),
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
