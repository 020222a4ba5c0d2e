"""Roster import: a school or county admin uploads classes, teachers, students and guardians.

Three steps, each all-or-nothing:

1. ``start_import`` (in the request): the file's shape — type, size, header row — is checked and
   a job is created holding the file; the boundary commits, then queues the task.
2. ``run_import`` phase 1 (in the task): every row is checked against the file and the database
   (``roster_validation``); any problem fails the job with a row-by-row report and writes nothing.
3. ``run_import`` phase 2: grades, classes, accounts, roles and guardian links are written in the
   task's one transaction. People are keyed by their 编号 (guardians by phone), so importing the
   same file again changes nothing, and a changed name or class updates the person. New accounts
   get no password here: they go on the account slips of their class (``slips``), whose opening
   by the importer gives them random ones.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import or_, select

from elearn.extensions import db
from elearn.models import GuardianLink, Job, JobStatus, Role, RoleAssignment, Unit, User
from elearn.service import accounts, audit, coverage, coverage_hooks, org, slips
from elearn.service.errors import ServiceError
from elearn.service.roster_files import (
    SCHOOL_CODE,
    RosterFileError,
    RosterTable,
    read_roster,
    too_large,
)
from elearn.service.roster_validation import Plan, RowError, check

JOB_KIND = "roster_import"
#: a report longer than this helps nobody; the count of all errors is kept in the result
MAX_STORED_ERRORS = 500
#: a job that keeps killing its worker is given up on
MAX_ATTEMPTS = 3

Progress = Callable[[int], None]


@dataclass(frozen=True)
class RosterLimits:
    max_bytes: int
    max_rows: int
    max_unpacked_bytes: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> RosterLimits:
        max_bytes = int(config["ROSTER_MAX_BYTES"])
        unpacked = config.get("ROSTER_MAX_UNPACKED_BYTES") or 10 * max_bytes
        return cls(max_bytes, int(config["ROSTER_MAX_ROWS"]), int(unpacked))


def _now() -> datetime:
    return datetime.now(UTC)


def read_upload(data: bytes, *, limits: RosterLimits, quick: bool = False) -> RosterTable:
    """The roster table of an uploaded file, or a ``RosterFileError`` saying what is wrong.

    ``quick``: only what can be checked while the uploader waits (see ``read_roster``).
    """
    if len(data) > limits.max_bytes:
        raise too_large(limits.max_bytes)
    return read_roster(
        data,
        max_rows=limits.max_rows,
        max_unpacked_bytes=limits.max_unpacked_bytes,
        quick=quick,
    )


def start_import(
    *,
    actor: User,
    unit: Unit,
    filename: str | None,
    data: bytes,
    limits: RosterLimits,
    locale: str,
) -> Job:
    """Check the file's shape and create the import job holding it (queue it after commit)."""
    if unit.type not in {"school", "county"}:
        raise ServiceError(_("Rosters are imported for a school or a county."))
    table = read_upload(data, limits=limits, quick=True)
    if unit.type == "county" and SCHOOL_CODE not in table.columns:
        raise RosterFileError(
            _(
                "A county's roster needs the column 学校代码 (school code) so that each row names "
                "its school."
            )
        )
    job = Job(
        kind=JOB_KIND,
        status=JobStatus.QUEUED,
        progress=0,
        created_by_id=actor.id,
        unit_id=unit.id,
        filename=(filename or "")[:255] or None,
        payload=data,
        errors=[],
        # the uploader's language, for the messages the worker writes
        result={"locale": locale},
        attempts=0,
    )
    db.session.add(job)
    db.session.flush()
    return job


def job_locale(job: Job) -> str:
    return str((job.result or {}).get("locale") or "zh_Hans_CN")


def job_json(job: Job) -> dict[str, Any]:
    """What the jobs API and the job page show."""
    result = {k: v for k, v in (job.result or {}).items() if k != "locale"}
    return {
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "progress": job.progress,
        "filename": job.filename,
        "unit_id": job.unit_id,
        "errors": job.errors or [],
        "result": result,
        "created_at": job.created_at.isoformat() if job.created_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "slips": [slips.slip_json(slip) for slip in slips.of_job(job)],
    }


def is_finished(job: Job) -> bool:
    return job.status in {JobStatus.DONE, JobStatus.FAILED}


