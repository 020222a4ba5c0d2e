"""Limits and helpers the live use cases share."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

from elearn.extensions import db
from elearn.models import Role
from elearn.models.accounts import ADMIN_ROLES
from elearn.service.errors import NotFound

#: who may schedule and host a lecture
HOST_ROLES = frozenset({Role.EXPERT, Role.TEACHER, *ADMIN_ROLES})
#: roles an audience row may name
AUDIENCE_ROLES = frozenset({Role.STUDENT, Role.TEACHER, Role.GUARDIAN})
MAX_TEXT = 500
MAX_TITLE = 200
MAX_POLL_CHOICES = 10
MAX_FILTER_WORDS = 200
MAX_SLOW_MODE = 3600
MAX_HEADCOUNT = 500
REPLAY_LIMIT = 500


def _now() -> datetime:
    return datetime.now(UTC)


_InLecture = TypeVar("_InLecture")


def _of_lecture(model: type[_InLecture], lecture_id: int, ident: Any, missing: str) -> _InLecture:
    """A poll, quiz… of this lecture by the id a client sent; ``NotFound(missing)`` otherwise."""
    try:
        found = db.session.get(model, int(ident))
    except (TypeError, ValueError):
        found = None
    if found is None or getattr(found, "lecture_id", None) != lecture_id:
        raise NotFound(missing)
    return found
