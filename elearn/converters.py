"""URL converters of every route."""

from __future__ import annotations

from typing import Any

from werkzeug.routing import IntegerConverter

from elearn.models._types import BIGINT_MAX, INT_MAX


class RowId(IntegerConverter):
    """``<int:…>`` in every route: at most 2³¹ − 1, the largest key a row has (PostgreSQL's
    integer), so a larger number is a 404 rather than an error from the database."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", INT_MAX)
        super().__init__(map, *args, **kwargs)


class BigRowId(IntegerConverter):
    """``<bigid:…>``: a key of a BIGINT table (messages), at most 2⁶³ − 1."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", BIGINT_MAX)
        super().__init__(map, *args, **kwargs)
