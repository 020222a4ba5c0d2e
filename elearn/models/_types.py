"""Column helpers shared by the carrier's models."""

from datetime import UTC, datetime
from typing import Any, overload

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

#: the largest value of an Integer column (PostgreSQL's integer): keys, sequence numbers
INT_MAX = 2**31 - 1
#: the largest BIGINT key
BIGINT_MAX = 2**63 - 1


def utcnow() -> datetime:
    return datetime.now(UTC)


@overload
def aware(moment: datetime) -> datetime: ...
@overload
def aware(moment: None) -> None: ...
@overload
def aware(moment: datetime | None) -> datetime | None: ...
def aware(moment: datetime | None) -> datetime | None:
    """A time with its zone: a naive one is taken as UTC (every stored time is)."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


class UTCDateTime(TypeDecorator[datetime]):
    """A moment, kept as UTC and handed back aware (UTC) on PostgreSQL and SQLite alike.

    PostgreSQL keeps the offset (``TIMESTAMP WITH TIME ZONE``, the same column as before). SQLite
    keeps text without one, and SQLAlchemy's SQLite ``DateTime`` drops an offset instead of
    converting: 20:43+08:00 would be stored, and read back, as 20:43 UTC. So every value is
    converted to UTC on the way in, and a naive value is refused, since nobody can tell which
    zone's 20:43 it was (pages convert what people type with ``elearn.localtime``). On the way out
    SQLite's text is UTC by construction, and PostgreSQL's answer in its session zone is turned
    into UTC, so comparisons and arithmetic never meet a naive or a foreign-zone value.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"a UTCDateTime column takes a datetime, not {type(value).__name__}")
        if value.utcoffset() is None:
            raise ValueError(
                f"naive datetime {value.isoformat()} for a UTC column: give it a zone "
                "(elearn.localtime.from_local for a time typed in a page)"
            )
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
