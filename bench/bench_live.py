"""Chat fan-out in a live lecture: the elearn server vs a bare python-socketio server and vs Node's
socket.io 4 (``bench/node/server.js``, from the committed lock file).

Both run the same way production does (gevent + gevent-websocket, one process, the Redis message
queue), on this machine; one load generator (``bench.socketload``: gevent, raw Engine.IO websockets) connects CLIENTS
sockets to the lecture's room, and one sender posts MESSAGES chat lines back to back. Every client
notes when each line arrives (the sender's timestamp is in the text; same process, same clock).

The sender posts ROUNDS bursts of MESSAGES lines, a second apart; a round's deliveries/s is its
deliveries over the time from its first send to its last delivery. Printed: the median round's
deliveries/s (one round lasts about a second, so a single burst measured the machine's other
load as much as the server) and p50/p95 latency over all rounds, for both servers, and the ratio
(target ≥ 0.9× the bare server; ≥ 0.5× Node, issue 20).

The elearn server stores each line in PostgreSQL and re-checks the sender's login per event;
the bare server only broadcasts. Its rate limit is raised for the sender (ROUNDS bursts of MESSAGES).
"""

from __future__ import annotations

import sys

if __name__ == "__main__" and len(sys.argv) > 1 and sys.argv[1] == "--bare":
    from gevent import monkey

    monkey.patch_all()

import os  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import uuid  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import psycopg  # noqa: E402

