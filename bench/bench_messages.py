"""A class-group message (一对多, ``class_guardians``) to 2,000 connected guardians: delivery
latency, and the fan-out against a bare python-socketio server in the same run.

On a throwaway database with the demo seed, the class teacher1 teaches gets GUARDIANS / 2 more
students with two guardians each (users, roles, guardian links and API tokens written with
set-based SQL), and teacher1 starts the class's broadcast (``service.start_class_broadcast``).
The server runs as production does (gunicorn with ``deploy/gunicorn.conf.py``: gevent, one
process, the Redis message queue); ``bench.socketload``'s load generator connects one socket per
guardian to ``/messages`` with their token, and the teacher's socket sends ROUNDS rounds of
MESSAGES ``send`` events (one, by default: a teacher posts one message at a time), each round a
second after the last one arrived everywhere; every message is stored, and each reaches every
guardian's room as a ``message`` event. Printed: p50/p95 delivery latency (target p95 ≤ 1 s)
and the median round's deliveries/s, then the same load against a bare python-socketio server
(one room per connected user, each message emitted to all of them: the fan-out ours does, without
the database) and the ratio (target ≥ 0.9×).
"""

from __future__ import annotations

import sys

if __name__ == "__main__" and len(sys.argv) > 1 and sys.argv[1] == "--bare":
    from gevent import monkey

    monkey.patch_all()

import hashlib  # noqa: E402
import os  # noqa: E402
import secrets  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from bench import (  # noqa: E402
    REDIS_URL,
    REPO,
    app_env,
    build_app,
    load,
    socketload,
    throwaway_database,
)

GUARDIANS = int(os.environ.get("ELEARN_BENCH_MESSAGES_GUARDIANS", "2000"))
#: a teacher posts one message at a time: ROUNDS messages, each a second after the last arrived
MESSAGES = int(os.environ.get("ELEARN_BENCH_MESSAGES_MESSAGES", "1"))
ROUNDS = int(os.environ.get("ELEARN_BENCH_MESSAGES_ROUNDS", "10"))
TARGET_P95_MS = 1000.0
TARGET_RATIO = 0.9
NS = "/messages"


# --- the bare server (a child process, gevent) --------------------------------------------------


def bare(port: int) -> None:
    """/messages without the application: a socket's token names its user's room; ``send``
    emits the message to every connected user's room, as ours emits to every member's."""
    import socketio
    from gevent import pywsgi
    from geventwebsocket.handler import WebSocketHandler

    server = socketio.Server(
        async_mode="gevent",
        client_manager=socketio.RedisManager(REDIS_URL, channel="bench-messages-bare"),
        cors_allowed_origins=[],
    )
    rooms: set[str] = set()
    counter = {"id": 0}

    @server.on("connect", namespace=NS)
    def _connect(sid: str, environ: dict, auth: Any = None) -> None:
        room = f"user:{(auth or {}).get('token')}"
        server.enter_room(sid, room, namespace=NS)
        rooms.add(room)

    @server.on("send", namespace=NS)
    def _send(sid: str, data: Any) -> dict:
        counter["id"] += 1
        body = {  # the shape and length of ours (delivery.payload)
            "id": counter["id"],
            "conversation_id": data["conversation_id"],
            "sender_id": 1,
            "sender_name": "王老师",
            "text": data["text"],
            "asset_id": None,
            "attachment": None,
            "status": "delivered",
            "automatic": False,
            "deliver_at": None,
            "created_at": datetime.now(UTC).isoformat(),
        }
        server.emit(
            "message",
            {"conversation_id": data["conversation_id"], "message": body},
            to=sorted(rooms),
            namespace=NS,
        )
        return {"ok": True, "id": body["id"], "status": "delivered"}

    app = socketio.WSGIApp(server)
    pywsgi.WSGIServer(
        ("127.0.0.1", port), app, handler_class=WebSocketHandler, log=None
    ).serve_forever()


# --- the class and its families (set-based SQL, in the driver) -----------------------------------


