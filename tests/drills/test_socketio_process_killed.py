"""A Socket.IO process killed (SIGKILL) with 1,000 sockets on it: they reconnect through nginx to
the other process, and attendance stays consistent.

The stack as ``make serve`` runs it (``deploy/stack.py``: nginx, sticky by its ``elearn_node``
cookie, in front of two gunicorn/gevent Socket.IO processes, an API process, a Celery worker and
beat) on a database and Redis database of the drill's own, with a heartbeat every second and a
process counted dead after 3 s of silence. The 100 pupils of the demo county open 10 sockets
each (python-socketio's asyncio client, websocket transport, reconnecting as the room page's
socket.io client does: after 1 s, then backing off to 5 s, ±50%, each attempt waiting up to
20 s), all with a cookie that lands on process 1, and join one lecture. Once process 1 beats
again after that storm of joins, its whole process group is killed with SIGKILL: no disconnect
handler runs. Every socket must connect again, through nginx, and its re-join be acknowledged;
the time from the kill to the last re-join is printed against issue 20's 10 s (a figure, not an
assertion: deploy/README.md has what it showed and why). Then the sweep beat runs every 30 s
(``live.sweep_dead_processes``, sent here as beat sends it) closes process 1's intervals, and
attendance is consistent: nothing is left open on process 1, each socket's interval there ends
at process 1's last heartbeat (no later than the kill, plus one heartbeat), each socket has an
open interval on process 2, and no viewer is credited more time than has passed since they first
joined.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import resource
import signal
import statistics
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
import socketio
from celery import Celery

from deploy import nginx
from deploy.stack import Stack
from tests import demo_api
from tests.e2e import conftest as e2e
from tests.stack.conftest import cookies_per_process, parent_pid, running_stack

e2e_artifacts = e2e.e2e_artifacts

NAMESPACE = "/live"
SOCKETS = int(os.environ.get("ELEARN_DRILL_SOCKETS", "1000"))
#: the demo county's pupils: two schools, two grades each, one class of 25 per grade
PUPILS = [
    f"s_{school}_{grade}_{n:02d}"
    for school, grades in (("S0101", (5, 6)), ("S0102", (7, 8)))
    for grade in grades
    for n in range(1, 26)
]
HEARTBEAT = 1.0
EXPIRY = 3.0
#: issue 20: the sockets of a killed process are back, on the other, within this (printed
#: against the time measured; deploy/README.md says why it is not asserted)
RECONNECT_LIMIT = 10.0
WAIT = 240.0
#: connections opened at once while the sockets first join (a burst of 1,000 handshakes
#: would measure the kernel's accept queue, not the drill)
OPENING = 100


@pytest.fixture(scope="module")
def stack(e2e_artifacts, tmp_path_factory) -> Iterator[Stack]:
    try:
        nginx.binary()
    except nginx.NginxMissing as error:
        pytest.fail(str(error), pytrace=False)
    # 1,000 sockets here, and two connections each in nginx: more than the usual 1,024 files
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 8192 if hard == resource.RLIM_INFINITY else min(hard, 8192)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    if wanted < 3 * SOCKETS:
        pytest.fail(f"the drill needs {3 * SOCKETS} open files; `ulimit -Hn` is {hard}")
    run_dir = e2e_artifacts / f"socketio-killed-{os.getpid()}"
    run_dir.mkdir(parents=True, exist_ok=True)
    with running_stack(
        run_dir,
        tmp_path_factory.mktemp("drill-media"),
        name=f"elearn_sockkill_drill_{os.getpid()}",
        extra_env={
            "ELEARN_LIVE_HEARTBEAT_SECONDS": str(HEARTBEAT),
            "ELEARN_LIVE_PROCESS_EXPIRY_SECONDS": str(EXPIRY),
        },
        api_workers=1,
        worker_concurrency=1,
        nginx_connections=wanted // 2,
    ) as running:
        yield running


class BrowserLikeClient(socketio.AsyncClient):
    """python-socketio's asyncio client, waiting as long as socket.io-client (the room page's)
    does for a connection: its reconnects otherwise give up on a namespace not connected
    within 1 s, and each new attempt adds a handshake to a busy process's load."""

    async def connect(self, *args: Any, wait_timeout: float = 20, **kwargs: Any) -> None:
        await super().connect(*args, wait_timeout=wait_timeout, **kwargs)


