"""SQL the services share that the dialects spell differently."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite

from elearn.extensions import db


def insert_on_conflict(model: type) -> Any:
    """An INSERT that can take ``on_conflict_do_nothing``/``_do_update``: PostgreSQL's in
    production, SQLite's for the embedded demo (both spell the clauses the same way)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)