def _families(teacher_username: str) -> tuple[Any, Any, list[str], str]:
    """teacher1's first class, GUARDIANS more guardians in it (two per new student) with API
    tokens; returns (teacher, class, the guardians' tokens, the teacher's token)."""
    from sqlalchemy import select, text

    from elearn.extensions import db
    from elearn.models import RoleAssignment, Unit, User

    teacher = db.session.scalar(select(User).where(User.username == teacher_username))
    assert teacher is not None
    klass = db.session.scalar(
        select(Unit)
        .join(RoleAssignment, RoleAssignment.unit_id == Unit.id)
        .where(RoleAssignment.user_id == teacher.id, Unit.type == "class")
        .order_by(Unit.id)
    )
    assert klass is not None, f"{teacher_username} teaches no class"
    students = (GUARDIANS + 1) // 2
    now = datetime.now(UTC)
    params = {"students": students, "guardians": GUARDIANS, "class_id": klass.id, "now": now}
    for statement in (
        "INSERT INTO users (username, display_name, password_hash, is_active_account,"
        " must_change_password, failed_login_count, created_at)"
        " SELECT 'bench_ms_' || n, '学生' || n, '!', true, false, 0, :now"
        " FROM generate_series(1, :students) n",
        "INSERT INTO users (username, display_name, password_hash, is_active_account,"
        " must_change_password, failed_login_count, created_at)"
        " SELECT 'bench_mg_' || n, '家长' || n, '!', true, false, 0, :now"
        " FROM generate_series(1, :guardians) n",
        "INSERT INTO role_assignments (user_id, role, unit_id, created_at)"
        " SELECT id, 'student', :class_id, :now FROM users WHERE username LIKE 'bench\\_ms\\_%'",
        "INSERT INTO role_assignments (user_id, role, unit_id, created_at)"
        " SELECT id, 'guardian', :class_id, :now FROM users WHERE username LIKE 'bench\\_mg\\_%'",
        # guardians 2k-1 and 2k look after student k
        "INSERT INTO guardian_links (guardian_id, student_id, relation)"
        " SELECT g.id, s.id, CASE WHEN substr(g.username, 10)::int % 2 = 1"
        " THEN '母亲' ELSE '父亲' END"
        " FROM users g JOIN users s"
        " ON s.username = 'bench_ms_' || ((substr(g.username, 10)::int + 1) / 2)"
        " WHERE g.username LIKE 'bench\\_mg\\_%'",
    ):
        db.session.execute(text(statement), params)
    guardian_ids = list(
        db.session.scalars(
            text("SELECT id FROM users WHERE username LIKE 'bench\\_mg\\_%' ORDER BY id")
        )
    )
    tokens = [secrets.token_urlsafe(32) for _ in guardian_ids]
    teacher_token = secrets.token_urlsafe(32)
    expires = now + timedelta(hours=6)
    db.session.execute(
        text(
            "INSERT INTO api_tokens (token_hash, user_id, created_at, expires_at)"
            " VALUES (:hash, :user_id, :now, :expires)"
        ),
        [
            {
                "hash": hashlib.sha256(token.encode()).hexdigest(),
                "user_id": user_id,
                "now": now,
                "expires": expires,
            }
            for token, user_id in [
                *zip(tokens, guardian_ids, strict=True),
                (teacher_token, teacher.id),
            ]
        ],
    )
    db.session.commit()
    return teacher, klass, tokens, teacher_token


