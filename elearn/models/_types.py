"""Column helpers shared by the carrier's models."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
