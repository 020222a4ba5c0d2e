"""Numbers from a page's query string or form, bounded once for every page.

What a person can type into the address bar (``?page=99999999999999999999``, ``?unit=-1``,
``?unit=abc``) must never reach the database as a number its columns cannot hold (a 500): a
page number out of range shows the first page, as a hand-edited address expects; an id no row
can have is a 404, like any object out of reach; text where an id goes is a 400 that says so.
The JSON API validates the same limits through its schemas (``elearn/api/schemas.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import abort, request
from flask_babel import gettext as _

from elearn.models._types import INT_MAX
from elearn.service.errors import ServiceError


def page_number(values: Mapping[str, Any] | None = None, name: str = "page") -> int:
    """The page asked for: 1 when missing, not a whole number, or out of 1..2³¹−1."""
    raw = str((request.args if values is None else values).get(name) or "").strip()
    if not raw.isdigit() or len(raw) > 10 or not 1 <= int(raw) <= INT_MAX:
        return 1
    return int(raw)


def row_id(name: str, values: Mapping[str, Any] | None = None) -> int | None:
    """The id in ``?name=``: None when missing or empty; 404 when no row can have it."""
    raw = str((request.values if values is None else values).get(name) or "").strip()
    if not raw:
        return None
    number = raw[1:] if raw[:1] in "+-" else raw
    if not number.isdigit():
        raise ServiceError(_("%(name)s must be a number.", name=name))
    if raw.startswith("-") or len(number) > 10 or not 1 <= int(number) <= INT_MAX:
        abort(404)
    return int(number)


def search_text(name: str, max_length: int, values: Mapping[str, Any] | None = None) -> str | None:
    """The words in ``?name=``: stripped, at most ``max_length`` characters, without the NUL
    character (no one types it; PostgreSQL cannot compare text holding it); None when empty."""
    raw = str((request.args if values is None else values).get(name) or "")
    return raw.replace("\x00", "").strip()[:max_length] or None


def whole_number(name: str, values: Mapping[str, Any] | None = None) -> int | None:
    """A small whole number (a version, a count) in ``?name=``: None when missing, not a
    number, or out of 0..2³¹−1 (it then matches nothing, as a missing one does)."""
    raw = str((request.args if values is None else values).get(name) or "").strip()
    if not raw.isdigit() or len(raw) > 10 or int(raw) > INT_MAX:
        return None
    return int(raw)