class Viewer:
    """One socket of a pupil in the room, as the room page behaves: on a reconnect it joins
    again, and notes when the server acknowledged that."""

    def __init__(self, url: str, token: str, cookie: str, lecture_id: int) -> None:
        self.url, self.token, self.cookie, self.lecture_id = url, token, cookie, lecture_id
        #: the namespace sid of each connection whose join the server acknowledged
        self.sids: list[str] = []
        self.rejoined_at: float | None = None
        self.refusal: Any = None
        # socket.io-client's defaults: a connection attempt waits up to 20 s (python-engineio's
        # own 5 s would give up on a busy process and try again, adding to its load)
        self.client = BrowserLikeClient(
            reconnection=True, reconnection_attempts=0, request_timeout=20
        )
        self.client.on("connect", self._connected, namespace=NAMESPACE)

    async def open(self) -> None:
        await self.client.connect(
            self.url,
            namespaces=[NAMESPACE],
            auth={"token": self.token},
            headers={"Cookie": f"elearn_node={self.cookie}"},
            transports=["websocket"],
            wait_timeout=WAIT,
        )
        reply = await self.client.call(
            "join", {"lecture_id": self.lecture_id}, namespace=NAMESPACE, timeout=WAIT
        )
        assert reply["ok"], reply
        self.sids.append(self.client.get_sid(NAMESPACE))

    async def _connected(self) -> None:
        if not self.sids:  # the first connection: open() joins
            return
        sid = self.client.get_sid(NAMESPACE)

        def rejoined(reply: dict[str, Any]) -> None:
            if reply.get("ok"):
                self.sids.append(sid)
                self.rejoined_at = time.monotonic()
            else:
                self.refusal = reply

        await self.client.emit(
            "join", {"lecture_id": self.lecture_id}, namespace=NAMESPACE, callback=rejoined
        )


def _database(stack: Stack) -> str:
    return stack.processes[0].env["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")


Interval = tuple[str, str, datetime, datetime | None]


def _intervals(stack: Stack, lecture_id: int) -> list[Interval]:
    """(sid, process, joined_at, left_at) of every attendance interval of the lecture."""
    with psycopg.connect(_database(stack), autocommit=True) as connection:
        return connection.execute(
            "SELECT i.sid, i.process, i.joined_at, i.left_at"
            " FROM lecture_attendance_intervals i"
            " JOIN lecture_attendances a ON a.id = i.attendance_id WHERE a.lecture_id = %s"
            " ORDER BY i.id",
            (lecture_id,),
        ).fetchall()


def _by_sid(intervals: list[Interval]) -> dict[str, list[Interval]]:
    found: dict[str, list[Interval]] = {}
    for row in intervals:
        found.setdefault(row[0], []).append(row)
    return found


def _beats(stack: Stack) -> dict[str, float]:
    """Each web process's seconds since its last heartbeat."""
    with psycopg.connect(_database(stack), autocommit=True) as connection:
        rows = connection.execute(
            "SELECT id, extract(epoch FROM now() - beat_at) FROM live_web_processes"
        ).fetchall()
    return {process: round(float(age), 1) for process, age in rows}


def _pid(process: str) -> int:
    return int(process.split(":")[1])


async def _open_all(viewers: list[Viewer]) -> None:
    gate = asyncio.Semaphore(OPENING)

    async def one(viewer: Viewer) -> None:
        async with gate:
            await viewer.open()

    await asyncio.gather(*(one(viewer) for viewer in viewers))


async def _until_rejoined(viewers: list[Viewer], since: float) -> None:
    while time.monotonic() - since < WAIT:
        refused = [v.refusal for v in viewers if v.refusal]
        assert not refused, f"{len(refused)} re-joins refused, e.g. {refused[0]}"
        if all(v.rejoined_at for v in viewers):
            return
        await asyncio.sleep(0.05)


def _sweep(stack: Stack, lecture_id: int, dead: str) -> None:
    """What beat sends every 30 s, sent now; waits until the worker has closed ``dead``'s
    intervals."""
    probe = Celery(broker=stack.processes[0].env["ELEARN_BROKER_URL"], set_as_current=False)
    probe.send_task("live.sweep_dead_processes")
    deadline = time.monotonic() + WAIT
    while any(p == dead and left is None for _, p, _, left in _intervals(stack, lecture_id)):
        assert time.monotonic() < deadline, "the sweep did not close process 1's intervals"
        time.sleep(0.5)


def _attendance(stack: Stack, lecture_id: int) -> list[tuple[str, int, datetime]]:
    with psycopg.connect(_database(stack), autocommit=True) as connection:
        return connection.execute(
            "SELECT u.username, a.watched_seconds, a.first_joined_at"
            " FROM lecture_attendances a JOIN users u ON u.id = a.user_id"
            " WHERE a.lecture_id = %s",
            (lecture_id,),
        ).fetchall()


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process and its reaped children (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def _worker_of(master: int) -> int:
    for stat in os.listdir("/proc"):
        if stat.isdigit():
            try:
                if parent_pid(int(stat)) == master:
                    return int(stat)
            except (OSError, IndexError):
                continue
    raise AssertionError(f"no worker of {master}")


def _report(stack: Stack) -> str:
    return "\n".join(f"--- {p.name}\n{p.tail(20)}" for p in stack.processes)


def test_a_killed_socketio_process_s_sockets_move_to_the_other_and_attendance_holds(stack):
    first, second = stack.web
    cookie = cookies_per_process(stack)[first.port]
    lecture = demo_api.county_lecture(stack.url, "进程被杀演练")
    tokens = [demo_api.token(stack.url, username) for username in PUPILS]
    viewers = [Viewer(stack.url, tokens[n % len(tokens)], cookie, lecture) for n in range(SOCKETS)]
    try:
        # in a thread of its own: the session's browser tests (Playwright's sync API) may
        # already run an event loop in this one, and asyncio.run refuses to start beside it
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, _drill(stack, viewers, lecture)).result()
    except BaseException:
        print(_report(stack))
        raise


