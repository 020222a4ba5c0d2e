"""Small helpers the API views share."""

from __future__ import annotations

from typing import Any

from flask import abort, request
from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest


def json_body() -> dict[str, Any]:
    """The request's JSON object, or a 400 that says what is wrong."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        error = BadRequest()
        error.elearn_message = _("Send a JSON object in the request body.")  # type: ignore[attr-defined]
        raise error
    return data


def bad_request(message: str) -> None:
    error = BadRequest()
    error.elearn_message = message  # type: ignore[attr-defined]
    raise error


def require_int(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        bad_request(_("%(name)s must be a number.", name=name))
    abort(400)  # unreachable; keeps type checkers content
