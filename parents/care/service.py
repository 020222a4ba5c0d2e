"""Care files: who may open one, what each change needs, the access log, screening, exports and
the purge.

Who may open a file (``may_open``): its assigned caseworkers, the school's designated admin for
care files (``CareDesignation``: set explicitly; by default the school admin who opens the
school's first file) and, once the file is handed over, the county office (the county admins of
the subject's county). Everyone else gets a 404, a prefecture admin included; admins see counts
without names (``queries.counts``).

A caseworker is a teacher or admin of the subject's school (their kind: teacher, counsellor,
social worker), or after handover a county admin of the subject's county.

Consent (PIPL art. 31): a child under 14, or whose birth date is not given, needs their
guardian's consent (who gave it, their relation, how, on which day; who recorded it) before the
file holds any free text (the narrative, notes, follow-up notes). Risk factor codes and
caseworkers need no consent: they are what the school must record to act.

Every read and change is a row of the access log, written in the same unit of work.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from sqlalchemy import delete, select, update

from elearn.extensions import db
from elearn.localtime import wall_clock
from elearn.models import RoleAssignment, Term, Unit, User
from elearn.models._types import utcnow
from elearn.models.accounts import Role
from elearn.models.org import SCHOOL_LEVEL
from elearn.service import audit
from elearn.service.errors import Forbidden, NotFound, ServiceError
from parents.care import crypto
from parents.care.models import (
    CareAccessLog,
    CareCaseworker,
    CareConsent,
    CareDesignation,
    CareExport,
    CareFile,
    CareFollowup,
    CareScreening,
    CareScreeningEntry,
    CareStatus,
    CaseworkerKind,
)

#: the screening criteria (排查摸底) and a file's risk factors: one list
CRITERIA: dict[str, Any] = {
    "dropout": _l("Dropped out (辍学)"),
    "long_absence": _l("Long absence or truancy"),
    "family_drug_use": _l("Drug use in the family"),
    "drug_contact": _l("Contact with drug users"),
    "left_behind": _l("Left-behind child"),
    "no_guardian": _l("Without effective guardianship"),
    "behaviour": _l("Behavioural problems"),
    "psychological": _l("Psychological distress"),
    "runaway": _l("Ran away from home"),
}
CASEWORKER_KINDS: dict[str, Any] = {
    CaseworkerKind.TEACHER: _l("Teacher"),
    CaseworkerKind.COUNSELLOR: _l("Counsellor"),
    CaseworkerKind.SOCIAL_WORKER: _l("Social worker"),
}
CONSENT_METHODS: dict[str, Any] = {
    "written": _l("Signed form"),
    "in_person": _l("In person"),
    "phone": _l("By phone"),
}
STATUS_LABELS: dict[str, Any] = {
    CareStatus.OPEN: _l("Open"),
    CareStatus.HANDED_OVER: _l("Handed over to the county office"),
    CareStatus.CLOSED: _l("Case closed"),
}
#: access log actions
ACTIONS: dict[str, Any] = {
    "create": _l("Opened the file"),
    "read": _l("Read the file"),
    "followup": _l("Added a follow-up"),
    "caseworkers": _l("Changed the caseworkers"),
    "consent": _l("Recorded the guardian's consent"),
    "handover": _l("Handed over to the county office"),
    "close": _l("Closed the file"),
    "log_read": _l("Read the access log"),
    "exported": _l("Exported"),
    "purged": _l("Purged"),
}
CONSENT_AGE = 14
MAX_TEXT = 5000
MAX_CASEWORKERS = 10
MAX_REASON = 200
MAX_NAME = 64
STAFF = frozenset({Role.TEACHER, Role.SCHOOL_ADMIN})

_NO_FILE = _l("This care file does not exist, or is not yours to open.")
_NO_STUDENT = _l("There is no such student in your school.")


def _no_file() -> NotFound:
    return NotFound(str(_NO_FILE))


# --- who is who -------------------------------------------------------------------------------------


def school_of_student(subject: User) -> Unit | None:
    """The school of a student's class (the first, if several)."""
    for assignment in subject.roles:
        if assignment.role == Role.STUDENT and len(assignment.unit.ancestor_ids) >= SCHOOL_LEVEL:
            return db.session.get(Unit, assignment.unit.school_id)
    return None