def _prepare(url: str) -> tuple[int, list[str], str, list[str]]:
    """Migrate and seed the demo, add the families, start the broadcast; returns (conversation
    id, the guardians' tokens, the teacher's token, printable lines)."""
    from elearn.extensions import db
    from parents.interaction import service

    app = build_app(url)
    done = subprocess.run(  # as the operator seeds the demo
        [sys.executable, "-m", "flask", "--app", "app", "elearn", "seed", "--scale", "demo"],
        cwd=REPO,
        env={**os.environ, **app_env(url)},
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the demo seed failed:\n{done.stderr[-3000:]}")
    with app.app_context():
        try:
            teacher, klass, tokens, teacher_token = _families("teacher1")
            started = time.perf_counter()
            conversation = service.start_class_broadcast(actor=teacher, klass=klass)
            db.session.commit()
            made = time.perf_counter() - started
            members = len(conversation.members)
            lines = [
                f"class {klass.name}: {members - 1:,} guardians in its broadcast "
                f"({GUARDIANS:,} added by SQL, with tokens), started in {made:.1f} s"
            ]
            return conversation.id, tokens, teacher_token, lines
        finally:
            db.session.remove()
            db.engine.dispose()


def _config(tokens: list[str], sender: str, conversation_id: int) -> dict[str, Any]:
    return {
        "ns": NS,
        "tokens": tokens,
        "sender": sender,
        "join": None,
        "send": ["send", {"conversation_id": conversation_id}],
        "receive": ["message", ["message", "text"]],
        "clients": len(tokens),
        "messages": MESSAGES,
        "rounds": ROUNDS,
    }


def _ours(env: dict[str, str], config: dict[str, Any], conversation_id: int) -> dict[str, Any]:
    port = socketload.free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "deploy/gunicorn.conf.py",
            "--log-level",
            "warning",
        ],
        cwd=REPO,
        env={**env, "ELEARN_BIND": f"127.0.0.1:{port}"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        socketload.wait_http(f"{base}/healthz", server)
        # one message first, through the API: the text is delivered, not held or waiting
        posted = socketload.post_json(
            f"{base}/api/v1/conversations/{conversation_id}/messages",
            {"text": "各位家长好,本周五下午家长会。"},
            config["sender"],
        )
        if posted.get("status") != "delivered":
            raise RuntimeError(f"the first message was not delivered: {posted}")
        return socketload.run_load({**config, "base": base})
    finally:
        socketload.stop(server)


def _line(name: str, result: dict[str, Any]) -> str:
    return (
        f"{socketload.result_line(name, result)} "
        f"(sockets connected in {result['connect_seconds']:.1f} s)"
    )


def run() -> list[str]:
    lines = [
        f"{GUARDIANS:,} guardians' sockets on {NS}, {ROUNDS} rounds of {MESSAGES} message(s) "
        "sent back to back by the teacher's socket (gevent, one process)"
    ]
    with throwaway_database("bench_messages") as url:
        os.environ["ELEARN_DB_POOL_SIZE"] = "8"  # PostgreSQL's 100 connections are shared
        conversation_id, tokens, teacher_token, prepared = _prepare(url)
        lines += prepared
        env = {
            **os.environ,
            **app_env(url),
            "ELEARN_BROKER_URL": REDIS_URL,
            "ELEARN_DB_POOL_SIZE": "8",
        }
        env.pop("ELEARN_DEMO", None)
        config = _config(tokens, teacher_token, conversation_id)
        load_before = load()
        ours = _ours(env, config, conversation_id)
        theirs = socketload.peer(
            [sys.executable, str(Path(__file__).resolve()), "--bare"],
            env,
            _config([f"g{n}" for n in range(len(tokens))], "teacher", conversation_id),
        )
    ratio = ours["per_second"] / theirs["per_second"] if theirs["per_second"] else 0.0
    p95 = ours["p95_ms"] or float("inf")
    lines += [
        _line("elearn /messages", ours),
        _line("bare python-socketio", theirs),
        f"delivery p95 {p95:.0f} ms: {p95 / TARGET_P95_MS:.2f}× the ≤ {TARGET_P95_MS:.0f} ms "
        f"target ({'meets' if p95 <= TARGET_P95_MS else 'MISSES'} it)",
        f"ratio {ratio:.2f}× the bare server's deliveries/s "
        f"({'meets' if ratio >= TARGET_RATIO else 'MISSES'} the ≥ {TARGET_RATIO}× target)",
        f"load average before {load_before}, now {load()}",
    ]
    return lines


if __name__ == "__main__":
    if sys.argv[1] == "--bare":
        bare(int(sys.argv[2]))
    else:
        for text in run():
            print(text)
