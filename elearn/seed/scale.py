"""County- and prefecture-scale bulk data: schools, classes, teachers, students and guardians.

``flask --app app elearn seed --scale county|prefecture``. Everything is generated
deterministically (``scale_plan``, ``scale_rows``) and written with PostgreSQL COPY in one
transaction: a run either lands whole or leaves nothing behind, and a second run finds the finished
root (its population counted) and changes nothing. Scale accounts cannot log in.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

from psycopg import sql
from sqlalchemy import func, select, text

from elearn.extensions import db
from elearn.models import Unit, UnitPopulation
from elearn.seed.scale_plan import (
    COUNTY,
    PREFECTURE,
    ScaleSeedError,
    ScaleSpec,
    School,
    plan_schools,
)
from elearn.seed.scale_rows import (
    LINK_COPY,
    ROLE_COPY,
    UNIT_COPY,
    USER_COPY,
    Counters,
    account_count,
    people_rows,
    unit_count,
    unit_rows,
)
from elearn.service import coverage, org

__all__ = ["COUNTY", "PREFECTURE", "SPECS", "ScaleSeedError", "ScaleSpec", "seed", "seed_scale"]

Echo = Callable[[str], Any]

SPECS = {"prefecture": PREFECTURE, "county": COUNTY}

#: accounts are written about this many at a time (one COPY per table per batch), bounding memory
BATCH_ACCOUNTS = 150_000

Rows = tuple[list[str], list[str], list[str], int]


def _reserve_ids(cursor: Any, table: str, count: int) -> list[int]:
    """Take ``count`` ids from the table's own sequence (safe beside concurrent inserts)."""
    if count == 0:
        return []
    cursor.execute(
        "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
        (table, count),
    )
    return [row[0] for row in cursor.fetchall()]


def _copy(cursor: Any, statement: str, lines: list[str]) -> None:
    if not lines:
        return
    with cursor.copy(statement) as copy:
        for start in range(0, len(lines), 20_000):
            copy.write("".join(lines[start : start + 20_000]))


def _write_units(
    cursor: Any, spec: ScaleSpec, schools: list[School], rng: random.Random, now: str
) -> tuple[int, int]:
    """Insert the org tree of the plan; returns (root id, unit count)."""
    count = unit_count(spec, schools)
    ids = _reserve_ids(cursor, "units", count)
    _copy(cursor, UNIT_COPY, unit_rows(spec, schools, iter(ids), rng, now))
    return ids[0], count


@contextmanager
def _foreign_keys_checked_at_end(cursor: Any, echo: Echo) -> Iterator[None]:
    """Check the role and link tables' foreign keys once, after the load, instead of per row.

    PostgreSQL checks a foreign key row by row (two look-ups per role assignment and per guardian
    link: most of the load's time); dropping the constraints and adding them back, with their
    own names and definitions, in the same transaction validates all rows in one join. Other
    sessions never see the tables without them, but wait for the accounts tables until the seed
    commits: this is a setup step, not for a busy live system.
    """
    cursor.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE contype = 'f' AND conrelid IN ('role_assignments'::regclass,"
        " 'guardian_links'::regclass) ORDER BY 1, 2"
    )
    keys = cursor.fetchall()
    for table, name, _ in keys:
        cursor.execute(
            sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                sql.Identifier(table), sql.Identifier(name)
            )
        )
    yield
    started = time.monotonic()
    for table, name, definition in keys:
        cursor.execute(
            sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} ").format(
                sql.Identifier(table), sql.Identifier(name)
            )
            + sql.SQL(definition)
        )
    echo(f"  {len(keys)} foreign keys checked ({time.monotonic() - started:.0f} s)")


def _batches(schools: list[School]) -> list[list[School]]:
    batches: list[list[School]] = [[]]
    size = 0
    for school in schools:
        if size >= BATCH_ACCOUNTS:
            batches.append([])
            size = 0
        batches[-1].append(school)
        size += account_count(school)
    return batches


def _batch_rows(
    spec: ScaleSpec, batch: list[School], counters: Counters, ids: list[int], now: str
) -> Rows:
    users: list[str] = []
    roles: list[str] = []
    links: list[str] = []
    id_iter = iter(ids)
    for school in batch:
        more_users, more_roles, more_links = people_rows(spec, school, counters, id_iter, now)
        users += more_users
        roles += more_roles
        links += more_links
    return users, roles, links, len(ids)


def _write_people(
    cursor: Any, spec: ScaleSpec, schools: list[School], now: str, echo: Echo
) -> None:
    """Accounts, roles and guardian links, batch by batch.

    A worker thread builds the next batch's rows (Python) while PostgreSQL takes in the current
    one (the driver lets go of the GIL while it waits), so the two cores both work.
    """
    counters = Counters()
    started = time.monotonic()
    written = 0

    def write(rows: Rows) -> None:
        nonlocal written
        users, roles, links, count = rows
        _copy(cursor, USER_COPY, users)
        _copy(cursor, ROLE_COPY, roles)
        _copy(cursor, LINK_COPY, links)
        written += count
        echo(f"  {written:,} accounts written ({time.monotonic() - started:.0f} s)")

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="scale-seed") as pool:
        pending: Future[Rows] | None = None
        for batch in _batches(schools):
            ids = _reserve_ids(cursor, "users", sum(account_count(s) for s in batch))
            # one worker, so batches are built in order and the counters stay deterministic
            future = pool.submit(_batch_rows, spec, batch, counters, ids, now)
            if pending is not None:
                write(pending.result())
            pending = future
        if pending is not None:
            write(pending.result())