def is_staff_of(user: User, school: Unit) -> bool:
    return any(a.role in STAFF and a.unit.path.startswith(school.path) for a in user.roles)


def is_school_admin_of(user: User, school: Unit) -> bool:
    return any(a.role == Role.SCHOOL_ADMIN and a.unit_id == school.id for a in user.roles)


def is_county_office(user: User, county_id: int) -> bool:
    return any(a.role == Role.COUNTY_ADMIN and a.unit_id == county_id for a in user.roles)


def designated_admin_id(school_id: int) -> int | None:
    return db.session.scalar(
        select(CareDesignation.user_id).where(CareDesignation.school_id == school_id)
    )


def is_designated(user: User, school_id: int) -> bool:
    return designated_admin_id(school_id) == user.id


def is_caseworker(user: User, file: CareFile) -> bool:
    return any(c.user_id == user.id for c in file.caseworkers)


def handed_over(file: CareFile) -> bool:
    return file.handed_over_at is not None


def may_open(user: User, file: CareFile) -> bool:
    return (
        is_caseworker(user, file)
        or is_designated(user, file.school_id)
        or (handed_over(file) and is_county_office(user, file.county_id))
    )


def may_manage(user: User, file: CareFile) -> bool:
    """Caseworkers, handover, closure: the designated admin, and the county office after
    handover."""
    return is_designated(user, file.school_id) or (
        handed_over(file) and is_county_office(user, file.county_id)
    )


def file_rule(actor: User, action: str, file: CareFile) -> bool:
    """The permission registry's rule: ``view`` (open), ``manage``, ``log`` (its access log)."""
    if action == "view":
        return may_open(actor, file)
    if action == "manage":
        return may_manage(actor, file)
    if action == "log":
        return is_designated(actor, file.school_id)
    return False


def needs_consent(file_or_birth: CareFile | date | None, today: date | None = None) -> bool:
    birth = file_or_birth.birth_date if isinstance(file_or_birth, CareFile) else file_or_birth
    if birth is None:
        return True
    today = today or date.today()
    age = today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
    return age < CONSENT_AGE


def consent_missing(file: CareFile) -> bool:
    return needs_consent(file) and file.consent is None


# --- the access log ---------------------------------------------------------------------------------


def log(file: CareFile, actor: User | None, action: str, detail: str = "") -> None:
    db.session.add(
        CareAccessLog(
            file_id=file.id,
            school_id=file.school_id,
            actor_id=actor.id if actor else None,
            action=action,
            detail=detail[:200],
        )
    )


def open_file(actor: User, file_id: int, *, action: str = "view") -> CareFile:
    """The file, if the actor may open it; a 404 for everyone else (whether or not it exists)."""
    file = db.session.get(CareFile, file_id) if 0 < file_id < 2**31 else None
    if file is None or not may_open(actor, file):
        raise _no_file()
    if action != "view" and not file_rule(actor, action, file):
        raise Forbidden(_("Only the school's designated admin for care files may do this."))
    return file


@dataclass
class FollowupView:
    id: int
    held_at: datetime
    author: str
    notes: str
    next_step: str


@dataclass
class FileView:
    file: CareFile
    narrative: str
    notes: str
    followups: list[FollowupView]


def read(actor: User, file: CareFile) -> FileView:
    """The file with its text decrypted; logged as a read."""
    view = FileView(
        file=file,
        narrative=crypto.decrypt(file.narrative_enc),
        notes=crypto.decrypt(file.notes_enc),
        followups=[
            FollowupView(
                id=f.id,
                held_at=f.held_at,
                author=f.author.display_name,
                notes=crypto.decrypt(f.notes_enc),
                next_step=crypto.decrypt(f.next_step_enc),
            )
            for f in file.followups
        ],
    )
    log(file, actor, "read")
    db.session.flush()
    return view


