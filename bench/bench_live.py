"""Chat fan-out in a live lecture: the elearn server vs a bare python-socketio server and vs Node's
socket.io 4 (``bench/node/server.js``, from the committed lock file).

Both run the same way production does (gevent + gevent-websocket, one process, the Redis message
queue), on this machine; one load generator (gevent, raw Engine.IO websockets) connects CLIENTS
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

if __name__ == "__main__" and len(sys.argv) > 1 and sys.argv[1] in {"--load", "--bare"}:
    from gevent import monkey

    monkey.patch_all()

import json  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
import uuid  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import psycopg  # noqa: E402

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


# --- the load generator (a child process, gevent) -----------------------------------------------


def _recv_until(ws: Any, prefix: str) -> str:
    while True:
        message = ws.recv()
        if message == "2":
            ws.send("3")
            continue
        if message.startswith(prefix):
            return message


def _open(base: str, token: str, lecture_id: int) -> Any:
    import websocket

    url = base.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    ws = websocket.create_connection(url, timeout=120)
    _recv_until(ws, "0")
    ws.send(f"40{NS}," + json.dumps({"token": token}))
    _recv_until(ws, f"40{NS},")
    ws.send(f"42{NS},1" + json.dumps(["join", {"lecture_id": lecture_id}]))
    reply = json.loads(_recv_until(ws, f"43{NS},1")[len(f"43{NS},1") :])[0]
    if not reply.get("ok"):
        raise RuntimeError(f"join refused: {reply}")
    return ws


def load(base: str, tokens: list[str], sender_token: str, lecture_id: int) -> dict[str, Any]:
    import statistics

    import gevent
    import gevent.event
    from gevent.pool import Pool

    latencies: list[float] = []
    sockets: list[Any] = []
    #: per round: deliveries, the time of the last one, and the event set when all arrived
    counts = [0] * ROUNDS
    lasts = [0.0] * ROUNDS
    dones = [gevent.event.Event() for _ in range(ROUNDS)]
    expected = {"per_round": CLIENTS * MESSAGES}  # corrected below for clients that failed to join

    def listen(ws: Any) -> None:
        while True:
            try:
                message = ws.recv()
            except Exception:  # noqa: BLE001 - the socket closed at the end
                return
            if message == "2":
                ws.send("3")
            elif message.startswith(f'42{NS},["chat"'):
                text = json.loads(message[len(f"42{NS},") :])[1]["text"]
                now = time.time()
                latencies.append(now - float(text.split("ts=", 1)[1]))
                round_ = int(text.split(" ", 1)[0][1:])
                counts[round_] += 1
                lasts[round_] = now
                if counts[round_] >= expected["per_round"]:
                    dones[round_].set()

    def pong(ws: Any) -> None:
        while True:
            try:
                if ws.recv() == "2":
                    ws.send("3")
            except Exception:  # noqa: BLE001 - the socket closed at the end
                return

    listeners: list[Any] = []

    failures: list[str] = []

    def connect(n: int) -> None:
        try:
            ws = _open(base, tokens[n % len(tokens)], lecture_id)
        except Exception as error:  # noqa: BLE001 - counted and reported, never hung on
            failures.append(f"{type(error).__name__}: {error}")
            return
        sockets.append(ws)
        # read (and answer pings) from the start: a silent client is dropped after the ping timeout
        listeners.append(gevent.spawn(listen, ws))

    pool = Pool(100)
    for n in range(CLIENTS):
        pool.spawn(connect, n)
    pool.join(timeout=600)
    pool.kill(timeout=5)
    if failures:
        print(f"{len(failures)} clients failed to join, e.g. {failures[0]}", file=sys.stderr)
    expected["per_round"] = len(sockets) * MESSAGES
    sender = _open(base, sender_token, lecture_id)
    listeners.append(gevent.spawn(pong, sender))  # its own copies of the lines are not counted
    rates: list[float] = []
    seconds = 0.0
    for round_ in range(ROUNDS):
        time.sleep(1.0)
        first = time.time()
        for n in range(MESSAGES):
            text = f"r{round_} line {n} ts={time.time():.6f}"
            sender.send(f"42{NS}," + json.dumps(["chat", {"text": text}]))
        dones[round_].wait(timeout=120)
        last = lasts[round_] if counts[round_] else time.time()
        seconds += last - first
        rates.append(counts[round_] / (last - first) if last > first else 0.0)
    for ws in [*sockets, sender]:
        ws.close()
    gevent.killall(listeners, timeout=5)
    latencies.sort()
    count = len(latencies)
    return {
        "deliveries": count,
        "expected": expected["per_round"] * ROUNDS,
        "failed_joins": len(failures),
        "seconds": seconds,
        "per_second": statistics.median(rates),
        "rounds": [round(rate) for rate in rates],
        "p50_ms": 1000 * latencies[count // 2] if count else None,
        "p95_ms": 1000 * latencies[int(count * 0.95) - 1] if count else None,
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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_http(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError as error:
            if getattr(error, "code", None):  # an HTTP error still means it is up
                return
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within 60 s")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _post_json(url: str, body: dict, token: str | None = None) -> dict:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def _run_load(base: str, tokens: list[str], sender: str, lecture_id: int) -> dict[str, Any]:
    out = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "--load",
            base,
            ",".join(tokens),
            sender,
            str(lecture_id),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if out.returncode != 0:
        raise RuntimeError(f"the load generator failed:\n{out.stderr[-3000:]}")
    if out.stderr.strip():
        print("    | " + out.stderr.strip().splitlines()[-1], flush=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


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


def _peer(argv: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run a peer server (``{port}`` in ``argv`` is its port, else appended) and the load."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    argv = [a.replace("{port}", str(port)) for a in argv]
    if str(port) not in argv:
        argv.append(str(port))
    server = subprocess.Popen(
        argv,
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_http(f"{base}/socket.io/?EIO=4&transport=polling", server)
        return _run_load(base, ["x"], "x", 1)
    finally:
        _stop(server)


def _line(name: str, result: dict[str, Any]) -> str:
    return (
        f"{name:<22} {result['deliveries']:>6}/{result['expected']} delivered in "
        f"{result['seconds']:.2f} s: {result['per_second']:,.0f} deliveries/s "
        f"(median of rounds {', '.join(f'{rate:,}' for rate in result['rounds'])}), "
        f"{result['failed_joins']} joins failed, "
        f"p50 {result['p50_ms']:.0f} ms, p95 {result['p95_ms']:.0f} ms"
    )


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
        port = _free_port()
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
            _wait_http(f"{base}/healthz", server)
            # 50 pupils of the demo county, each with several tabs/devices
            tokens = [
                _post_json(
                    f"{base}/api/v1/auth/token",
                    {"username": f"s_S0101_{grade}_{n:02d}", "password": "demo1234"},
                )["token"]
                for grade in (5, 6)
                for n in range(1, 26)
            ]
            sender = _post_json(
                f"{base}/api/v1/auth/token", {"username": "expert1", "password": "demo1234"}
            )["token"]
            with psycopg.connect(f"postgresql://{netloc}/{name}") as conn:
                lecture_id = conn.execute("SELECT min(id) FROM lectures").fetchone()[0]  # type: ignore[index]  # min() always returns a row
            ours = _run_load(base, tokens, sender, lecture_id)
        finally:
            _stop(server)
        theirs = _peer([sys.executable, str(Path(__file__).resolve()), "--bare"], env)
        node = _peer(["node", str(_node_server()), "{port}", REDIS_URL], env)
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    ratio = ours["per_second"] / theirs["per_second"] if theirs["per_second"] else 0.0
    verdict = "meets" if ratio >= TARGET_RATIO else "MISSES"
    node_ratio = ours["per_second"] / node["per_second"] if node["per_second"] else 0.0
    node_verdict = "meets" if node_ratio >= NODE_TARGET_RATIO else "MISSES"
    lines += [
        _line("elearn /live", ours),
        _line("bare python-socketio", theirs),
        _line("Node socket.io 4", node),
        f"ratio {ratio:.2f}× the bare server's deliveries/s ({verdict} the ≥ {TARGET_RATIO}× target)",
        f"ratio {node_ratio:.2f}× Node socket.io's deliveries/s ({node_verdict} the "
        f"≥ {NODE_TARGET_RATIO}× target)",
        "live transcode speed and glass-to-glass latency: see live_media (python -m bench live_media)",
    ]
    return lines


if __name__ == "__main__":
    if sys.argv[1] == "--load":
        result = load(sys.argv[2], sys.argv[3].split(","), sys.argv[4], int(sys.argv[5]))
        print(json.dumps(result))
    elif sys.argv[1] == "--bare":
        bare(int(sys.argv[2]))
    else:
        for text in run():
            print(text)
