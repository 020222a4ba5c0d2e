"""Read-only counts of care files: by county, school and status, without names, for the admins
over a unit (the prefecture admin included, who may open no file)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from elearn.extensions import db
from elearn.models import Unit, User
from elearn.permissions import admin_paths
from parents.care.models import CareFile, CareScreening, CareScreeningEntry, CareStatus

STATUSES = (CareStatus.OPEN, CareStatus.HANDED_OVER, CareStatus.CLOSED)


def may_count(actor: User, unit: Unit) -> bool:
    return any(unit.path.startswith(path) for path in admin_paths(actor))


def default_unit(actor: User) -> Unit | None:
    """The actor's highest administered unit."""
    units = [a.unit for a in actor.roles if any(a.unit.path == p for p in admin_paths(actor))]
    return min(units, key=lambda u: len(u.path), default=None)


def _rows(column: Any, unit: Unit) -> list[dict[str, Any]]:
    files = (
        select(column.label("unit_id"), CareFile.status, func.count().label("n"))
        .join(Unit, Unit.id == CareFile.school_id)
        .where(Unit.path.startswith(unit.path, autoescape=False))
        .group_by(column, CareFile.status)
    )
    screened = (
        select(
            (
                CareScreening.county_id if column is CareFile.county_id else CareScreening.school_id
            ).label("unit_id"),
            func.count(CareScreeningEntry.id).label("n"),
        )
        .join(CareScreeningEntry, CareScreeningEntry.screening_id == CareScreening.id)
        .join(Unit, Unit.id == CareScreening.school_id)
        .where(Unit.path.startswith(unit.path, autoescape=False))
        .group_by("unit_id")
    )
    found: dict[int, dict[str, Any]] = {}
    for unit_id, status, n in db.session.execute(files):
        row = found.setdefault(unit_id, {s.value: 0 for s in STATUSES} | {"screened": 0})
        row[status] = n
    for unit_id, n in db.session.execute(screened):
        row = found.setdefault(unit_id, {s.value: 0 for s in STATUSES} | {"screened": 0})
        row["screened"] = n
    names = {
        row.id: row.name
        for row in db.session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(found)))
    }
    return sorted(
        (
            {
                "unit_id": uid,
                "name": names.get(uid, ""),
                "total": sum(row[s.value] for s in STATUSES),
                **row,
            }
            for uid, row in found.items()
        ),
        key=lambda r: r["name"],
    )


def counts(unit: Unit) -> dict[str, Any]:
    """Files by status under ``unit``, per county and per school (and the students found in
    screenings); never a name."""
    counties = _rows(CareFile.county_id, unit)
    schools = _rows(CareFile.school_id, unit)
    totals = {s.value: sum(r[s.value] for r in schools) for s in STATUSES}
    return {
        "unit_id": unit.id,
        "name": unit.name,
        "total": sum(totals.values()),
        "screened": sum(r["screened"] for r in schools),
        **totals,
        "counties": counties,
        "schools": schools,
    }