def access_log(actor: User, file: CareFile) -> list[tuple[CareAccessLog, str]]:
    """The file's access log, oldest first, with each actor's name: for the designated admin
    (the reading itself logged first)."""
    if not is_designated(actor, file.school_id):
        raise Forbidden(
            _("Only the school's designated admin for care files reads the access log.")
        )
    log(file, actor, "log_read")
    db.session.flush()
    rows = db.session.scalars(
        select(CareAccessLog).where(CareAccessLog.file_id == file.id).order_by(CareAccessLog.id)
    ).all()
    names = {
        row.id: row.display_name
        for row in db.session.execute(
            select(User.id, User.display_name).where(
                User.id.in_({r.actor_id for r in rows if r.actor_id})
            )
        )
    }
    return [(row, names.get(row.actor_id or 0, "")) for row in rows]


# --- checks of what is written ----------------------------------------------------------------------


def _text(value: str | None, limit: int = MAX_TEXT) -> str:
    value = (value or "").strip()
    if len(value) > limit:
        raise ServiceError(_("Keep it under %(n)d characters.", n=limit))
    return value


def _factors(codes: Iterable[str]) -> list[str]:
    found = list(dict.fromkeys(codes))
    if not found:
        raise ServiceError(_("Choose at least one risk factor."), field="risk_factors")
    if any(code not in CRITERIA for code in found):
        raise ServiceError(_("Choose risk factors from the list."), field="risk_factors")
    return found


def _caseworkers(
    entries: Iterable[tuple[User, str]], school: Unit, county_id: int, after_handover: bool
) -> list[tuple[User, str]]:
    found = list(entries)
    if len(found) > MAX_CASEWORKERS:
        raise ServiceError(_("A file takes at most %(n)d caseworkers.", n=MAX_CASEWORKERS))
    seen = set()
    for user, kind in found:
        if kind not in CASEWORKER_KINDS:
            raise ServiceError(_("Choose a caseworker's kind from the list."))
        if user.id in seen:
            raise ServiceError(_("Each caseworker once."))
        seen.add(user.id)
        if not (
            is_staff_of(user, school) or (after_handover and is_county_office(user, county_id))
        ):
            raise ServiceError(
                _(
                    "%(name)s is not staff of this school: caseworkers are its teachers and "
                    "admins (and after handover the county office).",
                    name=user.display_name,
                )
            )
    return found


# --- files ------------------------------------------------------------------------------------------


def _designate_or_refuse(actor: User, school: Unit) -> None:
    """The actor must be the school's designated admin; a school admin of a school with none
    becomes it."""
    current = designated_admin_id(school.id)
    if current == actor.id:
        return
    if current is None and is_school_admin_of(actor, school):
        db.session.add(CareDesignation(school_id=school.id, user_id=actor.id, set_by_id=actor.id))
        return
    raise Forbidden(
        _("Only the school's designated admin for care files opens a file for its students.")
    )


def subject_school(actor: User, subject: User | None) -> Unit:
    """The subject's school, which must be one the actor is staff of (404 otherwise)."""
    school = school_of_student(subject) if subject is not None else None
    if school is None or not (is_staff_of(actor, school) or is_designated(actor, school.id)):
        raise NotFound(str(_NO_STUDENT))
    return school


