"""Column helpers shared by the carrier's models."""

from datetime import UTC, datetime

#: the largest value of an Integer column (PostgreSQL's integer): keys, sequence numbers
INT_MAX = 2**31 - 1


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime | None) -> datetime | None:
    """A stored time with its zone: SQLite hands back naive datetimes, and everything stored is UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment
