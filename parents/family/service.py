"""Linking guardians to students: invite codes, redeeming them, the school's confirmation, and
unlinking (an audited admin action). Functions take an explicit actor, flush, never commit.

A code is 8 characters from an alphabet without look-alikes (no 0/O, 1/I/L), drawn with
``secrets``: 31⁸ ≈ 8.5 × 10¹¹ codes, with redeeming rate-limited per account. Only its SHA-256 is
stored, so a database dump does not hold usable codes. A code is valid for ``INVITE_DAYS`` and
used once; a wrong child name leaves it unused (and writes nothing), an expired or used one is
refused.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select

from courses.models import LessonProgress
from elearn import permissions
from elearn.extensions import db
from elearn.models import GuardianLink, Notification, Role, RoleAssignment, Unit, User
from elearn.models._types import aware
from elearn.service import audit, notifications
from elearn.service.errors import Forbidden, NotFound, ServiceError
from parents.family.models import GuardianInvite, InviteStatus
from quizzes.models import AttemptState, QuizAttempt

INVITE_DAYS = 7
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
#: the relations a guardian may name (data, as the roster writes them)
RELATIONS = ("父亲", "母亲", "祖父母", "外祖父母", "其他监护人")
_SEPARATORS = re.compile(r"[\s·•・．.\-_]+")


def _now(now: datetime | None = None) -> datetime:
    return now or datetime.now(UTC)


def normalise_code(raw: str) -> str:
    """What the guardian typed, as the code: upper case, without spaces or dashes."""
    return re.sub(r"[\s\-]+", "", unicodedata.normalize("NFKC", raw or "")).upper()


def code_hash(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


def display_code(code: str) -> str:
    """ABCD-EFGH: easier to read out and type."""
    return f"{code[:4]}-{code[4:]}"


def normalise_name(raw: str) -> str:
    """A name as compared: NFKC (full-width letters), no spaces or middle dots, case-folded."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", raw or "")).casefold()


def student_class(student: User) -> Unit | None:
    """The class a student is enrolled in (their first student role)."""
    units = sorted(student.units_for(Role.STUDENT), key=lambda unit: unit.path)
    return units[0] if units else None


def _is_student(user: User | None) -> bool:
    return user is not None and user.has_role(Role.STUDENT)


def may_manage(actor: User, klass: Unit) -> bool:
    """A teacher of the class (at the class, or at a grade or the school above it) or an admin
    over it issues codes and confirms links there."""
    for assignment in actor.roles:
        unit = assignment.unit
        if (
            assignment.role == Role.TEACHER
            and klass.path.startswith(unit.path)
            and unit.path.startswith(klass.school_path)
        ):
            return True
    return any(klass.path.startswith(path) for path in permissions.admin_paths(actor))


def may_unlink(actor: User, klass: Unit) -> bool:
    """Unlinking is an admin's act (school admin or above)."""
    return any(klass.path.startswith(path) for path in permissions.admin_paths(actor))


def managed_student(actor: User, student_id: int | None) -> tuple[User, Unit]:
    """The student and their class, when the actor may issue codes for them; else 404 (another
    school's student is not there for them)."""
    student = db.session.get(User, student_id) if student_id else None
    klass = student_class(student) if student is not None and _is_student(student) else None
    if student is None or klass is None or not may_manage(actor, klass):
        raise NotFound(_("There is no such student in your classes."))
    return student, klass


@dataclass(frozen=True)
class IssuedInvite:
    invite: GuardianInvite
    #: the code itself, shown once (only its hash is stored)
    code: str

    @property
    def display(self) -> str:
        return display_code(self.code)


def issue_invite(
    *, actor: User, student: User, phone: str | None = None, now: datetime | None = None
) -> IssuedInvite:
    """A new one-use code for a guardian of ``student``, valid ``INVITE_DAYS`` days."""
    klass = student_class(student)
    if klass is None or not may_manage(actor, klass):
        raise NotFound(_("There is no such student in your classes."))
    phone = (phone or "").strip() or None
    if phone is not None and not re.fullmatch(r"\+?\d{5,20}", phone):
        raise ServiceError(_("The phone number is not valid."))
    code = "".join(secrets.choice(CODE_ALPHABET) for _i in range(CODE_LENGTH))
    invite = GuardianInvite(
        code_hash=code_hash(code),
        student_id=student.id,
        unit_id=klass.id,
        issued_by_id=actor.id,
        phone=phone,
        status=InviteStatus.OPEN,
        created_at=_now(now),
        expires_at=_now(now) + timedelta(days=INVITE_DAYS),
    )
    db.session.add(invite)
    db.session.flush()
    return IssuedInvite(invite=invite, code=code)


