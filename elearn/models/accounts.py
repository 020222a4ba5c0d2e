"""People, the roles they hold at org nodes, guardianship, login sessions and API tokens."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from elearn.extensions import Model
from elearn.models._types import UTCDateTime, utcnow
from elearn.models.org import Unit


class Role(enum.StrEnum):
    STUDENT = "student"
    GUARDIAN = "guardian"
    TEACHER = "teacher"
    SCHOOL_ADMIN = "school_admin"
    COUNTY_ADMIN = "county_admin"
    PREFECTURE_ADMIN = "prefecture_admin"
    EXPERT = "expert"


ADMIN_ROLES = frozenset({Role.SCHOOL_ADMIN, Role.COUNTY_ADMIN, Role.PREFECTURE_ADMIN})


class User(UserMixin, Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    #: where e-mail notices go (the person's own choice, on the notification settings page)
    email: Mapped[str | None] = mapped_column(String(254))
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    #: student number (学籍号) or staff number from the roster; re-imports key on it
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    is_active_account: Mapped[bool] = mapped_column(Boolean, default=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_login_count: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    roles: Mapped[list[RoleAssignment]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    __allow_unmapped__ = True
    #: set when the user was loaded through a login session (not a column)
    current_session_id: str | None = None

    @property
    def is_active(self) -> bool:  # Flask-Login asks this
        return self.is_active_account

    def get_id(self) -> str:
        # Flask-Login keeps this in the cookie: the login session's id, never the user's id, so a
        # revoked session (logout, admin reset) stops a copied cookie at once.
        return self.current_session_id or ""

    def has_role(self, *roles: str) -> bool:
        return any(assignment.role in roles for assignment in self.roles)

    def units_for(self, *roles: str) -> list[Unit]:
        return [a.unit for a in self.roles if a.role in roles]

    def __repr__(self) -> str:
        return f"<User {self.id} {self.username}>"


class RoleAssignment(Model):
    """One role held at one org node; a person may hold several."""

    __tablename__ = "role_assignments"
    __table_args__ = (
        UniqueConstraint("user_id", "role", "unit_id"),
        Index("ix_role_assignments_unit_role", "unit_id", "role"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(24))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship(back_populates="roles")
    unit: Mapped[Unit] = relationship(lazy="joined")


class GuardianLink(Model):
    """A guardian (家长) of a student, with the relation (父亲, 母亲, …).

    The roster import is the carrier's, so the link lives here; ``parents`` builds on it.
    """

    __tablename__ = "guardian_links"
    __table_args__ = (UniqueConstraint("guardian_id", "student_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guardian_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    relation: Mapped[str] = mapped_column(String(16))

    guardian: Mapped[User] = relationship(foreign_keys=[guardian_id])
    student: Mapped[User] = relationship(foreign_keys=[student_id])


class UserSession(Model):
    """A login session; the cookie carries its token, the table only the token's hash."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))

    user: Mapped[User] = relationship()


class ApiToken(Model):
    """A bearer token for API clients; only its hash is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()