def create_file(
    *,
    actor: User,
    subject: User | None,
    risk_factors: Iterable[str],
    caseworkers: Iterable[tuple[User, str]] = (),
    notes: str = "",
    narrative: str = "",
    birth_date: date | None = None,
    consent: dict[str, Any] | None = None,
) -> CareFile:
    """Open a file for a student of the actor's school (the designated admin's)."""
    school = subject_school(actor, subject)
    assert subject is not None and school.parent_id is not None
    if not crypto.configured():
        raise crypto.KeysMissing()
    _designate_or_refuse(actor, school)
    factors = _factors(risk_factors)
    workers = _caseworkers(caseworkers, school, school.parent_id, after_handover=False)
    notes, narrative = _text(notes), _text(narrative)
    if birth_date is not None and not date(1900, 1, 1) <= birth_date <= date.today():
        raise ServiceError(_("Give a birth date in the past."), field="birth_date")
    open_one = db.session.scalar(
        select(CareFile.id).where(
            CareFile.subject_id == subject.id, CareFile.status != CareStatus.CLOSED
        )
    )
    if open_one is not None:
        raise ServiceError(_("This student has an open care file already."), status=409)
    consent_row = _consent(actor, consent) if consent else None
    if needs_consent(birth_date) and consent_row is None and (notes or narrative):
        raise ServiceError(
            _(
                "The student is under 14 (or the birth date is not given): record the "
                "guardian's consent before writing notes."
            ),
            status=409,
        )
    file = CareFile(
        subject_id=subject.id,
        school_id=school.id,
        county_id=school.parent_id,
        birth_date=birth_date,
        risk_factors=factors,
        narrative_enc=crypto.encrypt(narrative),
        notes_enc=crypto.encrypt(notes),
        created_by_id=actor.id,
        status=CareStatus.OPEN,
    )
    file.caseworkers = [CareCaseworker(user_id=u.id, kind=kind) for u, kind in workers]
    if consent_row is not None:
        file.consent = consent_row
    db.session.add(file)
    db.session.flush()
    log(file, actor, "create")
    if consent_row is not None:
        log(file, actor, "consent")
    db.session.flush()
    return file


def _consent(actor: User, data: dict[str, Any]) -> CareConsent:
    given_by = _text(data.get("given_by"), MAX_NAME)
    relation = _text(data.get("relation"), 16)
    method = data.get("method") or ""
    given_on = data.get("given_on") or date.today()
    if not given_by or not relation:
        raise ServiceError(_("Say who gave the consent and their relation to the student."))
    if method not in CONSENT_METHODS:
        raise ServiceError(_("Choose how the consent was given from the list."))
    if given_on > date.today():
        raise ServiceError(_("The consent cannot be given in the future."))
    return CareConsent(
        given_by=given_by,
        relation=relation,
        method=method,
        given_on=given_on,
        recorded_by_id=actor.id,
    )


def record_consent(actor: User, file: CareFile, data: dict[str, Any]) -> CareConsent:
    if not (may_manage(actor, file) or is_caseworker(actor, file)):
        raise _no_file()
    if file.consent is not None:
        raise ServiceError(_("The guardian's consent is recorded already."), status=409)
    file.consent = _consent(actor, data)
    log(file, actor, "consent")
    db.session.flush()
    return file.consent


def add_followup(
    actor: User, file: CareFile, *, held_at: datetime | None, notes: str, next_step: str = ""
) -> CareFollowup:
    """A follow-up talk by a caseworker, the designated admin or (after handover) the county
    office."""
    if not may_open(actor, file):
        raise _no_file()
    if file.status == CareStatus.CLOSED:
        raise ServiceError(_("This file is closed."), status=409)
    notes, next_step = _text(notes), _text(next_step, 1000)
    if not notes:
        raise ServiceError(_("Write what was talked about."), field="notes")
    if held_at is None:
        held_at = utcnow()
    if held_at > utcnow() + timedelta(minutes=5):
        raise ServiceError(_("A follow-up cannot be in the future."), field="held_at")
    if consent_missing(file):
        raise ServiceError(
            _("Record the guardian's consent before writing notes (the student is under 14)."),
            status=409,
        )
    if not crypto.configured():
        raise crypto.KeysMissing()
    followup = CareFollowup(
        file_id=file.id,
        author_id=actor.id,
        held_at=held_at,
        notes_enc=crypto.encrypt(notes) or "",
        next_step_enc=crypto.encrypt(next_step),
    )
    db.session.add(followup)
    log(file, actor, "followup")
    db.session.flush()
    return followup


def set_caseworkers(actor: User, file: CareFile, caseworkers: Iterable[tuple[User, str]]) -> None:
    if not may_manage(actor, file):
        raise Forbidden(_("Only the school's designated admin for care files may do this."))
    workers = _caseworkers(caseworkers, file.school, file.county_id, handed_over(file))
    file.caseworkers = [CareCaseworker(user_id=u.id, kind=kind) for u, kind in workers]
    log(file, actor, "caseworkers", ",".join(str(u.id) for u, _kind in workers))
    db.session.flush()


