"""The coverage dashboards (四个全覆盖) of prefecture, county and school admins: a unit's
coverages beside its child units' (the most behind first, urban and rural apart), the trend by
term and by week within a term, a reminder to the admins of the units behind, and at a class,
for its school's admins and its teachers, each pupil's status.

Everything is read from the rollups (``coverage_rollups``, ``coverage_weekly``) and the
population counts, never by scanning the facts: a prefecture's page costs what a school's does.
The one exception is a class's pupil list, which asks the facts of its own 30 to 60 pupils.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from elearn.extensions import db
from elearn.models import (
    CoverageFact,
    CoverageWeekly,
    FactKind,
    GuardianLink,
    Role,
    RoleAssignment,
    Term,
    Unit,
    UnitPopulation,
    User,
)
from elearn.models.accounts import ADMIN_ROLES
from elearn.service import audit, coverage, notifications
from elearn.service.coverage import Metric

#: the coverages a dashboard shows, in order (``coverage.coverage`` computes them)
METRICS = ("schools", "teachers", "students", "parents", "parents_reached")
#: the fact kind behind each metric (the weekly trend counts them)
KIND_OF = {
    "schools": FactKind.SCHOOL_CONNECTED,
    "teachers": FactKind.TEACHER_TRAINED,
    "students": FactKind.STUDENT_COURSE,
    "parents": FactKind.PARENT_ACTIVATED,
    "parents_reached": FactKind.PARENT_REACHED,
}


@dataclass
class ChildRow:
    """One child unit on its parent's dashboard."""

    unit: Unit
    metrics: dict[str, Metric]
    #: the metrics below their target (and counted: a 0/0 is not behind)
    behind: list[str] = field(default_factory=list)

    @property
    def lowest_rate(self) -> float:
        rates = [m.rate for m in self.metrics.values() if m.denominator]
        return min(rates) if rates else 1.0


def home_unit(user: User) -> Unit | None:
    """Where a user's dashboard opens: their highest administered unit, or a teacher's class
    (None: no dashboard for them)."""
    admin = [a.unit for a in user.roles if a.role in ADMIN_ROLES]
    if admin:
        return min(admin, key=lambda unit: (len(unit.path), unit.name))
    classes = [a.unit for a in user.roles if a.role == Role.TEACHER and a.unit.type == "class"]
    return min(classes, key=lambda unit: unit.name) if classes else None


def _behind(metrics: dict[str, Metric]) -> list[str]:
    return [key for key, m in metrics.items() if m.denominator and not m.meets_target]


def children(unit: Unit, term: Term) -> list[ChildRow]:
    """The child units with their coverages, the most behind first (most metrics below target,
    then the lowest rate), then by name."""
    units = list(
        db.session.scalars(select(Unit).where(Unit.parent_id == unit.id).order_by(Unit.name))
    )
    per_unit = coverage.coverage_many(units, term) if units else {}
    rows = []
    for child in units:
        metrics = coverage.shown_metrics(child, per_unit[child.id])
        rows.append(ChildRow(child, metrics, _behind(metrics)))
    return sorted(rows, key=lambda row: (-len(row.behind), row.lowest_rate, row.unit.name))


@dataclass(frozen=True)
class Split:
    """Urban and rural apart, where the rollups keep them (schools and parents)."""

    urban: dict[str, Metric]
    rural: dict[str, Metric]


def urban_rural(unit: Unit, term: Term) -> Split:
    """The schools and parents coverages of the unit's urban and rural schools."""
    population = db.session.get(UnitPopulation, unit.id)
    counts = coverage.rollup_counts(unit, term)
    schools = population.schools if population else 0
    rural_schools = population.rural_schools if population else 0
    guardians = population.guardians if population else 0
    rural_guardians = population.rural_guardians if population else 0

    def pair(kind: FactKind, total: int, rural_total: int, rural_target: float) -> tuple:
        rural = counts.get(f"{kind.value}:rural", 0)
        return (
            Metric(counts.get(kind.value, 0) - rural, total - rural_total, 1.0),
            Metric(rural, rural_total, rural_target),
        )

    school_urban, school_rural = pair(FactKind.SCHOOL_CONNECTED, schools, rural_schools, 1.0)
    parent_urban, parent_rural = pair(
        FactKind.PARENT_ACTIVATED, guardians, rural_guardians, coverage.RURAL_PARENT_TARGET
    )
    return Split(
        urban={"schools": school_urban, "parents": parent_urban},
        rural={"schools": school_rural, "parents": parent_rural},
    )


def trend_by_term(unit: Unit, *, upto: Term | None = None) -> list[tuple[Term, dict[str, Metric]]]:
    """The unit's coverages in every term that has started (up to ``upto``), oldest first."""
    query = select(Term).order_by(Term.starts_on)
    if upto is not None:
        query = query.where(Term.starts_on <= upto.starts_on)
    terms = list(db.session.scalars(query))
    return [(term, coverage.coverage(unit, term)) for term in terms]


