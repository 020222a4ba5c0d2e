"""Accounts: passwords, login under a throttle, sessions that logout and a password change really\nend, API tokens, roles."""

from __future__ import annotations

import functools
import hashlib
import math
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import ScalarSelect, or_, select
from sqlalchemy.orm import joinedload, lazyload
from werkzeug.security import check_password_hash, generate_password_hash

from elearn import permissions
from elearn.extensions import db
from elearn.models import ApiToken, Role, RoleAssignment, Unit, User, UserSession
from elearn.models._types import aware
from elearn.models.accounts import ADMIN_ROLES
from elearn.service import audit
from elearn.service.errors import Forbidden, ServiceError
from elearn.service.login_throttle import LoginThrottle, account_key

PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
MIN_PASSWORD_LENGTH = 8
#: a hash no password matches, for accounts that must be given one by an admin
UNUSABLE_PASSWORD = "!unusable"
#: initial passwords (roster accounts, resets): random, from letters and digits that can't be
#: mistaken for one another on a printed slip (no 0/o, 1/l/i)
INITIAL_PASSWORD_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
INITIAL_PASSWORD_LENGTH = 10
#: A random 50-bit password needs no slow hash to resist guessing from a stolen hash (a year of
#: a GPU's scrypt per account even at this cost); the full default cost (~0.2 s a hash) would
#: make a class's slip take seconds. Sign-in pads these to the default cost (``verify_password``).
INITIAL_PASSWORD_METHOD = "scrypt:1024:8:1"

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
    """Give ``user`` a role at ``unit`` (idempotent); audited. An actor (``None``: seeds, the
    CLI) gives admin and expert roles only below their own admin unit (``permissions.may_grant``)."""
    if role not in ROLE_UNIT_TYPES:
        raise ServiceError(_("Unknown role."))
    if unit.type not in ROLE_UNIT_TYPES[role]:
        raise ServiceError(_("This role cannot be held at this kind of unit."))
    if actor is not None and not permissions.may_grant(actor, role, unit):
        raise Forbidden(_cannot_grant(role))
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


def _cannot_grant(role: str) -> str:
    if role in permissions.GRANTED_FROM_ABOVE:
        return _(
            "Admin and expert roles are given only at units below the one you administer: "
            "ask the admin above you."
        )
    return _("You can give roles only within the units you administer.")


def revoke_role(*, actor: User, assignment: RoleAssignment) -> None:
    """Take a role away (who may give it may take it away); audited."""
    if not permissions.may_grant(actor, assignment.role, assignment.unit):
        raise Forbidden(_cannot_grant(assignment.role))
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
    #: the HTTP status of a refusal: 401, or 429 while the address must wait
    status: int = 401
    #: seconds to wait before the next try (429)
    retry_after: int = 0


@functools.cache
def _dummy_hash() -> str:
    """A hash at the default cost that no typed password matches (see ``verify_password``)."""
    return hash_password(secrets.token_urlsafe(32))


def verify_password(stored: str, password: str) -> bool:
    """Whether ``password`` matches the stored hash, in about the same time for every account.

    An unusable or cheaper hash (an account not given a password yet, a roster account's random
    initial one) is padded with a check at the default cost, as is a login that names nobody
    (``stored=UNUSABLE_PASSWORD``): the time of the answer must not tell which accounts exist.
    """
    default = _dummy_hash()
    if stored == UNUSABLE_PASSWORD or stored.split("$", 1)[0] != default.split("$", 1)[0]:
        check_password_hash(default, password)
        if stored == UNUSABLE_PASSWORD:
            return False
    return check_password_hash(stored, password)