async def _drill(stack: Stack, viewers: list[Viewer], lecture: int) -> None:
    first, second = stack.web
    try:
        started = time.monotonic()
        worker_1, worker_2 = _worker_of(first.pid), _worker_of(second.pid)
        cpu = _cpu_seconds(worker_1), time.process_time()
        await _open_all(viewers)
        print(
            f"\n{SOCKETS} sockets joined in {time.monotonic() - started:.1f} s "
            f"(process 1: {_cpu_seconds(worker_1) - cpu[0]:.1f} s of CPU, "
            f"the clients: {time.process_time() - cpu[1]:.1f} s)"
        )
        before = _by_sid(_intervals(stack, lecture))
        processes = {before[v.sids[0]][0][1] for v in viewers}
        assert len(processes) == 1, f"the sockets landed on {processes}, not process 1 alone"
        [dead] = processes
        assert parent_pid(_pid(dead)) == first.pid, (dead, first.pid)

        # a process busy with a storm of joins may miss beats (and be swept, then reopen its
        # intervals at its next beat): the kill comes once process 1 beats again, so that the
        # drill measures the sweep after a death, not the sweep of a busy process
        deadline = time.monotonic() + WAIT
        while _beats(stack)[dead] > 2 * HEARTBEAT:
            assert time.monotonic() < deadline, f"process 1 stopped beating: {_beats(stack)}"
            await asyncio.sleep(0.2)
        print("seconds since each process's last heartbeat, before the kill:", _beats(stack))
        killed_at = datetime.now(UTC)
        kill = time.monotonic()
        cpu = _cpu_seconds(worker_2), time.process_time()
        os.killpg(first.pid, signal.SIGKILL)  # the master and its worker: no disconnect runs
        assert first.popen is not None
        first.popen.wait(timeout=10)
        await _until_rejoined(viewers, kill)
        print(
            f"re-joins: process 2 {_cpu_seconds(worker_2) - cpu[0]:.1f} s of CPU, "
            f"the clients {time.process_time() - cpu[1]:.1f} s"
        )
        times = sorted(v.rejoined_at - kill for v in viewers if v.rejoined_at)
        late = SOCKETS - len(times)
        assert not late, f"{late} sockets never re-joined within {WAIT:.0f} s of the kill"
        verdict = "meets" if times[-1] <= RECONNECT_LIMIT else "MISSES"
        # a figure, not an assertion (speed targets live in bench/): see deploy/README.md
        print(
            f"reconnected and re-joined on process 2 after the kill: first {times[0]:.2f} s, "
            f"median {statistics.median(times):.2f} s, last {times[-1]:.2f} s ({verdict} "
            f"issue 20's {RECONNECT_LIMIT:.0f} s)"
        )

        # process 1 is silent for the expiry; then the sweep beat runs
        await asyncio.sleep(max(0.0, EXPIRY + 0.5 - (time.monotonic() - kill)))
        _sweep(stack, lecture, dead)
        _check_attendance(stack, viewers, lecture, dead, killed_at, second.pid)
    finally:
        await asyncio.gather(
            *(v.client.disconnect() for v in viewers if v.client.connected),
            return_exceptions=True,
        )


def _check_attendance(
    stack: Stack,
    viewers: list[Viewer],
    lecture: int,
    dead: str,
    killed_at: datetime,
    second_master: int,
) -> None:
    intervals = _intervals(stack, lecture)
    assert not [row for row in intervals if row[1] == dead and row[3] is None]
    by_sid = _by_sid(intervals)
    ends = []
    for viewer in viewers:
        rows = by_sid[viewer.sids[0]]  # more than one if process 1 was swept while busy
        assert all(row[1] == dead and row[3] is not None for row in rows), rows
        # the last closed at process 1's last heartbeat: time after the kill is not credited
        left = max(row[3] for row in rows if row[3] is not None)
        assert left <= killed_at + timedelta(seconds=HEARTBEAT), (left, killed_at)
        ends.append(left)
    lost = (killed_at - min(ends)).total_seconds()
    print(f"process 1's intervals closed at its last beat, at most {lost:.2f} s before the kill")

    # each socket counted on process 2 (if the storm kept process 2 from beating for the
    # expiry, a sweep closed its intervals too, and its next beat opens them again)
    def uncounted() -> list[str]:
        open_on_2 = {
            sid
            for sid, process, _, left in _intervals(stack, lecture)
            if left is None and parent_pid(_pid(process)) == second_master
        }
        return [v.sids[-1] for v in viewers if v.sids[-1] not in open_on_2]

    deadline = time.monotonic() + 30
    while missing := uncounted():
        assert time.monotonic() < deadline, f"{len(missing)} sockets not counted on process 2"
        time.sleep(0.5)
    now = datetime.now(UTC)
    for username, watched, first_joined in _attendance(stack, lecture):
        assert watched <= (now - first_joined).total_seconds() + 1, (username, watched)