def _find_root(spec: ScaleSpec) -> Unit | None:
    return db.session.scalar(select(Unit).where(Unit.parent_id.is_(None), Unit.code == spec.code))


def _remove_partial(cursor: Any, root: Unit) -> None:
    """Delete what an unfinished earlier run of this seed left under ``root``."""
    subtree = "SELECT id FROM units WHERE path LIKE %(path)s"
    people = (
        f"SELECT user_id FROM role_assignments WHERE unit_id IN ({subtree})"
        f" AND user_id NOT IN (SELECT user_id FROM role_assignments"
        f" WHERE unit_id NOT IN ({subtree}))"
    )
    params = {"path": root.path + "%"}
    # accounts that exist only here go (their roles and links with them, by cascade); anyone who
    # also holds a role elsewhere only loses the roles held here
    cursor.execute(f"DELETE FROM users WHERE id IN ({people})", params)
    cursor.execute(f"DELETE FROM role_assignments WHERE unit_id IN ({subtree})", params)
    for table in ("unit_populations", "coverage_rollups", "coverage_facts"):
        cursor.execute(f"DELETE FROM {table} WHERE unit_id IN ({subtree})", params)
    # One statement: the parent_id foreign key is checked at its end, when all are gone.
    cursor.execute("DELETE FROM units WHERE path LIKE %(path)s", params)


def seed(spec: ScaleSpec, *, echo: Echo = print) -> str:
    """Generate ``spec`` under its own root unless it is already there; flushes, never commits.

    Returns a printable report.
    """
    started = time.monotonic()
    driver = db.session.connection().connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor:
        return _seed(spec, cursor, echo, started)


def _seed(spec: ScaleSpec, cursor: Any, echo: Echo, started: float) -> str:
    session = db.session
    # Two runs at once would both see no root; the second waits here and then finds it.
    cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"elearn-scale:{spec.code}",))
    org.ensure_term_for(date.today())
    root = _find_root(spec)
    if root is not None:
        if session.get(UnitPopulation, root.id) is not None:
            return _report(spec, root, "already seeded, nothing changed", started)
        echo(f"{spec.code}: removing an unfinished earlier run")
        _remove_partial(cursor, root)
        session.expunge_all()
    # The run commits once, at the end: a crash loses the run, never leaves half of it.
    cursor.execute("SET LOCAL synchronous_commit = off")
    rng = random.Random(spec.seed)
    schools = plan_schools(spec, rng)
    now = datetime.now(UTC).isoformat()
    root_id, unit_count = _write_units(cursor, spec, schools, rng, now)
    echo(f"{spec.code}: {unit_count:,} units written ({time.monotonic() - started:.0f} s)")
    with _foreign_keys_checked_at_end(cursor, echo):
        _write_people(cursor, spec, schools, now, echo)
    # The planner must know the tables grew before the population GROUP BY runs.
    cursor.execute("ANALYZE units, users, role_assignments, guardian_links")
    counted = time.monotonic()
    root = session.get(Unit, root_id)
    assert root is not None
    coverage.recount_population(root)
    echo(f"populations counted ({time.monotonic() - counted:.0f} s)")
    return _report(spec, root, "seeded", started)


def _report(spec: ScaleSpec, root: Unit, outcome: str, started: float) -> str:
    population = db.session.get(UnitPopulation, root.id)
    assert population is not None
    units = dict(
        db.session.execute(
            select(Unit.type, func.count())
            .where(Unit.path.startswith(root.path))
            .group_by(Unit.type)
        ).all()
    )
    kinds = dict(
        db.session.execute(
            select(Unit.school_kind, func.count())
            .where(Unit.path.startswith(root.path), Unit.type == "school")
            .group_by(Unit.school_kind)
        ).all()
    )
    links = db.session.scalar(
        text(
            "SELECT count(*) FROM guardian_links l JOIN role_assignments r"
            " ON r.user_id = l.student_id AND r.role = 'student'"
            " JOIN units u ON u.id = r.unit_id WHERE u.path LIKE :path"
        ),
        {"path": root.path + "%"},
    )
    schools = population.schools or 1
    students = population.students or 1
    kind_mix = ", ".join(
        f"{kind} {count:,}" for kind, count in sorted(kinds.items(), key=lambda kc: -kc[1])
    )
    return "\n".join(
        [
            f"{spec.name} ({spec.code}, unit {root.id}): {outcome} in {time.monotonic() - started:.1f} s",
            f"  counties {units.get('county', 0):,}, schools {population.schools:,} "
            f"({population.rural_schools / schools:.0%} rural: {kind_mix}), "
            f"grades {units.get('grade', 0):,}, classes {units.get('class', 0):,} "
            f"(average {population.students / max(units.get('class', 0), 1):.1f} students)",
            f"  teachers {population.teachers:,}, students {population.students:,}, "
            f"guardians {population.guardians:,} ({population.guardians / students:.2f} per "
            f"student, {population.rural_guardians:,} in rural schools), "
            f"guardian links {links:,}",
            f"  accounts: {spec.username_prefix}t…, {spec.username_prefix}s…, "
            f"{spec.username_prefix}g…; none can sign in (no password set)",
        ]
    )


def seed_scale(scale: str, *, echo: Echo = print) -> str:
    """``flask elearn seed --scale county|prefecture``: bulk data on PostgreSQL (the command
    commits it once, in its unit of work)."""
    if db.engine.dialect.name != "postgresql":
        raise ScaleSeedError(
            "Scale seeds need PostgreSQL (COPY, and two million accounts): set DATABASE_URL="
            "postgresql://… and run `flask --app app db upgrade heads` first. "
            "The embedded SQLite database holds the demo only."
        )
    return seed(SPECS[scale], echo=echo)
