"""SQL the services share that the dialects spell differently."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnClause, Connection, Engine, TableValuedAlias, bindparam, func
from sqlalchemy.dialects import postgresql, sqlite

from elearn.extensions import db


def insert_on_conflict(model: type) -> Any:
    """An INSERT that can take ``on_conflict_do_nothing``/``_do_update``: PostgreSQL's in
    production, SQLite's for the embedded demo (both spell the clauses the same way)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


def one_statement_connection() -> Connection:
    """The session's connection for a use case that is one write statement, in autocommit when
    it can be: no BEGIN and no COMMIT round trip (an exam's answer autosave).

    Autocommit only when the statement is the session's first on its engine (a request that has
    run nothing else); otherwise, and when the session is bound to a connection already in a
    transaction (the tests' outer transaction), the statement joins the session's transaction
    and commits with it. Either way the caller commits as usual.
    """
    if isinstance(db.session.get_bind(), Engine) and not db.session().in_transaction():
        return db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    return db.session.connection()


def batch_rows(*columns: ColumnClause[Any], name: str = "item") -> TableValuedAlias:
    """The rows of a batch sent as one JSON array in the bound parameter ``items`` (PostgreSQL's
    jsonb_to_recordset): one parameter, and one statement built once, whatever the batch's size;
    ``columns`` name and type each row's fields."""
    return (
        func.jsonb_to_recordset(bindparam("items", type_=postgresql.JSONB))
        .table_valued(*columns)
        .render_derived(name=name, with_types=True)
    )