def authenticate(
    login: str, password: str, *, ip: str | None, throttle: LoginThrottle
) -> LoginResult:
    """Check credentials under the sign-in throttle; record the outcome in the audit log.

    An unknown login and a real account are answered alike, in about the same time, whether
    the password is merely wrong or the address must wait (``login_throttle``).
    """
    user = find_login(login)
    key = account_key(
        user_id=user.id if user else None,
        password_hash=user.password_hash if user else None,
        login=login,
    )
    unit_id = home_unit_id(user) if user is not None else None
    wait = throttle.wait(key, ip)
    if wait:
        audit.record("login.throttled", actor=user, ip=ip, login=login[:64], unit_id=unit_id)
        return LoginResult(
            None,
            _(
                "Too many wrong passwords for this account. Try again in %(minutes)d minutes, "
                "or ask your school admin to reset the password.",
                minutes=max(1, math.ceil(wait / 60)),
            ),
            status=429,
            retry_after=wait,
        )
    if not verify_password(user.password_hash if user else UNUSABLE_PASSWORD, password):
        throttle.failed(key, ip)
        if user is None:
            audit.record("login.failed", actor=None, ip=ip, login=login[:64], reason="unknown")
        else:
            audit.record("login.failed", actor=user, ip=ip, reason="password", unit_id=unit_id)
        return LoginResult(None, _("Wrong username or password."))
    assert user is not None
    throttle.succeeded(key, ip)
    if not user.is_active_account:  # said only to whoever knows the password
        audit.record("login.failed", actor=user, ip=ip, reason="inactive", unit_id=unit_id)
        return LoginResult(None, _("This account is disabled. Ask your school admin."), status=403)
    now = _now()
    first_login = user.activated_at is None
    if first_login:
        user.activated_at = now
    user.last_login_at = now
    audit.record("login.succeeded", actor=user, ip=ip, unit_id=unit_id)
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


def end_all_sessions(user: User, *, keep: str | None = None) -> None:
    """Revoke every login session and API token of a user (password change or reset, disabling),
    except ``keep``: the session or token of the request that changed the password."""
    now = _now()
    kept = hash_token(keep) if keep else ""
    for row in db.session.scalars(
        select(UserSession).where(
            UserSession.user_id == user.id,
            UserSession.revoked_at.is_(None),
            UserSession.token_hash != kept,
        )
    ):
        row.revoked_at = now
    for token in db.session.scalars(
        select(ApiToken).where(
            ApiToken.user_id == user.id,
            ApiToken.revoked_at.is_(None),
            ApiToken.token_hash != kept,
        )
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
    if aware(found.expires_at) <= _now():
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
                # a must-change account's token only changes the password (elearn.auth)
                User.must_change_password.is_(False),
            )
            .scalar_subquery()
        )

    def check(self) -> TokenCheck:
        """The token's user, or why it is refused; a must-change account is a 403."""
        check = load_token_user(self.token)
        if check.user is not None and check.user.must_change_password:
            raise Forbidden(password_change_message())
        return check


def password_change_message() -> str:
    """What an account that must change its password is told by everything else (403)."""
    return _(
        "Change your password first: this account still has the password it was given. "
        "Send the new one to /api/v1/auth/password."
    )


def change_password(*, user: User, current: str, new: str, keep: str | None) -> None:
    """The user changes their own password (knowing the current one).

    Every other login session and API token of theirs ends (whoever else knew the old password
    is signed out everywhere); ``keep``, the credential of the request making the change, stays.
    The boundary then sends ``signals.password_changed`` so their sockets close too.
    """
    if not verify_password(user.password_hash, current):
        raise ServiceError(_("The current password is wrong."), field="current_password")
    check_new_password(new)
    if new == current:
        raise ServiceError(
            _("Choose a new password, not the one you have now."), field="new_password"
        )
    user.password_hash = hash_password(new)
    user.must_change_password = False
    end_all_sessions(user, keep=keep)
    audit.record(
        "password.changed",
        actor=user,
        target_type="user",
        target_id=user.id,
        unit_id=home_unit_id(user),
    )
    db.session.flush()


def new_initial_password() -> str:
    """A random initial password: ten characters no one confuses on paper (about 50 bits)."""
    return "".join(
        secrets.choice(INITIAL_PASSWORD_ALPHABET) for _place in range(INITIAL_PASSWORD_LENGTH)
    )


def hash_initial_password(password: str) -> str:
    return generate_password_hash(password, method=INITIAL_PASSWORD_METHOD)


def give_initial_password(*, actor: User, user: User, unit_id: int | None) -> str:
    """A new random password the user must change at first sign-in; every session of theirs
    ends. Returns the password: the caller shows it once and keeps it nowhere."""
    password = new_initial_password()
    user.password_hash = hash_initial_password(password)
    user.must_change_password = True
    end_all_sessions(user)
    audit.record(
        "password.reset", actor=actor, unit_id=unit_id, target_type="user", target_id=user.id
    )
    db.session.flush()
    return password


def is_admin(user: User) -> bool:
    return user.has_role(*ADMIN_ROLES)
