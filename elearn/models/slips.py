"""Account slips (账号单): the accounts a roster import created, whose passwords go out on paper."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from elearn.extensions import Model
from elearn.models._types import utcnow
from elearn.models.org import Unit


class AccountSlip(Model):
    """One class's new accounts (students and their parents), or a school's new teachers.

    It holds no password, not even encrypted: the passwords are made when the importing admin
    opens the slip, in the request that shows them, and kept nowhere but in their hashes.
    """

    __tablename__ = "account_slips"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str | None] = mapped_column(
        ForeignKey("jobs.id", ondelete="CASCADE"), index=True
    )
    #: the class (students and parents) or the school (teachers)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    #: "class" (students and their parents) or "teachers"
    kind: Mapped[str] = mapped_column(String(16))
    #: the only person who may open it: the admin who imported the roster
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    #: the accounts, in the order the slip lists them
    user_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: when it was shown (its passwords made); it is never shown again
    opened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    unit: Mapped[Unit] = relationship(lazy="joined", innerjoin=True)
