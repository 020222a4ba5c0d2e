"""Accounts: passwords, login with lockout, sessions that logout really ends, API tokens, roles."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import ScalarSelect, or_, select
from sqlalchemy.orm import joinedload, lazyload
from werkzeug.security import check_password_hash, generate_password_hash

from elearn.extensions import db
from elearn.models import ApiToken, Role, RoleAssignment, Unit, User, UserSession
from elearn.models._types import aware
from elearn.models.accounts import ADMIN_ROLES
from elearn.service import audit
from elearn.service.errors import ServiceError

PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
MIN_PASSWORD_LENGTH = 8
#: a hash no password matches, for accounts that must be given one by an admin
UNUSABLE_PASSWORD = "!unusable"

#: which unit type each role is held at
ROLE_UNIT_TYPES: dict[str, frozenset[str]] = {
    Role.STUDENT: frozenset({"class"}),
    Role.GUARDIAN: frozenset({"class"}),
    Role.TEACHER: frozenset({"school", "grade", "class"}),
    Role.SCHOOL_ADMIN: frozenset({"school"}),
    Role.COUNTY_ADMIN: frozenset({"county"}),
    Role.PREFECTURE_ADMIN: frozenset({"prefecture"}),
    Role.EXPERT: frozenset({"prefecture", "county"}),
}


def _now() -> datetime:
    return datetime.now(UTC)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def normalise_phone(raw: str) -> str:
    return re.sub(r"[\s\-]", "", raw or "").removeprefix("+86")


def validate_phone(raw: str) -> str:
    """Return the phone number normalised, or raise with a message saying what is wrong."""
    phone = normalise_phone(raw)
    if not PHONE_RE.match(phone):
        raise ServiceError(_("Phone number %(phone)s is not an 11-digit mobile number.", phone=raw))
    return phone


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ServiceError(
            _("The password must be at least %(n)d characters long.", n=MIN_PASSWORD_LENGTH),
            field="new_password",
        )


def create_user(
    *,
    username: str,
    display_name: str,
    password: str | None,
    phone: str | None = None,
    external_id: str | None = None,
    must_change_password: bool = False,
) -> User:
    """Add a user; a ``None`` password leaves the account unusable until an admin sets one."""
    user = User(
        username=username,
        display_name=display_name,
        password_hash=hash_password(password) if password else UNUSABLE_PASSWORD,
        phone=validate_phone(phone) if phone else None,
        external_id=external_id,
        must_change_password=must_change_password,
        is_active_account=True,
        failed_login_count=0,
    )
    db.session.add(user)
    db.session.flush()
    return user


def assign_role(*, actor: User | None, user: User, role: str, unit: Unit) -> RoleAssignment:
    """Give ``user`` a role at ``unit`` (idempotent); audited."""
    if role not in ROLE_UNIT_TYPES:
        raise ServiceError(_("Unknown role."))
    if unit.type not in ROLE_UNIT_TYPES[role]:
        raise ServiceError(_("This role cannot be held at this kind of unit."))
    existing = db.session.scalar(
        select(RoleAssignment).filter_by(user_id=user.id, role=role, unit_id=unit.id)
    )
    if existing is not None:
        return existing
    assignment = RoleAssignment(user=user, role=role, unit=unit)
    db.session.add(assignment)
    db.session.flush()
    if actor is not None:
        audit.record(
            "role.granted",
            actor=actor,
            unit_id=unit.id,
            target_type="user",
            target_id=user.id,
            role=role,
        )
    return assignment


def revoke_role(*, actor: User, assignment: RoleAssignment) -> None:
    """Take a role away; audited."""
    audit.record(
        "role.revoked",
        actor=actor,
        unit_id=assignment.unit_id,
        target_type="user",
        target_id=assignment.user_id,
        role=assignment.role,
    )
    db.session.delete(assignment)
    db.session.flush()


def home_unit_id(user: User) -> int | None:
    """The unit an event about this user is filed under in the audit log (their highest role)."""
    if not user.roles:
        return None
    return min(user.roles, key=lambda a: len(a.unit.path)).unit_id


def find_login(login: str) -> User | None:
    """The user whose username or phone number is ``login``."""
    login = (login or "").strip()
    if not login:
        return None
    phone = normalise_phone(login)
    return db.session.scalar(
        select(User).where(or_(User.username == login, User.phone == phone)).limit(1)
    )


@dataclass
class LoginResult:
    user: User | None
    error: str | None
    first_login: bool = False


def authenticate(
    login: str, password: str, *, ip: str | None, max_failures: int, lock_minutes: int
) -> LoginResult:
    """Check credentials with a per-account lockout; record the outcome in the audit log."""
    user = find_login(login)
    now = _now()
    if user is None:
        audit.record("login.failed", actor=None, ip=ip, login=login[:64], reason="unknown")
        return LoginResult(None, _("Wrong username or password."))
    locked_until = aware(user.locked_until)
    if locked_until is not None and locked_until > now:
        audit.record("login.locked", actor=user, ip=ip, unit_id=home_unit_id(user))
        minutes = max(1, int((locked_until - now).total_seconds() // 60) + 1)
        return LoginResult(
            None,
            _(
                "This account is locked after too many wrong passwords. Try again in "
                "%(minutes)d minutes, or ask your school admin to reset the password.",
                minutes=minutes,
            ),
        )
    if not user.is_active_account:
        audit.record(
            "login.failed", actor=user, ip=ip, reason="inactive", unit_id=home_unit_id(user)
        )
        return LoginResult(None, _("This account is disabled. Ask your school admin."))
    if user.password_hash == UNUSABLE_PASSWORD or not check_password_hash(
        user.password_hash, password
    ):
        user.failed_login_count = (user.failed_login_count or 0) + 1
        if user.failed_login_count >= max_failures:
            user.locked_until = now + timedelta(minutes=lock_minutes)
            user.failed_login_count = 0
            audit.record("login.lockout", actor=user, ip=ip, unit_id=home_unit_id(user))
            return LoginResult(
                None,
                _(
                    "Too many wrong passwords: this account is locked for %(minutes)d minutes.",
                    minutes=lock_minutes,
                ),
            )
        audit.record(
            "login.failed", actor=user, ip=ip, reason="password", unit_id=home_unit_id(user)
        )
        return LoginResult(None, _("Wrong username or password."))
    user.failed_login_count = 0
    user.locked_until = None
    first_login = user.activated_at is None
    if first_login:
        user.activated_at = now
    user.last_login_at = now
    audit.record("login.succeeded", actor=user, ip=ip, unit_id=home_unit_id(user))
    db.session.flush()
    return LoginResult(user, None, first_login=first_login)


def start_session(*, user: User, ip: str | None, user_agent: str | None) -> str:
    """Open a login session; returns the token the cookie carries."""
    token = secrets.token_urlsafe(32)
    db.session.add(
        UserSession(
            token_hash=hash_token(token),
            user_id=user.id,
            ip=ip,
            user_agent=(user_agent or "")[:255],
        )
    )
    db.session.flush()
    user.current_session_id = token
    return token


def load_session_user(token: str) -> User | None:
    """The user of a live login session, or None when the session is unknown or ended."""
    if not token:
        return None
    # the login row, its user and the roles (pages need them) in one round trip, not three:
    # every page request and every live event re-checks its login
    row = (
        db.session.execute(
            select(UserSession)
            .where(UserSession.token_hash == hash_token(token), UserSession.revoked_at.is_(None))
            .options(joinedload(UserSession.user).joinedload(User.roles))
        )
        .unique()
        .scalar_one_or_none()
    )
    if row is None or not row.user.is_active_account:
        return None
    row.user.current_session_id = token
    return row.user


def end_session(token: str | None, *, user: User | None = None) -> None:
    """Revoke one login session so its cookie stops working everywhere."""
    if not token:
        return
    row = db.session.scalar(select(UserSession).where(UserSession.token_hash == hash_token(token)))
    if row is not None and row.revoked_at is None:
        row.revoked_at = _now()
        audit.record("logout", actor=user or row.user, unit_id=home_unit_id(row.user))
    db.session.flush()


def end_all_sessions(user: User) -> None:
    """Revoke every login session and API token of a user (password reset, disabling)."""
    now = _now()
    for row in db.session.scalars(
        select(UserSession).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
    ):
        row.revoked_at = now
    for token in db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ):
        token.revoked_at = now
    db.session.flush()


def issue_api_token(*, user: User, hours: int) -> tuple[str, datetime]:
    """A new bearer token for ``user`` and the moment it expires."""
    token = secrets.token_urlsafe(32)
    expires_at = _now() + timedelta(hours=hours)
    db.session.add(ApiToken(token_hash=hash_token(token), user_id=user.id, expires_at=expires_at))
    db.session.flush()
    return token, expires_at


@dataclass
class TokenCheck:
    user: User | None
    error: str | None


def load_token_user(token: str) -> TokenCheck:
    """The user of a bearer token, or why it is refused."""
    # one query for the token and its user; the user's roles load when first used (not every
    # API request needs them), not eagerly with each one
    found = db.session.execute(
        select(User, ApiToken.revoked_at, ApiToken.expires_at)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == hash_token(token))
        .options(lazyload(User.roles))
    ).one_or_none()
    if found is None or found.revoked_at is not None:
        return TokenCheck(None, _("The access token is not valid. Request a new one."))
    if aware(found.expires_at) <= _now():  # type: ignore[operator]
        return TokenCheck(None, _("The access token has expired. Request a new one."))
    if not found.User.is_active_account:
        return TokenCheck(None, _("This account is disabled. Ask your school admin."))
    return TokenCheck(found.User, None)


@dataclass(frozen=True)
class BearerToken:
    """A request's bearer token, not looked up yet: the statement that acts checks it too.

    For the hottest writes (an answer autosave), where a separate lookup of the token and its
    user would cost more than the write itself. ``check`` says why a refused token was refused.
    """

    token: str

    @property
    def hash(self) -> str:
        return hash_token(self.token)

    @staticmethod
    def user_id_of(token_hash: Any, now: Any) -> ScalarSelect[int]:
        """The user of a valid token as a scalar subquery (NULL unless valid at ``now``); the
        arguments are values or bound parameters, for a statement built once and reused."""
        return (
            select(ApiToken.user_id)
            .join(User, User.id == ApiToken.user_id)
            .where(
                ApiToken.token_hash == token_hash,
                ApiToken.revoked_at.is_(None),
                ApiToken.expires_at > now,
                User.is_active_account.is_(True),
            )
            .scalar_subquery()
        )

    def check(self) -> TokenCheck:
        return load_token_user(self.token)


def change_password(*, user: User, current: str, new: str) -> None:
    """The user changes their own password (knowing the current one)."""
    if not check_password_hash(user.password_hash, current):
        raise ServiceError(_("The current password is wrong."), field="current_password")
    check_new_password(new)
    user.password_hash = hash_password(new)
    user.must_change_password = False
    audit.record(
        "password.changed",
        actor=user,
        target_type="user",
        target_id=user.id,
        unit_id=home_unit_id(user),
    )
    db.session.flush()


def reset_password(*, actor: User, user: User, new: str, unit_id: int | None) -> None:
    """An admin sets a new password; the user must change it and every session ends."""
    check_new_password(new)
    user.password_hash = hash_password(new)
    user.must_change_password = True
    user.failed_login_count = 0
    user.locked_until = None
    end_all_sessions(user)
    audit.record(
        "password.reset", actor=actor, unit_id=unit_id, target_type="user", target_id=user.id
    )
    db.session.flush()


def is_admin(user: User) -> bool:
    return user.has_role(*ADMIN_ROLES)