def _roster_phones(student: User) -> set[str]:
    """The phones the school has for this student's guardians (the roster's)."""
    return {
        phone
        for phone in db.session.scalars(
            select(User.phone)
            .join(GuardianLink, GuardianLink.guardian_id == User.id)
            .where(GuardianLink.student_id == student.id, User.phone.is_not(None))
        )
        if phone
    }


def _link(guardian: User, student: User, relation: str, klass: Unit) -> None:
    """The link, and the guardian role at the child's class (as the roster gives it)."""
    found = db.session.scalar(
        select(GuardianLink).filter_by(guardian_id=guardian.id, student_id=student.id)
    )
    if found is None:
        db.session.add(
            GuardianLink(guardian_id=guardian.id, student_id=student.id, relation=relation)
        )
    else:
        found.relation = relation
    if not any(a.role == Role.GUARDIAN and a.unit_id == klass.id for a in guardian.roles):
        guardian.roles.append(RoleAssignment(role=Role.GUARDIAN, unit_id=klass.id))
    db.session.flush()


def redeem(
    *,
    actor: User,
    code: str,
    child_name: str,
    relation: str,
    now: datetime | None = None,
) -> GuardianInvite:
    """A guardian redeems a code with the child's name and their relation: linked at once when
    their phone is one the school has for the child, else pending the school's confirmation.

    Unknown code: 404; expired: 410; used: 409; a name that is not the child's or an unknown
    relation: 400. Nothing is written unless it succeeds.
    """
    if not actor.has_role(Role.GUARDIAN):
        raise Forbidden(_("Only a guardian's account can redeem an invite code."))
    if relation not in RELATIONS:
        raise ServiceError(_("Choose your relation to the child."))
    normalised = normalise_code(code)
    if len(normalised) != CODE_LENGTH:
        raise NotFound(_("This invite code is not valid. Check it and try again."))
    invite = db.session.scalar(
        select(GuardianInvite)
        .filter_by(code_hash=code_hash(normalised))
        .with_for_update(of=GuardianInvite)
    )
    if invite is None:
        raise NotFound(_("This invite code is not valid. Check it and try again."))
    if invite.status != InviteStatus.OPEN:
        raise ServiceError(_("This invite code has been used already."), status=409)
    if aware(invite.expires_at) <= _now(now):
        raise ServiceError(
            _("This invite code has expired. Ask the teacher for a new one."), status=410
        )
    student = invite.student
    if not child_name or normalise_name(child_name) != normalise_name(student.display_name):
        raise ServiceError(_("The child's name does not match this invite code."))
    if invite.student_id == actor.id:
        raise ServiceError(_("You cannot link yourself as your own guardian."))
    already = db.session.scalar(
        select(GuardianLink.id).filter_by(guardian_id=actor.id, student_id=student.id)
    )
    if already is not None:
        raise ServiceError(_("This child is linked to your account already."), status=409)
    phones = _roster_phones(student) | ({invite.phone} if invite.phone else set())
    invite.guardian_id = actor.id
    invite.relation = relation
    invite.redeemed_at = _now(now)
    if actor.phone and actor.phone in phones:
        invite.status = InviteStatus.LINKED
        invite.decided_at = _now(now)
        _link(actor, student, relation, invite.unit)
    else:
        invite.status = InviteStatus.PENDING
    db.session.flush()
    return invite


def decide(
    *, actor: User, invite: GuardianInvite, approve: bool, now: datetime | None = None
) -> GuardianInvite:
    """The school confirms (links) or refuses a pending request."""
    if not may_manage(actor, invite.unit):
        raise NotFound(_("There is no such request."))
    if invite.status != InviteStatus.PENDING or invite.guardian is None:
        raise ServiceError(_("This request has been decided already."), status=409)
    invite.decided_by_id = actor.id
    invite.decided_at = _now(now)
    if approve:
        invite.status = InviteStatus.LINKED
        _link(invite.guardian, invite.student, invite.relation or RELATIONS[-1], invite.unit)
    else:
        invite.status = InviteStatus.REJECTED
    audit.record(
        "parents.guardian_link_confirmed" if approve else "parents.guardian_link_refused",
        actor=actor,
        unit_id=invite.unit_id,
        target_type="user",
        target_id=invite.student_id,
        guardian_id=invite.guardian_id,
        relation=invite.relation,
    )
    db.session.flush()
    return invite