def hand_over(actor: User, file: CareFile) -> CareFile:
    """To the county drug-control office (the county admins of the subject's county)."""
    if not is_designated(actor, file.school_id):
        raise Forbidden(_("Only the school's designated admin for care files may do this."))
    if file.status != CareStatus.OPEN:
        raise ServiceError(_("Only an open file can be handed over."), status=409)
    file.status = CareStatus.HANDED_OVER
    file.handed_over_at = utcnow()
    file.handed_over_by_id = actor.id
    log(file, actor, "handover")
    db.session.flush()
    return file


def close(actor: User, file: CareFile, reason: str) -> CareFile:
    if not may_manage(actor, file):
        raise Forbidden(_("Only the school's designated admin for care files may do this."))
    if file.status == CareStatus.CLOSED:
        raise ServiceError(_("This file is closed."), status=409)
    reason = _text(reason, MAX_REASON)
    if not reason:
        raise ServiceError(_("Say why the file is closed."), field="reason")
    file.status = CareStatus.CLOSED
    file.closed_at = utcnow()
    file.closed_by_id = actor.id
    file.closing_reason = reason
    log(file, actor, "close")
    db.session.flush()
    return file


def visible_files(actor: User) -> list[CareFile]:
    """The files the actor may open, newest first."""
    designated = select(CareDesignation.school_id).where(CareDesignation.user_id == actor.id)
    counties = [a.unit_id for a in actor.roles if a.role == Role.COUNTY_ADMIN]
    mine = select(CareCaseworker.file_id).where(CareCaseworker.user_id == actor.id)
    condition = CareFile.id.in_(mine) | CareFile.school_id.in_(designated)
    if counties:
        condition = condition | (
            CareFile.county_id.in_(counties) & CareFile.handed_over_at.is_not(None)
        )
    return list(db.session.scalars(select(CareFile).where(condition).order_by(CareFile.id.desc())))


def designated_schools(actor: User) -> list[Unit]:
    ids = select(CareDesignation.school_id).where(CareDesignation.user_id == actor.id)
    found = list(db.session.scalars(select(Unit).where(Unit.id.in_(ids)).order_by(Unit.name)))
    # a school admin of a school without a designated admin may become it
    for a in actor.roles:
        if a.role == Role.SCHOOL_ADMIN and designated_admin_id(a.unit_id) is None:
            found.append(a.unit)
    return found


def designate(actor: User, school: Unit, user: User) -> CareDesignation:
    """Make ``user`` (a school admin of the school) its designated admin: by the current one,
    or a county admin of the school's county."""
    current = db.session.get(CareDesignation, school.id)
    allowed = (current is not None and current.user_id == actor.id) or (
        school.parent_id is not None and is_county_office(actor, school.parent_id)
    )
    if current is None and is_school_admin_of(actor, school):
        allowed = True
    if not allowed:
        raise Forbidden(_("Only the designated admin or the county office may change this."))
    if not is_school_admin_of(user, school):
        raise ServiceError(_("The designated admin must be an admin of this school."))
    if current is None:
        current = CareDesignation(school_id=school.id, user_id=user.id, set_by_id=actor.id)
        db.session.add(current)
    else:
        current.user_id, current.set_by_id, current.set_at = user.id, actor.id, utcnow()
    audit.record(
        "parents.care_designated",
        actor=actor,
        unit_id=school.id,
        target_type="user",
        target_id=user.id,
    )
    db.session.flush()
    return current


# --- screening --------------------------------------------------------------------------------------


def current_term() -> Term:
    from elearn.service import org

    return org.ensure_term_for(date.today())


def screening_for(actor: User, school: Unit, *, create: bool = False) -> CareScreening | None:
    """This term's screening of the school, for its designated admin."""
    _designate_or_refuse(actor, school)
    term = current_term()
    found = db.session.scalar(
        select(CareScreening).where(
            CareScreening.school_id == school.id, CareScreening.term_id == term.id
        )
    )
    if found is None and create:
        assert school.parent_id is not None
        found = CareScreening(
            school_id=school.id,
            county_id=school.parent_id,
            term_id=term.id,
            created_by_id=actor.id,
        )
        db.session.add(found)
        db.session.flush()
    return found


