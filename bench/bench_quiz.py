"""Exams under load: answer autosaves and 5,000 students starting the same exam, on gunicorn.

Both servers run under the production gunicorn settings (``deploy/gunicorn.conf.py``: gevent +
gevent-websocket, the same worker connections, keep-alive and access log) with WORKERS workers,
as an API process runs them (one per core; deploy/README.md), against PostgreSQL on this
machine; only the WSGI app differs: elearn, or a Flask hello-world.

1. **Attempt start.** STUDENTS students of one school (100 classes) each hold an API token; every
   one opens a connection, then all send ``POST /api/v1/quizzes/<id>/attempts`` at the same
   instant (non-blocking sockets and epoll). Printed: errors, p50/p95/max from each request's send, started/s.
2. **Answer saves.** wrk (Debian's, one thread, a Lua script) sends
   ``PUT /api/v1/attempts/<id>/answers/<qid>`` round-robin over the slots of SAVE_ATTEMPTS
   attempts started in step 1, each save with a higher ``seq`` than the last one to that slot,
   for SAVE_SECONDS; then the same script against the hello-world. Printed: req/s, p50/p95 for
   both, and the ratio; the CPU each request cost the server, PostgreSQL and wrk (read from
   ``/proc`` around each run), and the ratio those costs allow on this machine's cores even to a
   server whose save cost no more than a hello-world request; how many saves each commit carried
   (the autosave lane's group commit, from PostgreSQL's statistics).
3. **Counted afterwards,** in the database: every slot holds the latest acknowledged (2xx) save,
   or a later one that was still in flight when wrk stopped, with the answer sent with that seq;
   no slot rows were added or lost. Anything else is a lost or duplicated answer: an error.

The load generators share the machine's cores with the server and PostgreSQL, so the figures are
lower bounds of what a separate load generator would measure. Exits non-zero only on errors
(failed requests, lost or duplicated answers); a missed target is printed as MISS.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from bench import REPO, app_env, build_app, cpu_spent, load, throwaway_database

STUDENTS = int(os.environ.get("ELEARN_BENCH_QUIZ_STUDENTS", "5000"))
SAVE_ATTEMPTS = int(os.environ.get("ELEARN_BENCH_QUIZ_SAVE_ATTEMPTS", "1000"))
SAVE_SECONDS = int(os.environ.get("ELEARN_BENCH_QUIZ_SECONDS", "20"))
SAVE_CONNECTIONS = int(os.environ.get("ELEARN_BENCH_QUIZ_CONNECTIONS", "64"))
#: gunicorn workers for both servers: an API process runs one per core
WORKERS = int(os.environ.get("ELEARN_BENCH_QUIZ_WORKERS", str(os.cpu_count() or 1)))
TARGET_RPS = 1000
TARGET_P95_MS = 200
TARGET_RATIO = 0.55
TARGET_START_P95_MS = 2000
CLASSES = 100
#: a student's phone gives up on the start after this many seconds (counted as an error)
START_TIMEOUT = 120
WRK_THREADS = 1
#: what each gunicorn wrote to stderr (warnings and errors), for a failed run
GUNICORN_LOGS: list[str] = []
#: each running server's URL → its session (the gunicorn master's pid): whose CPU is the server's
SERVER_SESSIONS: dict[str, int] = {}


def hello_app() -> Any:
    """The baseline: a Flask hello-world answering every path and method with a little JSON."""
    from flask import Flask

    app = Flask("hello")

    @app.route("/", defaults={"path": ""}, methods=["GET", "POST", "PUT"])
    @app.route("/<path:path>", methods=["GET", "POST", "PUT"])
    def hello(path: str) -> dict[str, str]:
        return {"hello": "world"}

    return app


# --- the data -------------------------------------------------------------------------------------


def _setup(url: str) -> tuple[int, list[str]]:
    """The demo prefecture, a school of STUDENTS students with tokens, a published exam."""
    from sqlalchemy import insert, select

    from elearn.extensions import db
    from elearn.models import ApiToken, Role, RoleAssignment, Unit, User
    from elearn.seed import demo
    from elearn.service import accounts, org
    from quizzes import service
    from quizzes.models import Question
    from quizzes.seed import seed_demo_quiz

    app = build_app(url)
    with app.app_context():
        demo.seed_demo()
        seed_demo_quiz()
        county = db.session.scalar(select(Unit).where(Unit.code == "C01"))
        admin = db.session.scalar(select(User).where(User.username == "pref_admin"))
        assert county is not None and admin is not None
        school = org.create_unit(
            actor=None, parent=county, name="压测中学", code="BENCH", school_kind="junior"
        )
        classes = []
        for level in (7, 8, 9, 10):
            grade = org.create_unit(
                actor=None, parent=school, name=f"{level}年级", code=f"G{level}", grade_level=level
            )
            classes += [
                org.create_unit(actor=None, parent=grade, name=f"{n}班", code=f"{level}-{n}")
                for n in range(1, CLASSES // 4 + 1)
            ]
        password_hash = accounts.hash_password(secrets.token_urlsafe(12))
        now = datetime.now(UTC)
        ids = db.session.scalars(
            insert(User).returning(User.id),
            [
                {
                    "username": f"bench_{n:05d}",
                    "display_name": f"学生{n}",
                    "password_hash": password_hash,
                    "is_active_account": True,
                    "must_change_password": False,
                    "failed_login_count": 0,
                    "activated_at": now,
                    "created_at": now,
                }
                for n in range(STUDENTS)
            ],
        ).all()
        db.session.execute(
            insert(RoleAssignment),
            [
                {"user_id": uid, "role": Role.STUDENT, "unit_id": classes[n % len(classes)].id}
                for n, uid in enumerate(ids)
            ],
        )
        tokens = [secrets.token_urlsafe(32) for _ in ids]
        db.session.execute(
            insert(ApiToken),
            [
                {
                    "token_hash": accounts.hash_token(token),
                    "user_id": uid,
                    "expires_at": now + timedelta(hours=12),
                    "created_at": now,
                }
                for uid, token in zip(ids, tokens, strict=True)
            ],
        )
        questions = db.session.scalars(select(Question).order_by(Question.id)).all()
        quiz = service.create_quiz(
            actor=admin,
            unit=school,
            title="压测期末考试",
            items=[{"question_id": q.id, "mark": 10} for q in questions],
            audience=[(school, Role.STUDENT)],
            opens_at=now - timedelta(minutes=5),
            closes_at=now + timedelta(days=1),
            time_limit_seconds=3600,
            attempts_allowed=1,
            publish=True,
        )
        db.session.commit()
        quiz_id = quiz.id
        db.session.remove()
        db.engine.dispose()
    return quiz_id, tokens


# --- the servers ----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def _gunicorn(env: dict[str, str], app: str | None = None) -> Iterator[str]:
    """gunicorn with the production settings serving ``app`` (default: elearn); yields its URL."""
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        "deploy/gunicorn.conf.py",
        "--log-level",
        "warning",
    ]
    # a file, never a pipe: a full pipe would stall the server (it logs every request)
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(
            [*command, *([app] if app else [])],
            cwd=REPO,
            env={
                **os.environ,
                **env,
                "ELEARN_BIND": f"127.0.0.1:{port}",
                "ELEARN_WEB_WORKERS": str(WORKERS),
            },
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,
        )
        try:
            base = _wait_up(f"http://127.0.0.1:{port}", server, log)
            SERVER_SESSIONS[base] = server.pid
            yield base
        finally:
            if server.poll() is None:
                os.killpg(server.pid, signal.SIGTERM)
                try:
                    server.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(server.pid, signal.SIGKILL)
                    server.wait()
            log.seek(max(0, log.seek(0, os.SEEK_END) - 5000))
            GUNICORN_LOGS.append(log.read().decode(errors="replace"))


def _wait_up(base: str, server: subprocess.Popen, log: Any) -> str:
    deadline = time.monotonic() + 60
    while True:
        if server.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"gunicorn exited: {log.read().decode()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2):
                return base
        except OSError as error:
            if getattr(error, "code", None):  # any HTTP answer means it is up
                return base
        if time.monotonic() > deadline:
            raise RuntimeError(f"{base} did not answer within 60 s")
        time.sleep(0.3)


# --- 5,000 starts at once (epoll) -----------------------------------------------------------------


def _response(data: bytes) -> tuple[int, bytes] | None:
    """An HTTP response's status and body; None unless whole (Content-Length)."""
    head, found, body = data.partition(b"\r\n\r\n")
    if not found:
        return None
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if len(body) < length:
        return None
    return int(head.split(b" ", 2)[1]), body[:length]


