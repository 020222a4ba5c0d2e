"""Small builders for the live tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.conftest import user


def make_lecture(lecturer: str = "expert1", audience: Any = None, **extra: Any):
    from live import service

    return service.create_lecture(
        actor=user(lecturer),
        title=extra.pop("title", "禁毒专题直播"),
        starts_at=extra.pop("starts_at", datetime.now(UTC) + timedelta(hours=1)),
        audience=audience if audience is not None else [{"unit_id": _county_id()}],
        **extra,
    )


def _county_id() -> int:
    from tests.conftest import unit_by_code

    return unit_by_code("C01").id
