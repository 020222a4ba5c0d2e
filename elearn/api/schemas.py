"""The building blocks of the API's schemas: one marshmallow schema states a JSON shape once.

A schema validates what a client sends (flask-smorest's ``@bp.arguments``), renders what the
server answers (``@bp.response``) and is the OpenAPI document's component for it
(``/api/v1/openapi.json``). The fields here carry the limits the database has: an id is
1..2³¹−1 (PostgreSQL's integer), a list has a largest length, a text its column's length, so
a value past them is a 422 that says so, never an error from the database.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

from apispec.ext.marshmallow import MarshmallowPlugin, OpenAPIConverter
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, validate, validates_schema

from elearn import localtime
from elearn.models._types import INT_MAX, aware

#: the longest list of ids a request may carry (a class's students, a bank's questions)
MAX_IDS = 1000


class Body(Schema):
    """A JSON request body: a name the server does not know is refused, not ignored.

    ``ONE_OF``: names of which the body must carry at least one (documented as ``anyOf``),
    with ``ONE_OF_MESSAGE`` saying so when it carries none.
    """

    ONE_OF: ClassVar[tuple[str, ...]] = ()
    ONE_OF_MESSAGE: ClassVar[Any] = None

    class Meta:
        unknown = RAISE

    @validates_schema
    def _one_of(self, data: dict[str, Any], **kwargs: Any) -> None:
        if self.ONE_OF and not any(name in data for name in self.ONE_OF):
            raise ValidationError(str(self.ONE_OF_MESSAGE), self.ONE_OF[0])


class Query(Schema):
    """Query-string parameters: names the server does not read are ignored (caches, trackers)."""

    class Meta:
        unknown = EXCLUDE


class Out(Schema):
    """A response body (rendered with ``dump``; never loaded). Documented without
    ``additionalProperties: false``: a field added later must not break a strict client."""

    class Meta:
        unknown = EXCLUDE


def RowId(*, strict: bool = True, **kwargs: Any) -> fields.Integer:  # noqa: N802 - a field type
    """The id of a row: a whole number 1..2³¹−1. In a JSON body a number (true/false, 1.5 and
    "1" are refused); in a query string or form (``strict=False``) its digits."""
    kwargs.setdefault("validate", validate.Range(min=1, max=INT_MAX))
    return fields.Integer(strict=strict, **kwargs)


def RowIds(*, max_items: int = MAX_IDS, **kwargs: Any) -> fields.List:  # noqa: N802
    """A list of row ids, at most ``max_items`` long."""
    return fields.List(RowId(), validate=validate.Length(max=max_items), **kwargs)


def Count(**kwargs: Any) -> fields.Integer:  # noqa: N802
    """A whole number 0..2³¹−1 stored in an integer column (seconds, attempts, a sequence)."""
    kwargs.setdefault("validate", validate.Range(min=0, max=INT_MAX))
    return fields.Integer(strict=True, **kwargs)


#: PostgreSQL's text and jsonb cannot hold the NUL character: refused before they are tried
NO_NUL = validate.Regexp(r"^[^\x00]*$", error="Text may not contain the NUL character.")
#: a name or title: something besides spaces, and no NUL either
NOT_BLANK = validate.Regexp(r"^[^\x00]*[^\s\x00][^\x00]*$", error="Write more than spaces.")


def Text(  # noqa: N802
    max_length: int | None = None, *, min_length: int | None = None, **kwargs: Any
) -> fields.String:
    """Text without NUL characters, at most ``max_length`` characters where its column has a
    length (``min_length=1``: not blank, as a title: more than spaces)."""
    checks: list[Any] = [NOT_BLANK if min_length else NO_NUL]
    if max_length is not None or min_length is not None:
        checks.append(validate.Length(min=min_length, max=max_length))
    return fields.String(validate=checks, **kwargs)


class JsonValue(fields.Raw):
    """Any JSON value (an answer, shaped as its question's type asks) without NUL characters
    in its texts or keys."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if _has_nul(value):
            raise ValidationError("Text may not contain the NUL character.")
        return value


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def Choice(choices: list[str], **kwargs: Any) -> fields.String:  # noqa: N802
    """One of a fixed set of words (documented as an enum)."""
    return fields.String(validate=validate.OneOf(choices), **kwargs)


class When(fields.DateTime):
    """A moment with its time zone, read as ISO 8601 and answered in UTC (a moment the database
    stored naive, on SQLite, is UTC too; text a service already rendered passes through).

    A client must send the offset: a time without one could be any zone's (the pages take local
    time through their forms; the API takes it explicit). Years the installation's zone cannot
    shift within Python's dates are refused too (``elearn.localtime.YEARS``).
    """

    #: the years the server takes (documented: a client's generator stays within them)
    PATTERN = r"^(19\d\d|[2-8]\d\d\d|9[0-8]\d\d|99[0-8]\d|999[0-8])-"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["metadata"] = {"pattern": self.PATTERN, **kwargs.get("metadata", {})}
        super().__init__(*args, **kwargs)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if isinstance(value, str):
            return value
        return super()._serialize(aware(value), attr, obj, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        try:
            moment: datetime = super()._deserialize(value, attr, data, **kwargs)
        except ValidationError:
            raise ValidationError(
                _(
                    "Give a date and time in ISO 8601, e.g. %(example)s.",
                    example="2030-03-01T20:43:00+08:00",
                )
            ) from None
        if moment.utcoffset() is None:
            raise ValidationError(
                _(
                    "Give the time with its zone offset, e.g. %(example)s (a time without one "
                    "could be any zone's).",
                    example="2030-03-01T20:43:00+08:00",
                )
            )
        first, last = localtime.YEARS
        if not first <= moment.year <= last:
            raise ValidationError(
                _("Give a year from %(first)d to %(last)d.", first=first, last=last)
            )
        return moment.astimezone(UTC)


class Converter(OpenAPIConverter):
    """apispec's converter, documenting a body's ``ONE_OF`` as ``anyOf`` required names, and
    what a schema adds in ``OPENAPI`` (a rule across fields its own check enforces)."""

    def schema2jsonschema(self, schema: Any) -> dict[str, Any]:
        jsonschema: dict[str, Any] = super().schema2jsonschema(schema)
        names = getattr(schema, "ONE_OF", ())
        if names:
            jsonschema["anyOf"] = [{"required": [name]} for name in names]
        jsonschema.update(getattr(schema, "OPENAPI", {}))
        return jsonschema


class Plugin(MarshmallowPlugin):
    Converter = Converter


class Error(Out):
    """Every refusal: 400, 401, 403, 404, 409, 413, 415, 429 (and 422, with ``errors``)."""

    error = fields.Raw(
        required=True,
        metadata={
            "description": "the HTTP status (401: the word unauthorized)",
            "oneOf": [{"type": "integer"}, {"type": "string"}],
        },
    )
    message = fields.String(
        required=True, metadata={"description": "what is wrong, in the user's language"}
    )
    time_up = fields.Boolean(
        metadata={
            "description": "on a refused answer save: the deadline and its slack have passed "
            "(submit what was saved)"
        }
    )


class ValidationFailure(Error):
    """A 422: what the request carried that the schema refused, field by field."""

    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        required=True,
        metadata={
            "description": "messages (in the user's language) by field; a nested field is "
            "named by its path, e.g. items.0.question_id"
        },
    )


# -- validation messages in the user's language ------------------------------------------------

#: marshmallow's and webargs' messages (English, with {placeholders}) and their translation
_MESSAGES: list[tuple[str, Any]] = [
    ("Missing data for required field.", _l("This field is required.")),
    ("Field may not be null.", _l("This field may not be empty (null).")),
    ("Unknown field.", _l("This field is not one the server knows.")),
    ("Invalid input type.", _l("Send a JSON object in the request body.")),
    ("Invalid JSON body.", _l("Send a JSON object in the request body.")),
    ("Invalid value.", _l("This value is not valid.")),
    ("Text may not contain the NUL character.", _l("Text may not contain the NUL character.")),
    ("Write more than spaces.", _l("Write more than spaces.")),
    ("Invalid type.", _l("This value is of the wrong type.")),
    ("Not a valid integer.", _l("Give a whole number.")),
    ("Not a valid number.", _l("Give a number.")),
    ("Special numeric values (nan or infinity) are not permitted.", _l("Give a finite number.")),
    ("Not a valid string.", _l("Give text.")),
    ("Not a valid utf-8 string.", _l("Give text.")),
    ("Not a valid boolean.", _l("Give true or false.")),
    ("Not a valid list.", _l("Give a list.")),
    ("Not a valid mapping type.", _l("Give an object.")),
    ("Not a valid datetime.", _l("Give a date and time (ISO 8601), e.g. 2025-03-01T09:00+08:00.")),
    (
        "Not a valid aware datetime.",
        _l("Give a date and time with its time zone, e.g. 2025-03-01T09:00+08:00."),
    ),
    ("Not a valid date.", _l("Give a date (ISO 8601), e.g. 2025-03-01.")),
    ("Must be one of: {choices}.", _l("Choose one of: {choices}.")),
    (
        "Must be greater than or equal to {min} and less than or equal to {max}.",
        _l("Give a number from {min} to {max}."),
    ),
    ("Must be greater than or equal to {min}.", _l("Give a number of at least {min}.")),
    ("Must be less than or equal to {max}.", _l("Give a number of at most {max}.")),
    ("Must be greater than {min}.", _l("Give a number greater than {min}.")),
    ("Shorter than minimum length {min}.", _l("Give at least {min} (characters or entries).")),
    ("Longer than maximum length {max}.", _l("Give at most {max} (characters or entries).")),
    ("Length must be between {min} and {max}.", _l("Give {min} to {max} (characters or entries).")),
    ("Length must be {equal}.", _l("Give exactly {equal} (characters or entries).")),
]


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", template)
    regex = "".join(
        re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts)
    )
    return re.compile(f"^{regex}$", re.DOTALL)