def screen(actor: User, subject: User | None, criteria: Iterable[str]) -> CareScreeningEntry:
    """Record a student found in this term's screening against the criteria (or change what
    was recorded)."""
    school = subject_school(actor, subject)
    assert subject is not None
    codes = _factors(criteria)
    screening = screening_for(actor, school, create=True)
    assert screening is not None
    entry = db.session.scalar(
        select(CareScreeningEntry).where(
            CareScreeningEntry.screening_id == screening.id,
            CareScreeningEntry.subject_id == subject.id,
        )
    )
    if entry is None:
        entry = CareScreeningEntry(
            screening_id=screening.id, subject_id=subject.id, recorded_by_id=actor.id
        )
        db.session.add(entry)
    entry.criteria = codes
    db.session.flush()
    return entry


# --- exports ----------------------------------------------------------------------------------------


def request_export(actor: User, school: Unit, reason: str) -> CareExport:
    if not is_designated(actor, school.id):
        raise Forbidden(_("Only the school's designated admin for care files may do this."))
    reason = _text(reason, MAX_REASON)
    if not reason:
        raise ServiceError(_("Say what the export is for."), field="reason")
    export = CareExport(school_id=school.id, requested_by_id=actor.id, reason=reason)
    db.session.add(export)
    db.session.flush()
    audit.record(
        "parents.care_export_requested",
        actor=actor,
        unit_id=school.id,
        target_type="care_export",
        target_id=export.id,
    )
    return export


def may_approve(actor: User, export: CareExport) -> bool:
    """A second admin: another admin of the school, or the county office over it."""
    school = export.school
    return actor.id != export.requested_by_id and (
        is_school_admin_of(actor, school)
        or (school.parent_id is not None and is_county_office(actor, school.parent_id))
    )


