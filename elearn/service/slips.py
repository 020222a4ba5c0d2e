"""Account slips (账号单): how new accounts get their first password, on paper, once.

A roster import creates accounts without a usable password and, per class, a slip listing the
class's new students and their new parents (and one for the school's new teachers). The slip
holds no password, not even encrypted. The passwords are made when the importing admin opens the
slip: random (``accounts.new_initial_password``), hashed into the accounts, and shown in that one
answer (a print page with the same list as a spreadsheet inside it), never stored in plain text
nor under a key, so a copy of the database, its backups or the server's secret reveals none.
A slip opens once; a lost one is replaced by a reset of the class (or of one person), which makes
new passwords and shows them the same way. Every account on a slip must choose its own password
at its first sign-in (``elearn.auth``).

Why not keep the passwords (encrypted) until downloaded: a kept secret needs a key beside it,
and a worker, a backup or a crash between import and download would hold every password of a
county. Made at the moment they are shown, they exist in one response only.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import select

from elearn import permissions
from elearn.extensions import db
from elearn.models import AccountSlip, GuardianLink, Job, Role, RoleAssignment, Unit, User
from elearn.service import accounts
from elearn.service.errors import ServiceError
from elearn.service.roster_validation import Person, Plan

KIND_CLASS = "class"
KIND_TEACHERS = "teachers"


@dataclass(frozen=True)
class SlipEntry:
    name: str
    role: str
    login: str
    password: str
    #: for a parent, their children's names on this slip
    note: str = ""


@dataclass
class IssuedSlip:
    """What an opened slip (or a reset) shows: once, in one answer."""

    school: str
    unit: str
    entries: list[SlipEntry] = field(default_factory=list)
    #: accounts on the slip that have chosen their own password meanwhile (left out)
    skipped: int = 0
    job_id: str | None = None
    unit_id: int | None = None
    #: the accounts given a password (whose other sessions and sockets end)
    users: list[User] = field(default_factory=list)


def _now() -> datetime:
    return datetime.now(UTC)


# --- made by the import --------------------------------------------------------------------------


def create_for_import(*, job: Job, plan: Plan, created: set[int]) -> list[AccountSlip]:
    """The slips of an import: one per class with new students or parents, one per school with
    new teachers. ``created``: ``id()`` of the plan's people whose accounts it created."""
    assert job.created_by_id is not None
    new = [p for p in plan.people if id(p) in created and p.existing is not None]
    by_unit: dict[tuple[int, str], list[int]] = {}
    units: dict[int, Unit] = {}

    def add(unit: Unit, kind: str, person: Person) -> None:
        assert person.existing is not None
        units[unit.id] = unit
        by_unit.setdefault((unit.id, kind), []).append(person.existing.id)

    class_of_student: dict[str, Unit] = {}
    for person in plan.people:
        if person.role == Role.STUDENT and person.places and person.places[0] is not None:
            unit = person.places[0].unit
            if unit is not None:
                class_of_student[person.key] = unit
    for person in new:
        if person.role == Role.STUDENT and person.key in class_of_student:
            add(class_of_student[person.key], KIND_CLASS, person)
        elif person.role == Role.TEACHER:
            add(person.school, KIND_TEACHERS, person)
    for person in new:
        if person.role != Role.GUARDIAN:
            continue
        unit = next(
            (
                found
                for key in person.children
                if (found := class_of_student.get(key) or _class_of(plan, key)) is not None
            ),
            None,
        )
        add(unit or person.school, KIND_CLASS if unit else KIND_TEACHERS, person)
    made = []
    for (unit_id, kind), user_ids in by_unit.items():
        slip = AccountSlip(
            job_id=job.id,
            unit_id=unit_id,
            unit=units[unit_id],
            kind=kind,
            created_by_id=job.created_by_id,
            user_ids=user_ids,
        )
        db.session.add(slip)
        made.append(slip)
    db.session.flush()
    return made


def _class_of(plan: Plan, student_key: str) -> Unit | None:
    """The class of a student already in the school (named by a parent row of the file)."""
    student = plan.school_students.get(student_key)
    if student is None:
        return None
    return next((a.unit for a in student.roles if a.role == Role.STUDENT), None)


def of_job(job: Job) -> list[AccountSlip]:
    return list(
        db.session.scalars(
            select(AccountSlip).where(AccountSlip.job_id == job.id).order_by(AccountSlip.id)
        )
    )


def slip_json(slip: AccountSlip) -> dict[str, object]:
    return {
        "id": slip.id,
        "unit_id": slip.unit_id,
        "unit_name": unit_label(slip.unit),
        "kind": slip.kind,
        "accounts": len(slip.user_ids or []),
        "opened_at": slip.opened_at.isoformat() if slip.opened_at else None,
    }


# --- opening, resetting --------------------------------------------------------------------------


def open_slip(*, actor: User, slip: AccountSlip) -> IssuedSlip:
    """Make the passwords of a slip's accounts and return them, once (410 the second time).

    Only accounts still waiting for their own password get one; the others are counted.
    """
    locked = db.session.scalar(
        select(AccountSlip)
        .where(AccountSlip.id == slip.id)
        .with_for_update(of=AccountSlip)
        .execution_options(populate_existing=True)
    )
    if locked is None or locked.opened_at is not None:
        raise ServiceError(
            _(
                "This account slip has been shown already, and its passwords are kept nowhere. "
                "To hand out new ones, reset the passwords of the class (or of one person)."
            ),
            status=410,
        )
    locked.opened_at = _now()
    users = _users_in_order(locked.user_ids or [])
    waiting = [u for u in users if u.must_change_password]
    issued = _issue(actor=actor, unit=locked.unit, users=waiting)
    issued.skipped = len(locked.user_ids or []) - len(waiting)
    issued.job_id = locked.job_id
    db.session.flush()
    return issued


