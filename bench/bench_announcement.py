"""An announcement to every guardian of the prefecture-scale seed, then its receipts per county.

On the prefecture-scale seed (``flask --app app elearn seed --scale prefecture``, as
``bench_seed`` runs it; about 1.3 M guardians), a prefecture admin sends one announcement to the
prefecture's guardians with an acknowledgement (回执) asked for, through
``parents.announcements.service.send``: timed from the call to the commit (target ≤ 60 s), with
the number of receipts written. Then ``parents.announcements.queries.receipts`` (what the
receipts dashboard and ``GET /api/v1/announcements/<id>/receipts?unit=`` answer) for each county
(target ≤ 1 s each; max and median), once as sent and once after a quarter of the guardians read
it and an eighth acknowledged it.

The seed takes minutes: ``ELEARN_BENCH_DB_URL=postgresql+psycopg://…/name`` runs on a database
seeded before (it is migrated to heads and seeded if it is not yet, and the bench's announcement
is deleted afterwards); by default the bench makes a throwaway database and drops it.
"""

from __future__ import annotations

import os
import statistics
import time
from typing import Any

from bench import app_env, build_app, load, throwaway_database
from bench.bench_seed import run_seed

TARGET_SEND_SECONDS = 60.0
TARGET_RECEIPTS_SECONDS = 1.0
#: the guardians of the prefecture-scale seed the issue names
ISSUE_GUARDIANS = 1_300_000
REUSE_URL = os.environ.get("ELEARN_BENCH_DB_URL")
ADMIN_USERNAME = "bench_prefecture_admin"


def _verdict(value: float, target: float) -> str:
    return f"{value / target:.2f}× the target, {'meets' if value <= target else 'MISSES'} it"


def _prefecture_admin(root: Any) -> Any:
    """The bench's prefecture admin of ``root`` (made once, kept for reruns)."""
    from sqlalchemy import select

    from elearn.extensions import db
    from elearn.models import RoleAssignment, User
    from elearn.models.accounts import Role

    admin = db.session.scalar(select(User).where(User.username == ADMIN_USERNAME))
    if admin is None:
        admin = User(username=ADMIN_USERNAME, display_name="州管理员(bench)", password_hash="!")
        db.session.add(admin)
        db.session.flush()
        db.session.add(
            RoleAssignment(user_id=admin.id, role=Role.PREFECTURE_ADMIN, unit_id=root.id)
        )
        db.session.commit()
    return admin


def _time_receipts(announcement: Any, counties: list[Any]) -> tuple[list[float], list[int]]:
    from elearn.extensions import db
    from parents.announcements import queries

    seconds, recipients = [], []
    for county in counties:
        started = time.perf_counter()
        found = queries.receipts(announcement, county)
        seconds.append(time.perf_counter() - started)
        recipients.append(found["recipients"])
        db.session.rollback()  # nothing cached between counties
    return seconds, recipients


def _receipts_line(label: str, seconds: list[float], recipients: list[int]) -> str:
    worst = max(seconds)
    return (
        f"receipts per county ({label}), {len(seconds)} counties of "
        f"{min(recipients):,}–{max(recipients):,} recipients: max {worst * 1000:.0f} ms, "
        f"median {statistics.median(seconds) * 1000:.0f} ms "
        f"(target ≤ {TARGET_RECEIPTS_SECONDS:.0f} s each: max {_verdict(worst, 1.0)})"
    )