def _start_wave(port: int, quiz_id: int, tokens: list[str], session: int) -> dict[str, Any]:
    """Every student's connection opened first; then every request sent, each timed from its
    own send to its whole answer. Plain non-blocking sockets and epoll: the client's CPU per
    request is a send, a few reads and a timestamp (an asyncio client cost the cores more per
    start than the server's lane does), and the answers are parsed once the wave is over. The
    CPU every process spent is read from the first send to the last answer (``session``: the
    server's)."""
    errors: list[str] = []
    sockets: list[socket.socket] = []
    for _token in tokens:
        try:
            sockets.append(socket.create_connection(("127.0.0.1", port), timeout=30))
        except OSError as error:
            errors.append(f"connect: {error}")
    time.sleep(0.5)  # let the server settle after accepting the connections
    requests = [
        (
            f"POST /api/v1/quizzes/{quiz_id}/attempts HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {token}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        ).encode()
        for token in tokens
    ]
    poll = select.epoll(len(sockets) + 1)
    by_fd: dict[int, int] = {}
    sent: dict[int, float] = {}
    answered: dict[int, float] = {}
    received: dict[int, bytearray] = {}
    cpu = cpu_spent(session)
    wave_cpu = cpu.__enter__()
    began = time.perf_counter()
    for index, sock in enumerate(sockets):
        sock.setblocking(False)
        by_fd[sock.fileno()] = index
        received[index] = bytearray()
        poll.register(sock.fileno(), select.EPOLLIN)
        sent[index] = time.perf_counter()
        sock.sendall(requests[index])
    deadline = began + START_TIMEOUT
    while by_fd and time.perf_counter() < deadline:
        for fd, _event in poll.poll(1.0):
            index = by_fd[fd]
            try:
                chunk = sockets[index].recv(1 << 16)
            except OSError as error:
                chunk = b""
                errors.append(f"{type(error).__name__}: {error}")
            if chunk:
                received[index] += chunk
                continue
            answered[index] = time.perf_counter()  # the server closed: the answer is whole
            poll.unregister(fd)
            del by_fd[fd]
    wall = time.perf_counter() - began
    cpu.__exit__(None, None, None)
    errors += [f"no answer within {START_TIMEOUT} s"] * len(by_fd)
    poll.close()
    for sock in sockets:
        sock.close()
    latencies, bodies, samples = [], [], []
    for index, at in answered.items():
        latencies.append(at - sent[index])
        response = _response(bytes(received[index]))
        if response is None:
            errors.append("an incomplete answer")
            continue
        status, body = response
        if status != 201:
            errors.append(f"HTTP {status}")
            if len(samples) < 3:
                samples.append(f"HTTP {status}: {body[:300]!r}")
            continue
        bodies.append({"token": tokens[index], **json.loads(body)})
    latencies.sort()
    return {
        "latencies": latencies,
        "errors": errors,
        "samples": samples,
        "bodies": bodies,
        "wall": wall,
        "cpu": wave_cpu,
    }


# --- answer saves (wrk + Lua) ---------------------------------------------------------------------

#: each wrk thread takes every n-th slot; seq is one counter per thread times the thread count plus
#: the thread's index, so it rises for every slot and names one request across the whole run
WRK_SCRIPT = r"""
threads = {}
counter = 0
lines = {}
acked = {}
statuses = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  nthreads = tonumber(args[2])
  local i = 0
  for line in io.lines(args[1]) do
    if i % nthreads == tid then
      local fields = {}
      for field in string.gmatch(line, "[^\t]+") do table.insert(fields, field) end
      table.insert(lines, fields)
    end
    i = i + 1
  end
end

function request()
  local f = lines[counter % #lines + 1]
  counter = counter + 1
  local seq = counter * nthreads + tid + 1
  local answer = f[3 + (seq % (#f - 2))]
  local body = '{"answer": ' .. answer .. ', "seq": ' .. seq .. '}'
  return wrk.format("PUT", f[2], {["Authorization"] = "Bearer " .. f[1],
    ["Content-Type"] = "application/json"}, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 200 then
    local seq = string.match(body, '"seq":%s*(%d+)')
    if seq then table.insert(acked, seq) end
  end
end

function done(summary, latency, requests)
  local out = io.open(os.getenv("WRK_OUT"), "w")
  local counts = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      counts[tostring(status)] = (counts[tostring(status)] or 0) + n
    end
    out:write("acked ", table.concat(thread:get("acked"), " "), "\n")
    out:write("built ", thread:get("tid"), " ", thread:get("counter"), "\n")
  end
  local parts = {}
  for status, n in pairs(counts) do table.insert(parts, '"' .. status .. '": ' .. n) end
  out:write(string.format(
    'summary {"requests": %d, "seconds": %.3f, "p50_ms": %.2f, "p95_ms": %.2f, "p99_ms": %.2f,'
    .. ' "max_ms": %.2f, "socket_errors": %d, "statuses": {%s}}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(95) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    table.concat(parts, ", ")))
  out:close()
end
"""


def _variants(question: dict[str, Any]) -> list[Any]:
    """A few different, valid answers to one question (a save's seq picks one)."""
    kind = question["type"]
    ids = [o["id"] for o in question.get("options", [])]
    if kind == "single_choice":
        return ids
    if kind == "multiple_choice":
        return [ids[:1], ids[:2], ids[1:3], ids]
    if kind == "true_false":
        return [True, False]
    if kind == "fill_blank":
        return [["吸"], ["毒"], ["贩"]]
    if kind == "matching":
        prompts = [p["id"] for p in question["prompts"]]
        choices = [c["id"] for c in question["choices"]]
        return [
            {p: choices[(i + shift) % len(choices)] for i, p in enumerate(prompts)}
            for shift in range(len(choices))
        ]
    if kind == "ordering":
        items = [o["id"] for o in question["items"]]
        return [items[shift:] + items[:shift] for shift in range(len(items))]
    return ["远离毒品，珍爱生命。", "告诉老师和家长。", "坚决拒绝，马上离开！"]


def _save_slots(bodies: list[dict[str, Any]]) -> dict[tuple[int, int], list[Any]]:
    slots = {}
    for body in bodies[:SAVE_ATTEMPTS]:
        for question in body["questions"]:
            slots[(body["attempt_id"], question["id"])] = _variants(question)
    return slots


def _ordered(slots: dict[tuple[int, int], list[Any]]) -> list[tuple[int, int]]:
    order = sorted(slots)
    random.Random(7).shuffle(order)  # consecutive saves go to different attempts
    return order


def _wrk(base: str, slots: dict[tuple[int, int], list[Any]], tokens: dict[int, str]) -> dict:
    """wrk's figures, the acknowledged seqs and how many requests each thread built."""
    with tempfile.TemporaryDirectory(prefix="bench_quiz_") as folder:
        script, data, out = (Path(folder) / name for name in ("save.lua", "slots.tsv", "out.txt"))
        script.write_text(WRK_SCRIPT)
        data.write_text(
            "".join(
                f"{tokens[attempt]}\t/api/v1/attempts/{attempt}/answers/{question}\t"
                + "\t".join(json.dumps(v, ensure_ascii=False) for v in slots[(attempt, question)])
                + "\n"
                for attempt, question in _ordered(slots)
            )
        )
        with cpu_spent(SERVER_SESSIONS[base]) as cpu:
            done = subprocess.run(
                [
                    *("wrk", f"-t{WRK_THREADS}", f"-c{SAVE_CONNECTIONS}", f"-d{SAVE_SECONDS}s"),
                    *(
                        "--timeout",
                        "10s",
                        "-s",
                        str(script),
                        base,
                        "--",
                        str(data),
                        str(WRK_THREADS),
                    ),
                ],
                env={**os.environ, "WRK_OUT": str(out)},
                capture_output=True,
                text=True,
                timeout=SAVE_SECONDS + 60,
            )
        if done.returncode != 0 or not out.exists():
            raise RuntimeError(f"wrk failed: {done.stderr[-2000:]}{done.stdout[-2000:]}")
        result: dict[str, Any] = {"acked": [], "built": {}, "cpu": cpu}
        for line in out.read_text().splitlines():
            kind, _, rest = line.partition(" ")
            if kind == "acked":
                result["acked"] += [int(s) for s in rest.split()]
            elif kind == "built":
                tid, count = rest.split()
                result["built"][int(tid)] = int(count)
            elif kind == "summary":
                result.update(json.loads(rest))
    result["per_second"] = result["requests"] / result["seconds"]
    return result


def _count(url: str, slots: dict[tuple[int, int], list[Any]], save: dict[str, Any]) -> dict:
    """Compare the stored answers with what wrk was told was saved; see the module's docstring."""
    order = _ordered(slots)
    per_thread = [order[tid::WRK_THREADS] for tid in range(WRK_THREADS)]

    def slot_of(seq: int) -> tuple[int, int]:
        tid, counter = (seq - 1) % WRK_THREADS, (seq - 1) // WRK_THREADS
        mine = per_thread[tid]
        return mine[(counter - 1) % len(mine)]

    def built(seq: int) -> bool:
        tid, counter = (seq - 1) % WRK_THREADS, (seq - 1) // WRK_THREADS
        return 1 <= counter <= save["built"].get(tid, 0)

    latest: dict[tuple[int, int], int] = {}
    for seq in save["acked"]:
        key = slot_of(seq)
        latest[key] = max(latest.get(key, 0), seq)
    attempts = sorted({attempt for attempt, _ in slots})
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        rows = conn.execute(
            "SELECT attempt_id, question_id, seq, answer FROM quiz_attempt_slots"
            " WHERE attempt_id = ANY(%s)",
            (attempts,),
        ).fetchall()
    counts = {"acked": len(save["acked"]), "stored": 0, "in_flight": 0, "lost": 0, "duplicated": 0}
    counts["duplicated"] += len(save["acked"]) - len(set(save["acked"]))
    counts["duplicated"] += max(0, len(rows) - len(slots))
    counts["lost"] += max(0, len(slots) - len(rows))
    for attempt, question, seq, answer in rows:
        expected = latest.get((attempt, question), 0)
        variants = slots.get((attempt, question))
        if variants is None:
            counts["duplicated"] += 1  # a slot nobody served
        elif seq == expected and (seq == 0 or answer == variants[seq % len(variants)]):
            counts["stored"] += 1
        elif (
            seq > expected
            and built(seq)
            and slot_of(seq) == (attempt, question)
            and answer == variants[seq % len(variants)]
        ):
            counts["in_flight"] += 1  # saved as wrk stopped, the reply never read
        elif seq < expected:
            counts["lost"] += 1
        else:
            counts["duplicated"] += 1  # an answer stored that no request of that seq sent
    return counts


def _commits(url: str) -> int:
    """The database's committed transactions so far (PostgreSQL's statistics)."""
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        conn.execute("SELECT pg_stat_force_next_flush()")
        row = conn.execute(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
    return int(row[0]) if row else 0


# --- PostgreSQL alone (pgbench) -------------------------------------------------------------------

#: the autosave's work in SQL (token and owner, attempt share-locked, conditional UPDATE) on a
#: random slot, one autocommitted statement per save as the app sends it
PGBENCH_SCRIPT = """\\set sid random({low}, {high})
WITH open_attempt AS (SELECT a.id FROM quiz_attempts a JOIN quiz_attempt_slots x
  ON x.attempt_id = a.id WHERE x.id = :sid AND a.state = 'in_progress' AND a.user_id = (
  SELECT t.user_id FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.user_id = a.user_id
  AND t.revoked_at IS NULL AND t.expires_at > now() AND u.is_active_account LIMIT 1)
  FOR SHARE OF a)
UPDATE quiz_attempt_slots s SET answer = '"x"', seq = s.seq + 1, saved_at = now()
  FROM open_attempt WHERE s.attempt_id = open_attempt.id AND s.id = :sid
  RETURNING s.id;
"""
PGBENCH_CONNECTIONS = 30


def _postgres_alone(url: str) -> float | None:
    """Saves per second PostgreSQL itself sustains here (pgbench, a C client): the ceiling for
    any server that commits each save; None without pgbench."""
    if not shutil.which("pgbench"):
        return None
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as conn:
        low, high = conn.execute("SELECT min(id), max(id) FROM quiz_attempt_slots").fetchone()
    with tempfile.NamedTemporaryFile("w", suffix=".sql") as script:
        script.write(PGBENCH_SCRIPT.format(low=low, high=high))
        script.flush()
        done = subprocess.run(
            [
                *("pgbench", "-n", "-c", str(PGBENCH_CONNECTIONS), "-j", "2"),
                *("-T", "10", "-f", script.name, "-d", dsn),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    for line in done.stdout.splitlines():
        if line.startswith("tps = "):
            return float(line.split()[2])
    raise RuntimeError(f"pgbench failed: {done.stderr[-2000:]}")


# --- the driver -----------------------------------------------------------------------------------


def _pct(values: list[float], q: float) -> float:
    return 1000 * values[min(len(values) - 1, max(0, int(len(values) * q) - 1))]


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def _save_line(name: str, result: dict[str, Any]) -> str:
    statuses = ", ".join(f"{n} × {status}" for status, n in sorted(result["statuses"].items()))
    return (
        f"{name:<12} {result['per_second']:>6,.0f} req/s, p50 {result['p50_ms']:.1f} ms, "
        f"p95 {result['p95_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms "
        f"({result['requests']:,} in {result['seconds']:.1f} s: {statuses}; "
        f"{result['socket_errors']} socket errors)"
    )


def _start_cpu_line(wave: dict[str, Any]) -> str:
    """What a start cost the cores, and what the p95 target asks of it: the last 5% of the
    starts cannot finish before the cores have done 95% of all the starts' work."""
    cores, started = os.cpu_count() or 1, max(len(wave["bodies"]), 1)
    cost = {
        name: wave["cpu"].get(kind, 0.0) / started * 1000
        for name, kind in (
            ("server", "server"),
            ("postgres", "postgres"),
            ("client", "this process"),
        )
    }
    asked = cores * TARGET_START_P95_MS / (0.95 * STUDENTS)
    return (
        f"CPU per start from the first send to the last answer, ms of one core: server "
        f"{cost['server']:.2f}, PostgreSQL {cost['postgres']:.2f}, client {cost['client']:.2f}; the {STUDENTS:,} starts took "
        f"{sum(cost.values()) * started / 1000 / cores:.1f} s of all {cores} cores; a p95 ≤ "
        f"{TARGET_START_P95_MS:,} ms asks for ≤ {asked:.2f} ms a start, all told"
    )


def _cpu_lines(ours: dict[str, Any], theirs: dict[str, Any]) -> list[str]:
    """Where the cores went, per request, and the bound that puts on the ratio: a save commits
    in PostgreSQL on these same cores, whatever the server does."""

    def per_request(result: dict[str, Any], kind: str) -> float:
        return result["cpu"].get(kind, 0.0) / max(result["requests"], 1) * 1000

    cores = os.cpu_count() or 1
    # wrk is this process's child: its CPU is the children's
    save = {kind: per_request(ours, kind) for kind in ("server", "postgres", "children")}
    hello = {kind: per_request(theirs, kind) for kind in ("server", "children")}
    bound = cores * 1000 / (hello["server"] + hello["children"] + save["postgres"])
    return [
        f"CPU per request, ms of one core: answer save: server {save['server']:.2f}, PostgreSQL "
        f"{save['postgres']:.2f}, wrk {save['children']:.2f}; hello-world: server "
        f"{hello['server']:.2f}, wrk {hello['children']:.2f}",
        f"so on {cores} cores a save that cost the server no more than a hello-world request, and "
        f"PostgreSQL what it costs now, would top out near {bound:,.0f} req/s "
        f"(ratio {bound / theirs['per_second']:.2f}×)",
    ]


def run() -> list[str]:
    """Set up, measure both servers, count the answers; return the printable lines."""
    if not shutil.which("wrk"):
        raise RuntimeError("wrk is missing: apt-get install wrk (scripts/system-deps.sh does)")
    lines = [
        f"{STUDENTS:,} students of one school, a 10-question exam; gunicorn as deploy/gunicorn.conf.py"
        f" with {WORKERS} worker(s) (ELEARN_WEB_WORKERS), for both servers",
        f"generators on the same machine: epoll (starts); wrk, {WRK_THREADS} thread + Lua, "
        f"{SAVE_CONNECTIONS} connections, {SAVE_SECONDS} s (saves)",
    ]
    errors: list[str] = []
    with throwaway_database("bench_quiz") as url:
        started = time.monotonic()
        quiz_id, tokens = _setup(url)
        lines.append(
            f"setup (migrations, demo seed, students, exam): {time.monotonic() - started:.0f} s"
        )
        env = app_env(url)
        start_commits = _commits(url)
        with _gunicorn(env) as base:
            port = int(base.rsplit(":", 1)[1])
            wave = _start_wave(port, quiz_id, tokens, SERVER_SESSIONS[base])
        start_commits = _commits(url) - start_commits
        slots = _save_slots(wave["bodies"])
        owner = {body["attempt_id"]: body["token"] for body in wave["bodies"]}
        # a fresh server, as for the hello-world: nothing left over from the starts
        commits = _commits(url)
        with _gunicorn(env) as base:
            ours = _wrk(base, slots, owner)
        commits = _commits(url) - commits  # read once the server is gone: its counts flushed
        with _gunicorn(env, "bench.bench_quiz:hello_app()") as base:
            theirs = _wrk(base, slots, owner)
        counted = _count(url, slots, ours)
        alone = _postgres_alone(url)  # after the count: it changes the slots
    lat = wave["latencies"] or [float("inf")]  # every answer's latency, errors included
    start_ok = not wave["errors"] and _pct(lat, 0.95) <= TARGET_START_P95_MS
    lines.append(
        f"start, all at once: {len(wave['bodies']):,}/{STUDENTS:,} started, "
        f"{len(wave['errors'])} errors, p50 {_pct(lat, 0.5):,.0f} ms, p95 {_pct(lat, 0.95):,.0f} ms, "
        f"max {1000 * lat[-1]:,.0f} ms; the last in {wave['wall']:.1f} s "
        f"({len(wave['bodies']) / wave['wall']:,.0f} started/s) "
        f"[no errors, p95 ≤ {TARGET_START_P95_MS:,} ms: {_verdict(start_ok)}]"
    )
    if wave["errors"]:
        kinds = ", ".join(f"{n} × {kind}" for kind, n in Counter(wave["errors"]).most_common())
        lines.append(f"  failed starts: {kinds}")
        lines += [f"  e.g. {sample}" for sample in wave["samples"]]
        errors.append(f"{len(wave['errors'])} starts failed")
    lines.append(_start_cpu_line(wave))
    lines.append(
        f"group commit (quizzes.lanes.start): {len(wave['bodies']):,} starts in "
        f"{start_commits:,} transactions, {len(wave['bodies']) / max(start_commits, 1):.1f} "
        f"starts a commit"
    )
    lines.append(_save_line("answer save", ours))
    lines.append(_save_line("hello-world", theirs))
    ratio = ours["per_second"] / theirs["per_second"] if theirs["per_second"] else 0.0
    lines.append(
        f"answer save: {ours['per_second']:,.0f} req/s [≥ {TARGET_RPS:,}: "
        f"{_verdict(ours['per_second'] >= TARGET_RPS)}], p95 {ours['p95_ms']:.0f} ms "
        f"[≤ {TARGET_P95_MS} ms: {_verdict(ours['p95_ms'] <= TARGET_P95_MS)}], "
        f"ratio {ratio:.2f}× hello-world [≥ {TARGET_RATIO}: {_verdict(ratio >= TARGET_RATIO)}]"
    )
    lines.append(
        f"group commit (quizzes.lanes.save): {ours['requests']:,} saves in {commits:,} "
        f"transactions, {ours['requests'] / max(commits, 1):.1f} saves a commit"
    )
    if alone is not None:
        lines.append(
            f"PostgreSQL alone (pgbench, {PGBENCH_CONNECTIONS} connections, the save's checks and "
            f"UPDATE, each its own transaction): {alone:,.0f} saves/s, the ceiling here for a "
            f"server that commits each save; the ratio target asks for "
            f"{TARGET_RATIO * theirs['per_second']:,.0f}"
        )
    lines += _cpu_lines(ours, theirs)
    refused = sum(n for status, n in ours["statuses"].items() if status != "200")
    lines.append(
        f"counted in the database over {len(slots):,} slots of {min(SAVE_ATTEMPTS, len(owner)):,} "
        f"attempts: {counted['acked']:,} saves acknowledged, {counted['stored']:,} slots hold the "
        f"latest, {counted['in_flight']} a save in flight at the stop, {counted['lost']} lost, "
        f"{counted['duplicated']} duplicated"
    )
    if counted["lost"] or counted["duplicated"]:
        errors.append(f"{counted['lost']} answers lost, {counted['duplicated']} duplicated")
    if refused or ours["socket_errors"]:
        errors.append(f"{refused} saves answered non-200, {ours['socket_errors']} socket errors")
    lines.append(f"load average after: {load()} (other work on the machine lowers every figure)")
    if errors:
        raise RuntimeError("\n".join([*lines, *errors]))
    return lines


if __name__ == "__main__":
    for text in run():
        print(text)
