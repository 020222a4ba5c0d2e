"""Times as people type and read them, and as the database keeps them.

People work in the installation's zone (``ELEARN_TIMEZONE``, Asia/Shanghai unless set): a
teacher who types 20:43 in a form means 20:43 on the school's clock, and every page, export and
notice shows that clock. Everything else keeps aware UTC: the database (``UTCDateTime`` columns
refuse a naive value), services, the API's answers and the Socket.IO events. The conversions
happen here and nowhere else:

- ``from_local``: a form's naive wall-clock value → aware UTC (a ``datetime-local`` field);
- ``to_local`` / ``wall_clock``: a stored time → the installation's clock, aware or as the
  naive value a ``datetime-local`` field or a spreadsheet cell takes;
- ``parse_api_time``: the API's ISO 8601 text → aware UTC. The API takes a time only with its
  offset (``2030-03-01T20:43:00+08:00`` or ``…Z``): a client's bare "20:43" could be any zone's,
  so it is refused (422) with a message saying how to write it, never guessed;
- pages format with Flask-Babel's ``datetimeformat`` filter / ``format_datetime``, which
  convert to the same zone (``BABEL_DEFAULT_TIMEZONE`` is set from ``ELEARN_TIMEZONE``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, overload
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _

from elearn.service.errors import ServiceError

#: the years a time may fall in: a zone's offset on either side of year 1 or 9999 has no datetime
YEARS = (1900, 9998)


def _within_years(value: datetime, name: str | None = None) -> datetime:
    if not YEARS[0] <= value.year <= YEARS[1]:
        raise ServiceError(
            _("Give a year from %(first)d to %(last)d.", first=YEARS[0], last=YEARS[1]),
            status=422,
            field=name,
        )
    return value


def zone() -> ZoneInfo:
    """The installation's zone, validated at start-up (``elearn.config``)."""
    return ZoneInfo(current_app.config["TIMEZONE"])


@overload
def from_local(value: datetime) -> datetime: ...
@overload
def from_local(value: None) -> None: ...
@overload
def from_local(value: datetime | None) -> datetime | None: ...
def from_local(value: datetime | None) -> datetime | None:
    """A wall-clock time typed in a page (naive, the installation's zone) as aware UTC.

    An aware value is already placed in time and is only converted. A year outside ``YEARS``
    is refused (422).
    """
    if value is None:
        return None
    _within_years(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone())
    return value.astimezone(UTC)


def to_local(value: datetime | None) -> datetime | None:
    """A stored (aware) time on the installation's clock, still aware."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value.isoformat()}: stored times are aware UTC")
    return value.astimezone(zone())


def wall_clock(value: datetime | None) -> datetime | None:
    """A stored time as the naive wall-clock value a form field or a spreadsheet cell takes."""
    local = to_local(value)
    return local.replace(tzinfo=None) if local is not None else None


def parse_api_time(raw: Any, name: str) -> datetime | None:
    """An API field's ISO 8601 time with its offset, as aware UTC; empty is None.

    Refusals: not text in ISO 8601 (400), no offset or a year outside ``YEARS`` (422).
    """
    if raw is None or raw == "":
        return None
    example = "2030-03-01T20:43:00+08:00"
    try:
        parsed = datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise ServiceError(
            _(
                "%(name)s must be a date and time in ISO 8601, e.g. %(example)s.",
                name=name,
                example=example,
            ),
            status=400,
            field=name,
        )
    if parsed.utcoffset() is None:
        raise ServiceError(
            _(
                "%(name)s needs its time zone offset, e.g. %(example)s (a time without one "
                "could be any zone's).",
                name=name,
                example=example,
            ),
            status=422,
            field=name,
        )
    return _within_years(parsed, name).astimezone(UTC)