def _measure(url: str) -> list[str]:
    from sqlalchemy import delete, func, select, text, update

    from elearn.extensions import db
    from elearn.models import RoleAssignment, Unit, UnitPopulation
    from elearn.models._types import utcnow
    from elearn.seed.scale_plan import PREFECTURE
    from parents.announcements import queries, service
    from parents.announcements.models import Announcement, AnnouncementReceipt

    lines: list[str] = []
    root = db.session.scalar(
        select(Unit).where(Unit.code == PREFECTURE.code, Unit.parent_id.is_(None))
    )
    assert root is not None, "no prefecture-scale root in the database"
    population = db.session.get(UnitPopulation, root.id)
    guardians = population.guardians if population else 0
    holders = db.session.scalar(
        select(func.count(func.distinct(RoleAssignment.user_id)))
        .join(Unit, Unit.id == RoleAssignment.unit_id)
        .where(Unit.path.startswith(root.path), RoleAssignment.role == "guardian")
    )
    short = "" if guardians >= ISSUE_GUARDIANS else f" — FEWER than the issue's {ISSUE_GUARDIANS:,}"
    lines.append(
        f"prefecture seed {root.name}: {guardians:,} guardians counted, {holders:,} holding the "
        f"guardian role{short}"
    )
    admin = _prefecture_admin(root)
    counties = list(db.session.scalars(select(Unit).where(Unit.parent_id == root.id)))
    load_before = load()
    started = time.perf_counter()
    announcement = service.send(
        actor=admin,
        title="全州家长通知(bench)",
        body="请各位家长阅读并回执。",
        audience=[service.Audience(unit=root, role="guardian")],
        requires_ack=True,
    )
    sent = time.perf_counter()
    db.session.commit()
    committed = time.perf_counter()
    announcement_id, recipients = announcement.id, announcement.recipients
    total = committed - started
    lines.append(
        f"announcement to the prefecture's guardians (回执 asked): {recipients:,} receipts and "
        f"inbox notices in {total:.1f} s (send {sent - started:.1f} s, commit "
        f"{committed - sent:.1f} s; target ≤ {TARGET_SEND_SECONDS:.0f} s: "
        f"{_verdict(total, TARGET_SEND_SECONDS)}); load average before {load_before}, "
        f"after {load()}"
    )
    try:
        announcement = db.session.get(Announcement, announcement_id)
        seconds, counts = _time_receipts(announcement, counties)
        lines.append(_receipts_line("as sent", seconds, counts))
        started = time.perf_counter()
        whole = queries.receipts(announcement, root)
        lines.append(
            f"receipts of the whole prefecture ({len(whole['children'])} counties): "
            f"{(time.perf_counter() - started) * 1000:.0f} ms"
        )
        now = utcnow()
        marked = time.perf_counter()
        for column, every in ((AnnouncementReceipt.read_at, 4), (AnnouncementReceipt.acked_at, 8)):
            db.session.execute(
                update(AnnouncementReceipt)
                .where(
                    AnnouncementReceipt.announcement_id == announcement_id,
                    AnnouncementReceipt.user_id % every == 0,
                )
                .values({column: now})
                .execution_options(synchronize_session=False)
            )
        db.session.commit()
        lines.append(
            f"a quarter marked read, an eighth acknowledged (two UPDATEs): "
            f"{time.perf_counter() - marked:.1f} s"
        )
        announcement = db.session.get(Announcement, announcement_id)
        seconds, counts = _time_receipts(announcement, counties)
        lines.append(_receipts_line("after reads and acks", seconds, counts))
        lines.append(f"load average now {load()}")
    finally:
        if REUSE_URL:  # leave the kept database as it was
            db.session.rollback()
            db.session.execute(
                text("DELETE FROM notifications WHERE link = :link"),
                {"link": service.page_path(announcement_id)},
            )
            db.session.execute(delete(Announcement).where(Announcement.id == announcement_id))
            db.session.commit()
    return lines


def _run(url: str) -> list[str]:
    os.environ.setdefault("ELEARN_DB_POOL_SIZE", "2")  # PostgreSQL's 100 connections are shared
    app = build_app(url)  # migrations at heads
    lines = []
    seconds, _, output = run_seed(url, app_env(url))
    seeded = "already seeded" if any("already seeded" in line for line in output) else "seeded"
    lines.append(f"prefecture seed: {seeded} ({seconds:.0f} s)")
    with app.app_context():
        from elearn.extensions import db

        try:
            lines += _measure(url)
        finally:
            db.session.remove()
            db.engine.dispose()
    return lines


def run() -> list[str]:
    if REUSE_URL:
        return ["on the kept database of ELEARN_BENCH_DB_URL", *_run(REUSE_URL)]
    with throwaway_database("bench_announcement") as url:
        return _run(url)