def unlink(*, actor: User, guardian: User, student: User) -> None:
    """An admin removes a guardian's link to a student (audited); the guardian role at the
    child's class goes too when no other linked child is in that class."""
    klass = student_class(student)
    link = db.session.scalar(
        select(GuardianLink).filter_by(guardian_id=guardian.id, student_id=student.id)
    )
    if klass is None or link is None or not may_unlink(actor, klass):
        raise NotFound(_("There is no such link."))
    relation = link.relation
    db.session.delete(link)
    db.session.flush()
    others = db.session.scalars(
        select(RoleAssignment.unit_id)
        .join(GuardianLink, GuardianLink.student_id == RoleAssignment.user_id)
        .where(GuardianLink.guardian_id == guardian.id, RoleAssignment.role == Role.STUDENT)
    ).all()
    for assignment in list(guardian.roles):
        if (
            assignment.role == Role.GUARDIAN
            and assignment.unit_id == klass.id
            and klass.id not in others
        ):
            guardian.roles.remove(assignment)
    audit.record(
        "parents.guardian_unlinked",
        actor=actor,
        unit_id=klass.id,
        target_type="user",
        target_id=student.id,
        guardian_id=guardian.id,
        relation=relation,
    )
    db.session.flush()


def child_of(guardian: User, child_id: int | None) -> tuple[User, str]:
    """One of the guardian's linked children (and the relation), else 404."""
    row = (
        db.session.execute(
            select(User, GuardianLink.relation)
            .join(GuardianLink, GuardianLink.student_id == User.id)
            .where(GuardianLink.guardian_id == guardian.id, User.id == child_id)
        ).first()
        if child_id
        else None
    )
    if row is None:
        raise NotFound(_("There is no such child linked to your account."))
    return row[0], row[1]


# --- the weekly digest -------------------------------------------------------------------------

DIGEST_KIND = "course.family_weekly"
DIGEST_DAYS = 7


def send_weekly_digests(*, now: datetime | None = None, batch: int = 1000) -> int:
    """One in-app notice to each active guardian with a linked child: per child, the lessons
    completed and the quizzes finished in the past week (kind ``course.family_weekly``, so the
    course category's channel choices apply). A guardian who got one in the past 6 days is
    skipped, so a second run of the beat sends nothing twice. Returns how many were sent."""
    now = _now(now)
    since = now - timedelta(days=DIGEST_DAYS)
    recent = (
        select(Notification.user_id)
        .where(Notification.kind == DIGEST_KIND, Notification.created_at > now - timedelta(days=6))
        .scalar_subquery()
    )
    links = db.session.execute(
        select(GuardianLink.guardian_id, User.id, User.display_name)
        .join(User, User.id == GuardianLink.student_id)
        .join(RoleAssignment, RoleAssignment.user_id == GuardianLink.guardian_id)
        .where(
            RoleAssignment.role == Role.GUARDIAN,
            GuardianLink.guardian_id.not_in(recent),
            GuardianLink.guardian_id.in_(
                select(User.id).where(User.is_active_account.is_(True)).scalar_subquery()
            ),
        )
        .distinct()
        .order_by(GuardianLink.guardian_id, User.display_name)
    ).all()
    by_guardian: dict[int, list[tuple[int, str]]] = {}
    for guardian_id, child_id, name in links:
        by_guardian.setdefault(guardian_id, []).append((child_id, name))
    child_ids = sorted({child_id for rows in by_guardian.values() for child_id, _n in rows})
    lessons: dict[int, int] = {}
    quizzes: dict[int, int] = {}
    for start in range(0, len(child_ids), batch):
        chunk = child_ids[start : start + batch]
        lessons.update(
            db.session.execute(
                select(LessonProgress.user_id, func.count())
                .where(LessonProgress.user_id.in_(chunk), LessonProgress.completed_at > since)
                .group_by(LessonProgress.user_id)
            ).all()
        )
        quizzes.update(
            db.session.execute(
                select(QuizAttempt.user_id, func.count())
                .where(
                    QuizAttempt.user_id.in_(chunk),
                    QuizAttempt.state == AttemptState.FINISHED,
                    QuizAttempt.finished_at > since,
                )
                .group_by(QuizAttempt.user_id)
            ).all()
        )
    link = notifications.path_for("family.index")
    sent = 0
    for guardian_id, rows in by_guardian.items():
        body = "\n".join(
            _("%(name)s: %(lessons)d lessons completed, %(quizzes)d quizzes finished this week.")
            % {"name": name, "lessons": lessons.get(cid, 0), "quizzes": quizzes.get(cid, 0)}
            for cid, name in rows
        )
        sent += notifications.notify(
            [guardian_id], kind=DIGEST_KIND, title=_("Your child's week"), body=body, link=link
        )
    return sent