def run_import(*, job: Job, limits: RosterLimits, progress: Progress) -> None:
    """Check every row, then import all of them, or none; the job ends done or failed."""
    unit = db.session.get(Unit, job.unit_id)
    actor = db.session.get(User, job.created_by_id) if job.created_by_id else None
    if unit is None or actor is None:
        _finish_failed(
            job, actor, [RowError(None, _("The unit or the uploader no longer exists."))]
        )
        return
    if job.attempts >= MAX_ATTEMPTS:
        _finish_failed(job, actor, [RowError(None, _("The import was interrupted too often."))])
        return
    _lock_county(unit)
    db.session.refresh(job)  # another worker may have finished it while we waited for the lock
    if is_finished(job):
        return
    try:
        table = read_upload(job.payload or b"", limits=limits)
    except ServiceError as error:
        _finish_failed(job, actor, [RowError(None, error.message)])
        return
    progress(5)
    plan = check(unit, table)
    progress(20)
    if not isinstance(plan, Plan):
        _finish_failed(job, actor, plan)
        return
    counts = _apply(job, plan, progress)
    for school in plan.schools:
        coverage.recount_population(school)
        coverage_hooks.school_connected(school)
    job.status = JobStatus.DONE
    job.progress = 100
    job.finished_at = _now()
    job.result = {**(job.result or {}), **counts}
    job.payload = None  # names and phones are not kept longer than the import needs them
    audit.record(
        "roster.imported",
        actor=actor,
        unit_id=job.unit_id,
        target_type="job",
        target_id=job.id,
        filename=job.filename,
        counts=counts,
    )
    db.session.flush()


def fail_unexpectedly(job: Job) -> None:
    """After a crash (the boundary rolled back): the job fails with a message, nothing imported."""
    actor = db.session.get(User, job.created_by_id) if job.created_by_id else None
    message = _(
        "The import stopped because of an error on our side; nothing was imported. Try again in "
        "a few minutes."
    )
    _finish_failed(job, actor, [RowError(None, message)])


def _finish_failed(job: Job, actor: User | None, errors: list[RowError]) -> None:
    job.status = JobStatus.FAILED
    job.progress = 100
    job.finished_at = _now()
    job.errors = [error.as_dict() for error in errors[:MAX_STORED_ERRORS]]
    job.result = {**(job.result or {}), "error_count": len(errors)}
    job.payload = None
    audit.record(
        "roster.failed",
        actor=actor,
        unit_id=job.unit_id,
        target_type="job",
        target_id=job.id,
        filename=job.filename,
        error_count=len(errors),
    )
    db.session.flush()


def _lock_county(unit: Unit) -> None:
    """One import per county at a time: two at once would both plan the same new classes."""
    county_id = unit.id if unit.type == "county" else unit.parent_id
    db.session.execute(
        select(Unit.id).where(Unit.id == county_id).with_for_update(key_share=True)
    ).all()


# --- phase 2 -------------------------------------------------------------------------------------


def _apply(job: Job, plan: Plan, progress: Progress) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for place in plan.places:  # grades come before their classes
        parent = place.parent.unit if place.parent is not None else place.school
        assert parent is not None
        place.unit = org.create_unit(
            actor=None,
            parent=parent,
            name=place.name,
            code=place.code,
            grade_level=place.grade_level,
        )
        counts["grades_created" if parent.type == "school" else "classes_created"] += 1
    changed: set[int] = set()  # ids (of Person objects) of existing people who changed
    created: set[int] = set()
    # Each step flushes once at its end; autoflush would flush one row at a time instead.
    with db.session.no_autoflush:
        _write_accounts(plan, progress, changed, created)
        moved_students = _write_roles(plan, changed, created)
        progress(88)
        counts["links_created"] = _write_links(plan, changed, created)
        _sync_guardian_roles(plan, moved_students, changed, created)
        counts["slips"] = len(slips.create_for_import(job=job, plan=plan, created=created))
    progress(95)
    for person in plan.people:
        label = {Role.STUDENT: "students", Role.TEACHER: "teachers"}.get(
            Role(person.role), "guardians"
        )
        state = (
            "created"
            if id(person) in created
            else "updated"
            if id(person) in changed
            else "unchanged"
        )
        counts[f"{label}_{state}"] += 1
    counts["rows"] = plan.rows
    for key in (
        "students_created",
        "students_updated",
        "students_unchanged",
        "teachers_created",
        "teachers_updated",
        "teachers_unchanged",
        "guardians_created",
        "guardians_updated",
        "guardians_unchanged",
        "grades_created",
        "classes_created",
        "slips",
    ):
        counts.setdefault(key, 0)
    return dict(counts)


def _write_accounts(plan: Plan, progress: Progress, changed: set[int], created: set[int]) -> None:
    # phones that move between existing accounts are cleared first: a swap must not collide
    moving = [
        p for p in plan.people if p.existing is not None and p.phone and p.existing.phone != p.phone
    ]
    for person in moving:
        assert person.existing is not None
        person.existing.phone = None
    if moving:
        db.session.flush()
    total = max(1, len(plan.people))
    for index, person in enumerate(plan.people):
        user = person.existing
        if user is None:
            user = User(
                roles=[],  # known empty: appending a role must not load it from the database
                username=person.key,
                display_name=person.name,
                phone=person.phone,
                external_id=None if person.role == Role.GUARDIAN else person.key,
                # no password until the importer opens the class's account slip (service.slips)
                password_hash=accounts.UNUSABLE_PASSWORD,
                must_change_password=True,
                is_active_account=True,
                failed_login_count=0,
            )
            db.session.add(user)
            person.existing = user
            created.add(id(person))
        else:
            if person.may_rename and user.display_name != person.name:
                user.display_name = person.name
                changed.add(id(person))
            if person in moving:
                user.phone = person.phone
                changed.add(id(person))
        if index % 250 == 0:
            progress(20 + int(60 * index / total))
    db.session.flush()
    progress(80)


