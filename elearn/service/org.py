"""The org tree and academic terms."""

from __future__ import annotations

from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import delete, func, select, update

from elearn.extensions import db
from elearn.models import (
    AuditEvent,
    CoverageFact,
    CoverageRollup,
    RoleAssignment,
    Term,
    Unit,
    UnitPopulation,
    User,
)
from elearn.models.org import CHILD_TYPE, SchoolKind, UnitType
from elearn.service import audit
from elearn.service.errors import ServiceError


def create_unit(
    *,
    actor: User | None,
    parent: Unit | None,
    name: str,
    code: str | None = None,
    school_kind: str | None = None,
    is_rural: bool | None = None,
    grade_level: int | None = None,
    unit_type: str | None = None,
) -> Unit:
    """Add a child under ``parent`` (or a prefecture at the root); its type follows the parent's."""
    name = (name or "").strip()
    if not name:
        raise ServiceError(_("Give the unit a name."), field="name")
    if parent is None:
        kind = UnitType(unit_type or UnitType.PREFECTURE)
    else:
        child = CHILD_TYPE[UnitType(parent.type)]
        if child is None:
            raise ServiceError(_("A class has no units below it."))
        kind = child
    if kind == UnitType.SCHOOL:
        if school_kind not in {k.value for k in SchoolKind}:
            raise ServiceError(_("Choose the kind of school."), field="school_kind")
        is_rural = bool(is_rural)
    if code:
        clash = db.session.scalar(
            select(Unit.id).where(
                Unit.parent_id == (parent.id if parent else None), Unit.code == code
            )
        )
        if clash is not None:
            raise ServiceError(
                _("Another unit here already has code %(code)s.", code=code), field="code"
            )
    unit = Unit(
        type=kind,
        name=name,
        parent=parent,
        code=code or None,
        school_kind=school_kind if kind == UnitType.SCHOOL else None,
        is_rural=is_rural if kind == UnitType.SCHOOL else None,
        grade_level=grade_level if kind == UnitType.GRADE else None,
    )
    db.session.add(unit)
    db.session.flush()
    unit.path = (parent.path if parent else "/") + f"{unit.id}/"
    db.session.flush()
    if actor is not None:
        audit.record(
            "unit.created", actor=actor, unit_id=unit.id, target_type="unit", target_id=unit.id
        )
    return unit


def update_unit(
    *,
    actor: User,
    unit: Unit,
    name: str,
    code: str | None,
    school_kind: str | None = None,
    is_rural: bool | None = None,
    grade_level: int | None = None,
) -> Unit:
    """Rename or re-describe a unit."""
    name = (name or "").strip()
    if not name:
        raise ServiceError(_("Give the unit a name."), field="name")
    if code:
        clash = db.session.scalar(
            select(Unit.id).where(
                Unit.parent_id == unit.parent_id, Unit.code == code, Unit.id != unit.id
            )
        )
        if clash is not None:
            raise ServiceError(
                _("Another unit here already has code %(code)s.", code=code), field="code"
            )
    unit.name = name
    unit.code = code or None
    if unit.type == UnitType.SCHOOL:
        if school_kind not in {k.value for k in SchoolKind}:
            raise ServiceError(_("Choose the kind of school."), field="school_kind")
        unit.school_kind = school_kind
        unit.is_rural = bool(is_rural)
    if unit.type == UnitType.GRADE:
        unit.grade_level = grade_level
    audit.record(
        "unit.updated", actor=actor, unit_id=unit.id, target_type="unit", target_id=unit.id
    )
    db.session.flush()
    return unit


def delete_unit(*, actor: User, unit: Unit) -> None:
    """Delete an empty unit (no children, nobody holding a role there)."""
    has_children = db.session.scalar(select(func.count()).where(Unit.parent_id == unit.id))
    has_people = db.session.scalar(
        select(func.count()).select_from(RoleAssignment).where(RoleAssignment.unit_id == unit.id)
    )
    if has_children or has_people:
        raise ServiceError(
            _("Only an empty unit can be deleted: move or remove its units and people first.")
        )
    has_evidence = db.session.scalar(
        select(func.count()).select_from(CoverageFact).where(CoverageFact.unit_id == unit.id)
    )
    if has_evidence:
        raise ServiceError(
            _("This unit has coverage records, which are kept as evidence; it cannot be deleted.")
        )
    # The audit trail outlives the unit: its events move up to the parent's scope.
    db.session.execute(
        update(AuditEvent).where(AuditEvent.unit_id == unit.id).values(unit_id=unit.parent_id)
    )
    db.session.execute(delete(CoverageRollup).where(CoverageRollup.unit_id == unit.id))
    db.session.execute(delete(UnitPopulation).where(UnitPopulation.unit_id == unit.id))
    audit.record(
        "unit.deleted",
        actor=actor,
        unit_id=unit.parent_id,
        target_type="unit",
        target_id=unit.id,
        name=unit.name,
    )
    db.session.delete(unit)
    db.session.flush()


def find_child(parent: Unit, *, code: str | None = None, name: str | None = None) -> Unit | None:
    query = select(Unit).where(Unit.parent_id == parent.id)
    query = query.where(Unit.code == code) if code else query.where(Unit.name == name)
    return db.session.scalar(query.limit(1))


def school_of(unit: Unit) -> Unit | None:
    """The school a unit lies in (None above school level)."""
    return None if unit.school_id is None else db.session.get(Unit, unit.school_id)


def current_term(today: date | None = None) -> Term | None:
    """The term whose dates contain today, else the latest one that has started."""
    today = today or date.today()
    term = db.session.scalar(
        select(Term).where(Term.starts_on <= today, Term.ends_on >= today).limit(1)
    )
    if term is None:
        term = db.session.scalar(
            select(Term).where(Term.starts_on <= today).order_by(Term.starts_on.desc()).limit(1)
        )
    return term


def create_term(*, actor: User | None, name: str, starts_on: date, ends_on: date) -> Term:
    """Add an academic term."""
    if ends_on <= starts_on:
        raise ServiceError(_("A term must end after it starts."), field="ends_on")
    if db.session.scalar(select(Term.id).where(Term.name == name)) is not None:
        raise ServiceError(_("A term called %(name)s already exists.", name=name), field="name")
    overlap = db.session.scalar(
        select(Term.id).where(Term.starts_on <= ends_on, Term.ends_on >= starts_on).limit(1)
    )
    if overlap is not None:
        raise ServiceError(_("Terms may not overlap."), field="starts_on")
    term = Term(name=name, starts_on=starts_on, ends_on=ends_on)
    db.session.add(term)
    db.session.flush()
    if actor is not None:
        audit.record("term.created", actor=actor, target_type="term", target_id=term.id)
    return term


def ensure_term_for(today: date) -> Term:
    """The term containing ``today``, creating the usual half-year term when none does."""
    term = db.session.scalar(
        select(Term).where(Term.starts_on <= today, Term.ends_on >= today).limit(1)
    )
    if term is not None:
        return term
    if 3 <= today.month <= 8:
        start, end, label = date(today.year, 3, 1), date(today.year, 8, 31), f"{today.year}春季学期"
    elif today.month >= 9:
        start, end = date(today.year, 9, 1), date(today.year + 1, 3, 1) - timedelta(days=1)
        label = f"{today.year}秋季学期"
    else:
        start, end = date(today.year - 1, 9, 1), date(today.year, 3, 1) - timedelta(days=1)
        label = f"{today.year - 1}秋季学期"
    return create_term(actor=None, name=label, starts_on=start, ends_on=end)