def trend_by_week(unit: Unit, term: Term) -> list[tuple[date, dict[str, Metric]]]:
    """Week by week within a term, each coverage as it stood at the end of the week (the
    week's facts added to those before; a cumulative kind starts from earlier terms)."""
    now = coverage.coverage(unit, term)
    rows = db.session.execute(
        select(CoverageWeekly.week, CoverageWeekly.kind, CoverageWeekly.count).where(
            CoverageWeekly.unit_id == unit.id,
            CoverageWeekly.term_id == term.id,
            CoverageWeekly.kind.in_([k.value for k in KIND_OF.values()]),
        )
    ).all()
    by_week: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for week, kind, count in rows:
        by_week[week][kind] += count
    # the count before the term's first week: what the term's total leaves unexplained by its
    # weeks (a cumulative kind carried from earlier terms, or facts from before weekly rollups)
    this_term = {key: sum(w[kind.value] for w in by_week.values()) for key, kind in KIND_OF.items()}
    running = {key: now[key].numerator - this_term[key] for key in KIND_OF}
    series = []
    for week in sorted(by_week):
        for key, kind in KIND_OF.items():
            running[key] += by_week[week][kind.value]
        series.append(
            (
                week,
                {
                    key: Metric(running[key], now[key].denominator, now[key].target)
                    for key in KIND_OF
                },
            )
        )
    return series


# --- reminders -------------------------------------------------------------------------------------


def _people_of(unit: Unit) -> list[int]:
    """Who answers for a unit: its admins, or a class's teachers."""
    roles = [Role.TEACHER] if unit.type == "class" else list(ADMIN_ROLES)
    return list(
        db.session.scalars(
            select(RoleAssignment.user_id)
            .where(RoleAssignment.unit_id == unit.id, RoleAssignment.role.in_(roles))
            .distinct()
        )
    )


def remind_behind(*, actor: User, unit: Unit, term: Term, ip: str | None = None) -> int:
    """Remind the admins (a class's teachers) of each child unit below target, with the figures
    that are behind; audited. Returns how many people were told."""
    labels = metric_labels()
    told = 0
    units = 0
    for row in children(unit, term):
        if not row.behind:
            continue
        people = _people_of(row.unit)
        if not people:
            continue
        figures = "、".join(
            f"{labels[key]} {row.metrics[key].rate * 100:.0f}%" for key in row.behind
        )
        told += notifications.notify(
            people,
            kind="coverage.reminder",
            title=_("%(unit)s is behind its coverage targets", unit=row.unit.name),
            body=_(
                "%(term)s: %(figures)s. Reminded by %(name)s.",
                term=term.name,
                figures=figures,
                name=actor.display_name,
            ),
            link=f"/dashboard/{row.unit.id}",
        )
        units += 1
    audit.record(
        "coverage.reminded",
        actor=actor,
        unit_id=unit.id,
        target_type="unit",
        target_id=unit.id,
        ip=ip,
        term_id=term.id,
        units=units,
        people=told,
    )
    return told


def metric_labels() -> dict[str, str]:
    return {
        "schools": _("Schools teaching the course"),
        "teachers": _("Teachers trained"),
        "students": _("Students taking the course"),
        "parents": _("Parents activated"),
        "parents_reached": _("Parents reached by announcements"),
    }


# --- a class's pupils ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PupilRow:
    student: User
    took_course: bool
    assessed: bool
    #: guardians linked, activated (signed in), and in parents' learning this term
    guardians: int
    guardians_activated: int
    guardians_learning: int


def may_see_pupils(actor: User, klass: Unit) -> bool:
    """Names are for the class's teachers and its school's admins; a county or prefecture admin
    sees the class's totals only (privacy by role)."""
    if klass.type != "class":
        return False
    for assignment in actor.roles:
        if assignment.role == Role.TEACHER and assignment.unit_id == klass.id:
            return True
        if assignment.role == Role.SCHOOL_ADMIN and assignment.unit_id == klass.school_id:
            return True
    return False


def pupils(klass: Unit, term: Term) -> list[PupilRow]:
    """Each pupil of the class with their status this term (call after ``may_see_pupils``)."""
    students = list(
        db.session.scalars(
            select(User)
            .join(RoleAssignment, RoleAssignment.user_id == User.id)
            .where(RoleAssignment.unit_id == klass.id, RoleAssignment.role == Role.STUDENT)
            .order_by(User.display_name, User.id)
        )
    )
    ids = [s.id for s in students]
    links = db.session.execute(
        select(GuardianLink.student_id, GuardianLink.guardian_id).where(
            GuardianLink.student_id.in_(ids)
        )
    ).all()
    guardian_ids = {g for _s, g in links}
    facts = db.session.execute(
        select(CoverageFact.kind, CoverageFact.subject_id).where(
            CoverageFact.subject_id.in_(ids + list(guardian_ids)),
            CoverageFact.kind.in_(
                [
                    FactKind.STUDENT_COURSE.value,
                    FactKind.STUDENT_ASSESSED.value,
                    FactKind.PARENT_ACTIVATED.value,
                    FactKind.PARENT_LEARNING.value,
                ]
            ),
            # activation stays true from earlier terms; the rest are this term's
            (CoverageFact.term_id == term.id)
            | (CoverageFact.kind == FactKind.PARENT_ACTIVATED.value),
        )
    ).all()
    seen: dict[str, set[int]] = defaultdict(set)
    for kind, subject in facts:
        seen[kind].add(subject)
    guardians_of: dict[int, list[int]] = defaultdict(list)
    for student_id, guardian_id in links:
        guardians_of[student_id].append(guardian_id)
    return [
        PupilRow(
            student=s,
            took_course=s.id in seen[FactKind.STUDENT_COURSE.value],
            assessed=s.id in seen[FactKind.STUDENT_ASSESSED.value],
            guardians=len(guardians_of[s.id]),
            guardians_activated=sum(
                1 for g in guardians_of[s.id] if g in seen[FactKind.PARENT_ACTIVATED.value]
            ),
            guardians_learning=sum(
                1 for g in guardians_of[s.id] if g in seen[FactKind.PARENT_LEARNING.value]
            ),
        )
        for s in students
    ]