from bench import socketload  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("ELEARN_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("ELEARN_BENCH_REDIS", "redis://127.0.0.1:6379/13")
CLIENTS = int(os.environ.get("ELEARN_BENCH_LIVE_CLIENTS", "2000"))
MESSAGES = int(os.environ.get("ELEARN_BENCH_LIVE_MESSAGES", "10"))
ROUNDS = int(os.environ.get("ELEARN_BENCH_LIVE_ROUNDS", "5"))
TARGET_RATIO = 0.9
#: against Node's socket.io 4 doing the same fan-out (issue 20)
NODE_TARGET_RATIO = 0.5
NS = "/live"


# --- the clients (bench.socketload) --------------------------------------------------------------


def _recv_until(ws: Any, prefix: str) -> str:
    return socketload.recv_until(ws, prefix)


def _open(base: str, token: str, lecture_id: int) -> Any:
    """A websocket on /live with ``token``, joined to the lecture's room."""
    return socketload.open_socket(base, NS, token, ["join", {"lecture_id": lecture_id}])


def _load_config(tokens: list[str], sender: str, lecture_id: int) -> dict[str, Any]:
    return {
        "ns": NS,
        "tokens": tokens,
        "sender": sender,
        "join": ["join", {"lecture_id": lecture_id}],
        "send": ["chat", {}],
        "receive": ["chat", ["text"]],
        "clients": CLIENTS,
        "messages": MESSAGES,
        "rounds": ROUNDS,
    }


# --- the bare server (a child process, gevent) --------------------------------------------------


def bare(port: int) -> None:
    import socketio
    from gevent import pywsgi
    from geventwebsocket.handler import WebSocketHandler

    server = socketio.Server(
        async_mode="gevent",
        client_manager=socketio.RedisManager(REDIS_URL),
        cors_allowed_origins=[],
    )
    counter = {"id": 0}

    @server.on("connect", namespace=NS)
    def _connect(sid: str, environ: dict, auth: Any = None) -> None:
        return None

    @server.on("join", namespace=NS)
    def _join(sid: str, data: Any) -> dict:
        server.enter_room(sid, f"lecture:{data['lecture_id']}", namespace=NS)
        return {"ok": True}

    @server.on("chat", namespace=NS)
    def _chat(sid: str, data: Any) -> dict:
        counter["id"] += 1
        body = {
            "id": counter["id"],
            "kind": "chat",
            "text": data["text"],
            "author": {"id": 1, "name": "张专家"},
            "upvotes": 0,
            "poll_id": None,
            "deleted": False,
            # the same shape and length as ours (microseconds, UTC offset)
            "created_at": datetime.now(UTC).isoformat(),
        }
        server.emit("chat", body, to="lecture:1", namespace=NS)
        return {"ok": True, "message": body}

    app = socketio.WSGIApp(server)
    pywsgi.WSGIServer(
        ("127.0.0.1", port), app, handler_class=WebSocketHandler, log=None
    ).serve_forever()


# --- the driver (``make bench``) -----------------------------------------------------------------


def _node_server() -> Path:
    """bench/node/server.js, its packages installed from the committed lock file once."""
    folder = Path(__file__).resolve().parent / "node"
    if not shutil.which("node") or not shutil.which("npm"):
        raise RuntimeError(
            "node and npm are missing: the Node peer needs them (apt-get install nodejs npm)"
        )
    if not (folder / "node_modules" / "socket.io").is_dir():
        done = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"], cwd=folder, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise RuntimeError(f"npm ci failed in {folder}:\n{done.stderr[-2000:]}")
    return folder / "server.js"


def run() -> list[str]:
    """Measure both servers; return the printable lines."""
    name = f"bench_live_{uuid.uuid4().hex[:8]}"
    netloc = PG_ADMIN_URL.split("://", 1)[1].rsplit("/", 1)[0]
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    env = {
        **os.environ,
        "ELEARN_SECRET_KEY": "bench-live-" + uuid.uuid4().hex + uuid.uuid4().hex,
        "DATABASE_URL": f"postgresql://{netloc}/{name}",
        "REDIS_URL": REDIS_URL,
        "ELEARN_BROKER_URL": REDIS_URL,
        "ELEARN_COOKIE_SECURE": "0",
        "ELEARN_LOG_JSON": "0",
        "ELEARN_LIVE_RATE_BURST": str(ROUNDS * MESSAGES + 5),
    }
    env.pop("ELEARN_DEMO", None)
    lines = [
        f"{CLIENTS} clients in one room, {ROUNDS} rounds of {MESSAGES} chat lines sent back to "
        "back (gevent)"
    ]
    flask = [sys.executable, "-m", "flask", "--app", "app"]
    try:
        for step in (["db", "upgrade", "heads"], ["elearn", "seed", "--scale", "demo"]):
            done = subprocess.run(
                [*flask, *step], cwd=REPO, env=env, capture_output=True, text=True
            )
            if done.returncode != 0:
                raise RuntimeError(f"{' '.join(step)} failed:\n{done.stderr[-3000:]}")
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
            # 50 pupils of the demo county, each with several tabs/devices
            tokens = [
                socketload.post_json(
                    f"{base}/api/v1/auth/token",
                    {"username": f"s_S0101_{grade}_{n:02d}", "password": "demo1234"},
                )["token"]
                for grade in (5, 6)
                for n in range(1, 26)
            ]
            sender = socketload.post_json(
                f"{base}/api/v1/auth/token", {"username": "expert1", "password": "demo1234"}
            )["token"]
            with psycopg.connect(f"postgresql://{netloc}/{name}") as conn:
                lecture_id = conn.execute("SELECT min(id) FROM lectures").fetchone()[0]  # type: ignore[index]  # min() always returns a row
            ours = socketload.run_load({**_load_config(tokens, sender, lecture_id), "base": base})
        finally:
            socketload.stop(server)
        theirs = socketload.peer(
            [sys.executable, str(Path(__file__).resolve()), "--bare"],
            env,
            _load_config(["x"], "x", 1),
        )
        node = socketload.peer(
            ["node", str(_node_server()), "{port}", REDIS_URL], env, _load_config(["x"], "x", 1)
        )
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    ratio = ours["per_second"] / theirs["per_second"] if theirs["per_second"] else 0.0
    verdict = "meets" if ratio >= TARGET_RATIO else "MISSES"
    node_ratio = ours["per_second"] / node["per_second"] if node["per_second"] else 0.0
    node_verdict = "meets" if node_ratio >= NODE_TARGET_RATIO else "MISSES"
    lines += [
        socketload.result_line("elearn /live", ours),
        socketload.result_line("bare python-socketio", theirs),
        socketload.result_line("Node socket.io 4", node),
        f"ratio {ratio:.2f}× the bare server's deliveries/s ({verdict} the ≥ {TARGET_RATIO}× target)",
        f"ratio {node_ratio:.2f}× Node socket.io's deliveries/s ({node_verdict} the "
        f"≥ {NODE_TARGET_RATIO}× target)",
        "live transcode speed and glass-to-glass latency: see live_media (python -m bench live_media)",
    ]
    return lines


if __name__ == "__main__":
    if sys.argv[1] == "--bare":
        bare(int(sys.argv[2]))
    else:
        for text in run():
            print(text)