def _write_roles(plan: Plan, changed: set[int], created: set[int]) -> set[int]:
    """Students and teachers hold their role exactly at the places the file gives, in the school."""
    moved: set[int] = set()
    for person in plan.people:
        if person.role == Role.GUARDIAN:
            continue
        user = person.existing
        assert user is not None
        wanted = {(place.unit if place is not None else person.school) for place in person.places}
        wanted_ids = {u.id for u in wanted if u is not None}
        current = [
            a for a in user.roles if a.role == person.role and a.unit.is_within(person.school)
        ]
        for assignment in current:
            if assignment.unit_id not in wanted_ids:
                user.roles.remove(assignment)
                changed.add(id(person))
                if person.role == Role.STUDENT:
                    moved.add(user.id)
        have = {a.unit_id for a in current}
        for unit in wanted:
            assert unit is not None
            if unit.id not in have:
                user.roles.append(RoleAssignment(role=person.role, unit=unit))
                if id(person) not in created:
                    changed.add(id(person))
    db.session.flush()
    return moved


def _students_by_key(plan: Plan) -> dict[str, User]:
    found = {p.key: p.existing for p in plan.people if p.role == Role.STUDENT and p.existing}
    return {**plan.school_students, **found}


def _chunks(values: list[int], size: int = 1000) -> Iterable[list[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _write_links(plan: Plan, changed: set[int], created: set[int]) -> int:
    guardians = [p for p in plan.people if p.role == Role.GUARDIAN]
    students = _students_by_key(plan)
    ids = sorted({g.existing.id for g in guardians if g.existing is not None})
    existing: dict[tuple[int, int], GuardianLink] = {}
    for chunk in _chunks(ids):
        for link in db.session.scalars(
            select(GuardianLink).where(GuardianLink.guardian_id.in_(chunk))
        ):
            existing[(link.guardian_id, link.student_id)] = link
    added = 0
    for guardian in guardians:
        assert guardian.existing is not None
        for student_key, (relation, _row) in guardian.children.items():
            student = students[student_key]
            found = existing.get((guardian.existing.id, student.id))
            if found is None:
                db.session.add(
                    GuardianLink(
                        guardian_id=guardian.existing.id, student_id=student.id, relation=relation
                    )
                )
                added += 1
                if id(guardian) not in created:
                    changed.add(id(guardian))
            elif found.relation != relation:
                found.relation = relation
                changed.add(id(guardian))
    db.session.flush()
    return added


def _sync_guardian_roles(
    plan: Plan, moved_students: set[int], changed: set[int], created: set[int]
) -> None:
    """A guardian holds the guardian role at the classes of their children, in these schools."""
    people = {g.existing.id: g for g in plan.people if g.role == Role.GUARDIAN and g.existing}
    ids = set(people)
    for chunk in _chunks(sorted(moved_students)):
        ids.update(
            db.session.scalars(
                select(GuardianLink.guardian_id).where(GuardianLink.student_id.in_(chunk))
            )
        )
    if not ids:
        return
    in_schools = or_(*[Unit.path.startswith(school.path) for school in plan.schools])
    wanted: dict[int, set[int]] = {}
    users: dict[int, User] = {}
    for chunk in _chunks(sorted(ids)):
        for guardian_id, unit_id in db.session.execute(
            select(GuardianLink.guardian_id, RoleAssignment.unit_id)
            .join(RoleAssignment, RoleAssignment.user_id == GuardianLink.student_id)
            .join(Unit, Unit.id == RoleAssignment.unit_id)
            .where(
                GuardianLink.guardian_id.in_(chunk),
                RoleAssignment.role == Role.STUDENT,
                in_schools,
            )
        ):
            wanted.setdefault(guardian_id, set()).add(unit_id)
        for user in db.session.scalars(select(User).where(User.id.in_(chunk))):
            users[user.id] = user
    school_paths = [school.path for school in plan.schools]
    for user_id, user in users.items():
        target = wanted.get(user_id, set())
        current = [
            a
            for a in user.roles
            if a.role == Role.GUARDIAN and any(a.unit.path.startswith(p) for p in school_paths)
        ]
        person = people.get(user_id)
        for assignment in current:
            if assignment.unit_id not in target:
                user.roles.remove(assignment)
                if person is not None:
                    changed.add(id(person))
        have = {a.unit_id for a in current}
        for unit_id in sorted(target - have):
            user.roles.append(RoleAssignment(role=Role.GUARDIAN, unit_id=unit_id))
            if person is not None and id(person) not in created:
                changed.add(id(person))
    db.session.flush()