_PATTERNS = [(_pattern(english), translated) for english, translated in _MESSAGES]


def translate(message: str) -> str:
    """A validation message in the user's language (our own messages are translated already)."""
    for pattern, translated in _PATTERNS:
        match = pattern.match(message)
        if match:
            return str(translated).format(**match.groupdict())
    return message


def flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """webargs' nested messages ({"json": {"items": {0: {"question_id": [...]}}}}) as
    {"items.0.question_id": [...]}, translated."""
    found: dict[str, list[str]] = {}
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            found.update(flatten(value, name))
    elif isinstance(messages, list | tuple):
        if all(isinstance(m, str) for m in messages):
            found[prefix or "_schema"] = [translate(m) for m in messages]
        else:
            for index, value in enumerate(messages):
                found.update(flatten(value, f"{prefix}.{index}" if prefix else str(index)))
    else:
        found[prefix or "_schema"] = [translate(str(messages))]
    return found


def validation_body(messages: Any) -> dict[str, Any]:
    """The one 422 body: a summary naming the fields, and the messages by field."""
    locations = ("json", "query", "form", "files", "multipart", "path", "headers")
    if isinstance(messages, Mapping) and set(messages) <= set(locations):
        merged: dict[str, Any] = {}
        for value in messages.values():
            if isinstance(value, Mapping):
                merged.update(value)
            else:
                merged.setdefault("_schema", value)
        messages = merged
    errors = flatten(messages)
    names = [name for name in errors if name != "_schema"]
    if len(names) == 1 and len(errors) == 1:
        summary = _("%(field)s: %(problem)s", field=names[0], problem=errors[names[0]][0])
    elif names:
        summary = _("Some of what you sent is not valid: %(fields)s.", fields=", ".join(names))
    else:
        summary = "; ".join(errors.get("_schema", [])) or _("Some of what you sent is not valid.")
    return {"error": 422, "message": summary, "errors": errors}