def approve_export(actor: User, export: CareExport) -> CareExport:
    if actor.id == export.requested_by_id:
        raise Forbidden(_("A second admin must approve the export, not its requester."))
    if not may_approve(actor, export):
        raise NotFound(_("There is no such export request for you."))
    claimed = db.session.execute(
        update(CareExport)
        .where(CareExport.id == export.id, CareExport.approved_at.is_(None))
        .values(approved_by_id=actor.id, approved_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if not claimed.rowcount:  # type: ignore[attr-defined]  # an UPDATE returns a CursorResult
        raise ServiceError(_("This export is approved already."), status=409)
    db.session.refresh(export)
    audit.record(
        "parents.care_export_approved",
        actor=actor,
        unit_id=export.school_id,
        target_type="care_export",
        target_id=export.id,
    )
    return export


def download_export(actor: User, export: CareExport) -> bytes:
    """The school's files as an .xlsx, once, for the requester after approval; each file's
    access log records the export."""
    if actor.id != export.requested_by_id:
        raise NotFound(_("There is no such export request for you."))
    if export.approved_at is None:
        raise ServiceError(_("A second admin has not approved this export yet."), status=409)
    if not crypto.configured():
        raise crypto.KeysMissing()
    claimed = db.session.execute(
        update(CareExport)
        .where(CareExport.id == export.id, CareExport.downloaded_at.is_(None))
        .values(downloaded_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if not claimed.rowcount:  # type: ignore[attr-defined]  # an UPDATE returns a CursorResult
        raise ServiceError(_("This export was downloaded already; request a new one."), status=410)
    db.session.refresh(export)
    files = list(
        db.session.scalars(
            select(CareFile).where(CareFile.school_id == export.school_id).order_by(CareFile.id)
        )
    )
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(str(_("Care files")))
    sheet.append(
        [
            str(h)
            for h in (
                _("File no."),
                _("Student"),
                _("Status"),
                _("Risk factors"),
                _("Caseworkers"),
                _("Opened"),
                _("Narrative"),
                _("Notes"),
                _("Follow-ups"),
            )
        ]
    )
    talks = workbook.create_sheet(str(_("Follow-ups")))
    talks.append(
        [str(h) for h in (_("File no."), _("When"), _("By whom"), _("Notes"), _("Next step"))]
    )
    for file in files:
        sheet.append(
            [
                _cell(v)
                for v in (
                    file.id,
                    file.subject.display_name,
                    str(STATUS_LABELS[file.status]),
                    "、".join(str(CRITERIA[c]) for c in file.risk_factors if c in CRITERIA),
                    "、".join(c.user.display_name for c in file.caseworkers),
                    _when(file.created_at),
                    crypto.decrypt(file.narrative_enc),
                    crypto.decrypt(file.notes_enc),
                    len(file.followups),
                )
            ]
        )
        for f in file.followups:
            talks.append(
                [
                    _cell(v)
                    for v in (
                        file.id,
                        _when(f.held_at),
                        f.author.display_name,
                        crypto.decrypt(f.notes_enc),
                        crypto.decrypt(f.next_step_enc),
                    )
                ]
            )
        log(file, actor, "exported", f"export {export.id}")
    audit.record(
        "parents.care_exported",
        actor=actor,
        unit_id=export.school_id,
        target_type="care_export",
        target_id=export.id,
        files=len(files),
    )
    db.session.flush()
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _when(moment: datetime | None) -> str:
    local = wall_clock(moment)
    return local.strftime("%Y-%m-%d %H:%M") if local else ""


def _cell(value: object) -> object:
    """A text that opens with a formula sign stays text (a ledger, never a formula)."""
    if isinstance(value, str) and value[:1] in {"=", "+", "-", "@"}:
        return "'" + value
    return value


def exports_for(actor: User) -> list[CareExport]:
    """Export requests the actor made or may approve, newest first."""
    schools = {a.unit_id for a in actor.roles if a.role == Role.SCHOOL_ADMIN}
    counties = [a.unit_id for a in actor.roles if a.role == Role.COUNTY_ADMIN]
    condition = CareExport.requested_by_id == actor.id
    if schools:
        condition = condition | CareExport.school_id.in_(schools)
    if counties:
        condition = condition | CareExport.school_id.in_(
            select(Unit.id).where(Unit.parent_id.in_(counties))
        )
    return list(
        db.session.scalars(select(CareExport).where(condition).order_by(CareExport.id.desc()))
    )


# --- purge and rotation -----------------------------------------------------------------------------


def purge(now: datetime | None = None) -> int:
    """Delete the files closed more than ``CARE_PURGE_DAYS`` ago, with their caseworkers,
    follow-ups and consent; their access logs stay (with a "purged" row). How many."""
    days = current_app.config["CARE_PURGE_DAYS"]
    cutoff = (now or utcnow()) - timedelta(days=days)
    files = list(
        db.session.scalars(
            select(CareFile).where(
                CareFile.status == CareStatus.CLOSED, CareFile.closed_at < cutoff
            )
        )
    )
    for file in files:
        log(file, None, "purged", f"closed {_when(file.closed_at)}")
    if files:
        ids = [file.id for file in files]
        db.session.flush()
        db.session.execute(delete(CareFile).where(CareFile.id.in_(ids)))
        for file in files:
            db.session.expunge(file)
    db.session.flush()
    return len(files)


def rotate() -> int:
    """Re-encrypt every token with the current (first) key; how many tokens."""
    count = 0
    for file in db.session.scalars(select(CareFile)):
        for column in ("narrative_enc", "notes_enc"):
            token = getattr(file, column)
            if token:
                setattr(file, column, crypto.rotate_token(token))
                count += 1
    for followup in db.session.scalars(select(CareFollowup)):
        for column in ("notes_enc", "next_step_enc"):
            token = getattr(followup, column)
            if token:
                setattr(followup, column, crypto.rotate_token(token))
                count += 1
    db.session.flush()
    return count


def staff_choices(school: Unit) -> list[User]:
    """The school's teachers and admins, for choosing caseworkers."""
    return list(
        db.session.scalars(
            select(User)
            .join(RoleAssignment, RoleAssignment.user_id == User.id)
            .join(Unit, Unit.id == RoleAssignment.unit_id)
            .where(
                Unit.path.startswith(school.path, autoescape=False),
                RoleAssignment.role.in_(sorted(STAFF)),
                User.is_active_account.is_(True),
            )
            .distinct()
            .order_by(User.display_name)
        )
    )