def reset_class(*, actor: User, unit: Unit) -> IssuedSlip:
    """New initial passwords for the class's students and parents who have not chosen their own
    yet (a lost or never-opened slip), shown once like a slip."""
    if unit.type != "class":
        raise ServiceError(_("Account slips are made per class."))
    members = db.session.scalars(
        select(User)
        .join(RoleAssignment, RoleAssignment.user_id == User.id)
        .where(
            RoleAssignment.unit_id == unit.id,
            RoleAssignment.role.in_([Role.STUDENT, Role.GUARDIAN]),
            User.must_change_password.is_(True),
            User.is_active_account.is_(True),
        )
        .distinct()
    ).all()
    students = sorted(
        (u for u in members if u.has_role(Role.STUDENT)), key=lambda u: (u.username, u.id)
    )
    parents = sorted(
        (u for u in members if not u.has_role(Role.STUDENT)), key=lambda u: (u.username, u.id)
    )
    allowed = [u for u in [*students, *parents] if permissions.can(actor, "reset_password", u)]
    return _issue(actor=actor, unit=unit, users=allowed)


def reset_user(*, actor: User, user: User) -> IssuedSlip:
    """A new initial password for one person, shown once on their own slip."""
    home = min(user.roles, key=lambda a: len(a.unit.path)).unit if user.roles else None
    return _issue(actor=actor, unit=home, users=[user])


def _users_in_order(user_ids: list[int]) -> list[User]:
    found = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(user_ids)))}
    return [found[i] for i in user_ids if i in found]


def _issue(*, actor: User, unit: Unit | None, users: Iterable[User]) -> IssuedSlip:
    users = list(users)
    school = _school_name(unit)
    issued = IssuedSlip(
        school=school,
        unit=unit_label(unit) if unit is not None else "",
        unit_id=unit.id if unit else None,
        users=users,
    )
    children = _children_names([u.id for u in users if not u.has_role(Role.STUDENT)])
    for user in users:
        password = accounts.give_initial_password(
            actor=actor, user=user, unit_id=unit.id if unit is not None else None
        )
        issued.entries.append(
            SlipEntry(
                name=user.display_name,
                role=_role_of(user),
                login=user.username,
                password=password,
                note="、".join(children.get(user.id, [])),
            )
        )
    if unit is not None:
        _withdraw_from_waiting_slips(unit, {u.id for u in users})
    return issued


def _withdraw_from_waiting_slips(unit: Unit, user_ids: set[int]) -> None:
    """Accounts just given a password leave the school's slips not opened yet: opening one later
    must not replace the password that was just handed out."""
    if not user_ids:
        return
    for slip in db.session.scalars(
        select(AccountSlip)
        .join(Unit, Unit.id == AccountSlip.unit_id)
        .where(
            AccountSlip.opened_at.is_(None),
            Unit.path.startswith(unit.school_path, autoescape=False),
        )
        .with_for_update(of=AccountSlip)
    ):
        remaining = [i for i in slip.user_ids or [] if i not in user_ids]
        if len(remaining) != len(slip.user_ids or []):
            slip.user_ids = remaining


def _role_of(user: User) -> str:
    for role in (Role.STUDENT, Role.TEACHER, Role.GUARDIAN):
        if user.has_role(role):
            return role
    return user.roles[0].role if user.roles else ""


def _children_names(guardian_ids: list[int]) -> dict[int, list[str]]:
    if not guardian_ids:
        return {}
    names: dict[int, list[str]] = {}
    for guardian_id, name in db.session.execute(
        select(GuardianLink.guardian_id, User.display_name)
        .join(User, User.id == GuardianLink.student_id)
        .where(GuardianLink.guardian_id.in_(guardian_ids))
        .order_by(GuardianLink.id)
    ).all():
        names.setdefault(guardian_id, []).append(name)
    return names


def unit_label(unit: Unit) -> str:
    """A class as the school says it: "五年级1班", or "五年级 1班" when its own name is short."""
    parent = unit.parent
    if unit.type == "class" and parent is not None and not unit.name.startswith(parent.name):
        return f"{parent.name} {unit.name}"
    return unit.name


def _school_name(unit: Unit | None) -> str:
    if unit is None:
        return ""
    if unit.school_id is None:
        return ""
    school = db.session.get(Unit, unit.school_id)
    return school.name if school is not None else ""


# --- the spreadsheet -----------------------------------------------------------------------------


def workbook(issued: IssuedSlip, *, login_url: str, role_labels: dict[str, str]) -> bytes:
    """The slip as an .xlsx: one row per account, the same as the print page."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = _("Account slip")[:31]
    sheet.append(
        [
            _("School"),
            _("Class"),
            _("Full name"),
            _("Role"),
            _("Username"),
            _("Initial password"),
            _("Sign in at"),
            _("Note"),
        ]
    )
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for entry in issued.entries:
        sheet.append(
            [
                issued.school,
                issued.unit,
                entry.name,
                role_labels.get(entry.role, entry.role),
                entry.login,
                entry.password,
                login_url,
                entry.note,
            ]
        )
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if cell.data_type == "f":  # a name typed as "=…" is text, never a formula
                cell.data_type = "s"
    for column, width in zip("ABCDEFGH", (22, 14, 12, 8, 18, 14, 34, 16), strict=True):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
