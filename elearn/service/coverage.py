"""Coverage: facts written once, folded into per-unit, per-term rollups in the same transaction.

Features report evidence here ("student completed course", "teacher attended training", "parent
activated"); dashboards read only the rollups and the population counts, so a prefecture of two
million people answers as fast as one school.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from elearn.extensions import db
from elearn.localtime import to_local
from elearn.models import (
    CoverageFact,
    CoverageRollup,
    CoverageWeekly,
    FactKind,
    Role,
    RoleAssignment,
    Term,
    Unit,
    UnitPopulation,
)
from elearn.models._types import utcnow
from elearn.models.coverage import CUMULATIVE_KINDS
from elearn.models.org import path_ids
from elearn.service.sql import insert_on_conflict

RURAL_PARENT_TARGET = 0.8


def _is_rural(unit: Unit) -> bool:
    if unit.school_id is None:
        return False
    school = unit if unit.type == "school" else db.session.get(Unit, unit.school_id)
    return bool(school and school.is_rural)


def record_fact(kind: FactKind | str, subject_id: int, unit: Unit, term: Term) -> bool:
    """Record that ``subject_id`` did ``kind`` under ``unit`` in ``term``; idempotent.

    Returns True when the fact is new (and the rollups of the unit and its ancestors moved).
    """
    kind = FactKind(kind)
    rural = _is_rural(unit)
    inserted = db.session.execute(
        insert_on_conflict(CoverageFact)
        .values(
            kind=kind.value,
            subject_id=subject_id,
            unit_id=unit.id,
            term_id=term.id,
            is_rural=rural,
            recorded_at=func.now(),
        )
        .on_conflict_do_nothing(index_elements=["kind", "subject_id", "term_id"])
        .returning(CoverageFact.id)
    ).scalar()
    if inserted is None:
        return False
    keys = [kind.value] + ([f"{kind.value}:rural"] if rural else [])
    week = week_of(utcnow())
    for unit_id in unit.ancestor_ids:
        for key in keys:
            statement = insert_on_conflict(CoverageRollup).values(
                unit_id=unit_id, term_id=term.id, kind=key, count=1
            )
            db.session.execute(
                statement.on_conflict_do_update(
                    index_elements=["unit_id", "term_id", "kind"],
                    set_={"count": CoverageRollup.count + 1},
                )
            )
            weekly = insert_on_conflict(CoverageWeekly).values(
                unit_id=unit_id, term_id=term.id, kind=key, week=week, count=1
            )
            db.session.execute(
                weekly.on_conflict_do_update(
                    index_elements=["unit_id", "term_id", "kind", "week"],
                    set_={"count": CoverageWeekly.count + 1},
                )
            )
    return True


def week_of(moment: datetime) -> date:
    """The Monday (on the installation's clock) of the week ``moment`` falls in."""
    local = to_local(moment)
    assert local is not None
    day = local.date()
    return day - timedelta(days=day.weekday())


def has_fact(kind: FactKind | str, subject_id: int, term: Term) -> bool:
    return (
        db.session.scalar(
            select(CoverageFact.id).filter_by(
                kind=str(kind), subject_id=subject_id, term_id=term.id
            )
        )
        is not None
    )


@dataclass
class Metric:
    numerator: int
    denominator: int
    target: float

    @property
    def rate(self) -> float:
        return round(self.numerator / self.denominator, 4) if self.denominator else 0.0

    @property
    def meets_target(self) -> bool:
        return self.denominator > 0 and self.rate >= self.target

    def as_dict(self) -> dict[str, Any]:
        return {
            "numerator": self.numerator,
            "denominator": self.denominator,
            "rate": self.rate,
            "target": self.target,
        }


def coverage(unit: Unit, term: Term) -> dict[str, Metric]:
    """The four coverages of a unit in a term: schools, teachers, students, parents."""
    return coverage_many([unit], term)[unit.id]


def coverage_many(units: list[Unit], term: Term) -> dict[int, dict[str, Metric]]:
    """The four coverages of several units (a county's schools, say) in two queries."""
    ids = [unit.id for unit in units]
    populations = {
        row.unit_id: row
        for row in db.session.scalars(select(UnitPopulation).where(UnitPopulation.unit_id.in_(ids)))
    }
    counts = _rollup_counts(ids, term)
    return {unit_id: _metrics(populations.get(unit_id), counts[unit_id]) for unit_id in ids}


def _rollup_counts(ids: list[int], term: Term) -> dict[int, dict[str, int]]:
    """The rollups' counts of each unit in a term, by kind (``kind:rural`` too)."""
    earlier = select(Term.id).where(Term.starts_on <= term.starts_on).scalar_subquery()
    counts: dict[int, dict[str, int]] = {unit_id: defaultdict(int) for unit_id in ids}
    rows = db.session.execute(
        select(
            CoverageRollup.unit_id,
            CoverageRollup.kind,
            CoverageRollup.term_id,
            CoverageRollup.count,
        ).where(CoverageRollup.unit_id.in_(ids), CoverageRollup.term_id.in_(earlier))
    )
    for unit_id, kind, term_id, count in rows:
        # cumulative kinds (a school stays connected) count from earlier terms too
        if term_id == term.id or kind.split(":", 1)[0] in CUMULATIVE_KINDS:
            counts[unit_id][kind] += count
    return counts


def rollup_counts(unit: Unit, term: Term) -> dict[str, int]:
    """One unit's counts in a term, by kind (``kind:rural`` for its rural schools' share)."""
    return dict(_rollup_counts([unit.id], term)[unit.id])


def _metrics(population: UnitPopulation | None, counts: dict[str, int]) -> dict[str, Metric]:
    schools = population.schools if population else 0
    teachers = population.teachers if population else 0
    students = population.students if population else 0
    guardians = population.guardians if population else 0
    rural = population.rural_guardians if population else 0
    parent_target = (
        round(((guardians - rural) * 1.0 + rural * RURAL_PARENT_TARGET) / guardians, 4)
        if guardians
        else 1.0
    )
    return {
        "schools": Metric(counts[FactKind.SCHOOL_CONNECTED], schools or 0, 1.0),
        "teachers": Metric(counts[FactKind.TEACHER_TRAINED], teachers or 0, 1.0),
        "students": Metric(counts[FactKind.STUDENT_COURSE], students or 0, 1.0),
        "parents": Metric(counts[FactKind.PARENT_ACTIVATED], guardians or 0, parent_target),
        # beside activation: the guardians a term's announcements reached (read), target 100%
        "parents_reached": Metric(counts[FactKind.PARENT_REACHED], guardians or 0, 1.0),
    }


#: the levels at which "schools teaching the course" is a figure: it counts schools, so a grade or
#: a class has none to count (their pages read a meaningless 0/0, in the colour of "behind")
SCHOOL_COUNT_LEVELS = frozenset({"prefecture", "county", "school"})


def shown_metrics(unit: Unit, metrics: dict[str, Metric]) -> dict[str, Metric]:
    """The coverages that mean something at ``unit``'s level, for its pages."""
    if unit.type in SCHOOL_COUNT_LEVELS:
        return metrics
    return {key: metric for key, metric in metrics.items() if key != "schools"}


def recount_population(root: Unit) -> None:
    """Recount the denominators for every unit under ``root`` and for ``root``'s ancestors."""
    units = db.session.execute(
        select(Unit.id, Unit.path, Unit.type, Unit.is_rural).where(Unit.path.startswith(root.path))
    ).all()
    totals: dict[int, dict[str, int]] = {u.id: defaultdict(int) for u in units}
    paths = {u.id: u.path for u in units}
    root_depth = len(root.ancestor_ids)

    def ancestors_within(unit_id: int) -> list[int]:
        return path_ids(paths[unit_id])[root_depth - 1 :]

    rural_school_of: dict[int, bool] = {}
    for u in units:
        if u.type == "school":
            for ident in ancestors_within(u.id):
                totals[ident]["schools"] += 1
                if u.is_rural:
                    totals[ident]["rural_schools"] += 1
    school_rural = {u.id: bool(u.is_rural) for u in units if u.type == "school"}
    for u in units:
        school_id = Unit.school_id_in(u.path)
        rural_school_of[u.id] = bool(school_id and school_rural.get(school_id))

    counted = db.session.execute(
        select(
            RoleAssignment.unit_id,
            RoleAssignment.role,
            # (user_id, role, unit_id) is unique, so no DISTINCT (and its sort) is needed
            func.count(RoleAssignment.user_id),
        )
        .join(Unit, Unit.id == RoleAssignment.unit_id)
        .where(
            Unit.path.startswith(root.path),
            RoleAssignment.role.in_([Role.TEACHER, Role.STUDENT, Role.GUARDIAN]),
        )
        .group_by(RoleAssignment.unit_id, RoleAssignment.role)
    ).all()
    field = {Role.TEACHER: "teachers", Role.STUDENT: "students", Role.GUARDIAN: "guardians"}
    for unit_id, role, count in counted:
        for ident in ancestors_within(unit_id):
            totals[ident][field[Role(role)]] += count
            if role == Role.GUARDIAN and rural_school_of.get(unit_id):
                totals[ident]["rural_guardians"] += count
    _store_populations(totals)
    # Above the root, a unit's population is the sum of its children's.
    for ancestor_id in reversed(root.ancestor_ids[:-1]):
        summed = db.session.execute(
            select(
                func.coalesce(func.sum(UnitPopulation.schools), 0),
                func.coalesce(func.sum(UnitPopulation.rural_schools), 0),
                func.coalesce(func.sum(UnitPopulation.teachers), 0),
                func.coalesce(func.sum(UnitPopulation.students), 0),
                func.coalesce(func.sum(UnitPopulation.guardians), 0),
                func.coalesce(func.sum(UnitPopulation.rural_guardians), 0),
            )
            .join(Unit, Unit.id == UnitPopulation.unit_id)
            .where(Unit.parent_id == ancestor_id)
        ).one()
        names = ("schools", "rural_schools", "teachers", "students", "guardians", "rural_guardians")
        _store_populations({ancestor_id: dict(zip(names, summed, strict=True))})


def _store_populations(totals: dict[int, dict[str, int]]) -> None:
    names = ("schools", "rural_schools", "teachers", "students", "guardians", "rural_guardians")
    rows = [
        {"unit_id": unit_id, **{name: int(values.get(name, 0)) for name in names}}
        for unit_id, values in totals.items()
    ]
    statement = insert_on_conflict(UnitPopulation)
    statement = statement.on_conflict_do_update(
        index_elements=["unit_id"],
        set_={name: getattr(statement.excluded, name) for name in names}
        | {"counted_at": func.now()},
    )
    # One statement executed for many rows: compiled once (a multi-row VALUES statement is
    # compiled anew for every batch, which took most of the time for a prefecture's 25,000 units).
    for start in range(0, len(rows), 5000):
        db.session.execute(statement, rows[start : start + 5000])
    db.session.flush()
