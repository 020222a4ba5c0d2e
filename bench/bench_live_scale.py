"""10,000 sockets on two Socket.IO processes through nginx and Redis; a poll's summary to all.

The production process model on this machine (``deploy/stack.py``: nginx in front of two
Socket.IO web processes, one gevent worker each, sharing rooms through the Redis message queue;
an API process, a Celery worker and beat) on a throwaway database, as ``make serve`` runs it.
This launcher raises its open-file limit to NOFILE, or as far as the hard limit allows (nginx,
the web processes and the load generators inherit it; nginx's ``worker_connections`` follows it,
``deploy.nginx.local_main``); gunicorn lets a one-worker process hold 10,000 connections
(``deploy/gunicorn.conf.py``).

LOADERS load-generator processes (Node and ``ws``, ``bench/node/sockets.js``, raw Engine.IO
websockets; or with ELEARN_BENCH_SCALE_LOADER=python, gevent and ``bench.bench_live``'s client,
which spends far more of the shared cores itself) open SOCKETS sockets in all through nginx, each signed in as one of 50 pupils of the demo
county (several tabs each) and joined to one lecture. Then the host (``expert1``) runs ROUNDS
polls: ``poll_start`` (everyone receives ``poll``, then a ``poll_summary``), and two seconds
later ``poll_end``, after which the final ``poll_summary`` reaches every socket (the app's
summary task wakes every 0.25 s: that wait is part of the figure). Every client notes when each
arrives; the host notes when it sent (same machine, same clock).

Printed: the sockets per web process, p50/p95/max delivery of the final summary to all (target
p95 ≤ 1 s) and of the poll itself, and the RSS of both web processes (gunicorn master and
worker; target ≤ 1.5 GB together) once all are connected and after the polls. The load
generators share the 2 cores with nginx and the servers: their own delay is in the figures.
"""

from __future__ import annotations

import sys

if __name__ == "__main__" and len(sys.argv) > 1 and sys.argv[1] == "--clients":
    from gevent import monkey

    monkey.patch_all()

import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

SOCKETS = int(os.environ.get("ELEARN_BENCH_SCALE_SOCKETS", "10000"))
#: "node" (bench/node/sockets.js) or "python" (gevent, this module's ``clients``)
LOADER = os.environ.get("ELEARN_BENCH_SCALE_LOADER", "node")
LOADERS = int(os.environ.get("ELEARN_BENCH_SCALE_LOADERS", "2" if LOADER == "node" else "4"))
ROUNDS = int(os.environ.get("ELEARN_BENCH_SCALE_ROUNDS", "3"))
#: Socket.IO web processes (the target: two; more to see how the fan-out divides)
WEB = int(os.environ.get("ELEARN_BENCH_SCALE_WEB", "2"))
#: sockets each load generator opens at once
CONCURRENCY = int(os.environ.get("ELEARN_BENCH_SCALE_CONCURRENCY", "25"))
NOFILE = 65536
REPO = Path(__file__).resolve().parent.parent
TARGET_P95 = 1.0
TARGET_RSS = 1.5e9
NS = "/live"
PUSHED = f"42{NS},"


# --- a load generator (a child process, gevent) --------------------------------------------------


def clients(base: str, tokens: list[str], lecture_id: int, count: int) -> None:
    """Open ``count`` sockets, say how many on stdout, note every poll and summary that arrives
    until SIGUSR1, then print them (``[event, poll id, open, time]``) and exit."""
    import gevent
    import gevent.event
    from gevent.pool import Pool

    from bench.bench_live import _open

    arrivals: list[tuple[str, int, bool, float]] = []
    sockets: list[Any] = []
    failures: list[str] = []

    def listen(ws: Any) -> None:
        while True:
            try:
                message = ws.recv()
            except Exception:  # noqa: BLE001 - the socket closed
                return
            if message == "2":
                ws.send("3")
            elif message.startswith((f'{PUSHED}["poll"', f'{PUSHED}["poll_summary"')):
                now = time.time()
                event, body = json.loads(message[len(PUSHED) :])
                arrivals.append((event, body["id"], body["is_open"], now))

    def connect(n: int) -> None:
        try:
            ws = _open(base, tokens[n % len(tokens)], lecture_id)
        except Exception as error:  # noqa: BLE001 - counted and reported
            failures.append(f"{type(error).__name__}: {error}")
            return
        sockets.append(ws)
        gevent.spawn(listen, ws)

    pool = Pool(CONCURRENCY)
    for n in range(count):
        pool.spawn(connect, n)
    pool.join(timeout=1200)
    done = gevent.event.Event()
    gevent.signal_handler(signal.SIGUSR1, done.set)
    print(json.dumps({"sockets": len(sockets), "failed": len(failures),
                      "failure": failures[0] if failures else None}), flush=True)  # fmt: skip
    done.wait()
    print(json.dumps(arrivals), flush=True)
    os._exit(0)  # the kernel closes the sockets at once


# --- the driver ----------------------------------------------------------------------------------


def _raise_nofile() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = NOFILE if hard == resource.RLIM_INFINITY else max(soft, min(NOFILE, hard))
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, max(NOFILE, hard)))
        return NOFILE
    except (ValueError, OSError):  # not root: as far as the hard limit goes
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        return want


def _tree(pid: int) -> list[int]:
    """``pid`` and its children (a gunicorn master and its worker)."""
    found = [pid]
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        found += _tree(int(child))
    return found


def _rss(pid: int) -> int:
    """Bytes resident in ``pid`` and its children."""
    total = 0
    for member in _tree(pid):
        for line in Path(f"/proc/{member}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
    return total


def _sockets(pid: int) -> int:
    """Open sockets of ``pid``'s worker (its tree's largest count)."""
    counts = []
    for member in _tree(pid):
        folder = Path(f"/proc/{member}/fd")
        links = []
        for name in os.listdir(folder):
            try:
                links.append(os.readlink(folder / name))
            except OSError:
                continue
        counts.append(sum(link.startswith("socket:") for link in links))
    return max(counts)


def _percentiles(values: list[float]) -> str:
    if not values:
        return "nothing arrived"
    values = sorted(values)
    p50 = values[len(values) // 2]
    p95 = values[max(0, int(len(values) * 0.95) - 1)]
    return f"p50 {p50 * 1000:,.0f} ms, p95 {p95 * 1000:,.0f} ms, max {values[-1] * 1000:,.0f} ms"


def _p95(values: list[float]) -> float:
    values = sorted(values)
    return values[max(0, int(len(values) * 0.95) - 1)] if values else float("inf")


class Host:
    """expert1's socket: opens and closes the polls, noting when it sent each."""

    def __init__(self, base: str, token: str, lecture_id: int) -> None:
        from bench.bench_live import _open

        self.ws = _open(base, token, lecture_id)
        self.ack = 100

    def call(self, event: str, data: dict[str, Any]) -> tuple[float, dict[str, Any]]:
        from bench.bench_live import _recv_until

        self.ack += 1
        sent = time.time()
        self.ws.send(f"{PUSHED}{self.ack}" + json.dumps([event, data]))
        reply = json.loads(_recv_until(self.ws, f"43{NS},{self.ack}")[len(f"43{NS},{self.ack}") :])
        if not isinstance(reply, list) or "poll" not in reply[0]:
            raise RuntimeError(f"{event} refused: {reply}")
        return sent, reply[0]["poll"]

    def idle(self, seconds: float) -> None:
        """Read (answering pings) for ``seconds``."""
        deadline = time.monotonic() + seconds
        self.ws.settimeout(0.2)
        try:
            while time.monotonic() < deadline:
                try:
                    if self.ws.recv() == "2":
                        self.ws.send("3")
                except Exception as error:  # noqa: BLE001 - websocket's timeout
                    if "timed out" not in str(error).lower():
                        raise
        finally:
            self.ws.settimeout(120)


def _polls(host: Host) -> list[tuple[int, float, float]]:
    """ROUNDS polls: (poll id, when poll_start was sent, when poll_end was sent)."""
    sent = []
    for number in range(ROUNDS):
        started, poll = host.call("poll_start", {"question": f"第{number + 1}题: 听懂了吗?",
                                                 "choices": ["懂了", "还没有"]})  # fmt: skip
        host.idle(2.0)
        ended, _poll = host.call("poll_end", {"poll_id": poll["id"]})
        host.idle(3.0)
        sent.append((poll["id"], started, ended))
    return sent


def _loaders(base: str, tokens: list[str], lecture_id: int, logs: Path) -> list[Any]:
    """LOADERS load generators, SOCKETS sockets between them: Node's (``bench/node/sockets.js``)
    unless ELEARN_BENCH_SCALE_LOADER=python (gevent, this module)."""
    listing = logs / "tokens.txt"
    listing.write_text("\n".join(tokens) + "\n")
    loaders = []
    for number in range(LOADERS):
        count = SOCKETS // LOADERS + (1 if number < SOCKETS % LOADERS else 0)
        if LOADER == "python":
            argv = [sys.executable, str(Path(__file__).resolve()), "--clients", base,
                    ",".join(tokens), str(lecture_id), str(count)]  # fmt: skip
        else:
            argv = ["node", str(_node_loader()), base, str(listing), str(lecture_id), str(count),
                    str(CONCURRENCY)]  # fmt: skip
        with (logs / f"loader-{number}.log").open("wb") as err:
            loaders.append(subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err, text=True,
                                            cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}))  # fmt: skip
    return loaders


def _node_loader() -> Path:
    """bench/node/sockets.js, its packages installed from the committed lock file once."""
    folder = REPO / "bench" / "node"
    if not shutil.which("node") or not shutil.which("npm"):
        raise RuntimeError("node and npm are missing (apt-get install nodejs npm), or set "
                           "ELEARN_BENCH_SCALE_LOADER=python")  # fmt: skip
    if not (folder / "node_modules" / "ws").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=folder, check=True,
                       capture_output=True, timeout=600)  # fmt: skip
    return folder / "sockets.js"


def _tokens(base: str) -> tuple[list[str], str]:
    import requests

    def token(username: str) -> str:
        answer = requests.post(f"{base}/api/v1/auth/token",
                               json={"username": username, "password": "demo1234"}, timeout=60)  # fmt: skip
        answer.raise_for_status()
        return str(answer.json()["token"])

    pupils = [token(f"s_S0101_{grade}_{n:02d}") for grade in (5, 6) for n in range(1, 26)]
    return pupils, token("expert1")


def _measure(stack: Any, base: str, lecture_id: int, folder: Path) -> dict[str, Any]:
    pupils, expert = _tokens(base)
    loaders = _loaders(base, pupils, lecture_id, folder)
    started = time.monotonic()
    try:
        ready = [json.loads(loader.stdout.readline() or "{}") for loader in loaders]
        connect_seconds = time.monotonic() - started
        connected = sum(r.get("sockets", 0) for r in ready)
        failure = next((r["failure"] for r in ready if r.get("failure")), None)
        web = [p.pid for p in stack.web]
        figures: dict[str, Any] = {
            "connected": connected, "connect_seconds": connect_seconds, "failure": failure,
            "per_process": [_sockets(pid) for pid in web],
            "rss_connected": [_rss(pid) for pid in web],
        }  # fmt: skip
        host = Host(base, expert, lecture_id)
        figures["polls"] = _polls(host)
        figures["rss_after"] = [_rss(pid) for pid in web]
        for loader in loaders:
            loader.send_signal(signal.SIGUSR1)
        figures["arrivals"] = [
            a for loader in loaders for a in json.loads(loader.stdout.readline() or "[]")
        ]
    finally:
        for loader in loaders:
            if loader.poll() is None:
                loader.kill()
            loader.wait()
    return figures


def _report(f: dict[str, Any]) -> list[str]:
    connected = f["connected"]
    poll_delays: list[float] = []
    summary_delays: list[float] = []
    missing = 0
    rounds = []
    for poll_id, started, ended in f["polls"]:
        opened = [t - started for e, i, _o, t in f["arrivals"] if e == "poll" and i == poll_id]
        final = [
            t - ended
            for e, i, o, t in f["arrivals"]
            if e == "poll_summary" and i == poll_id and not o
        ]
        missing += max(0, connected - len(opened)) + max(0, connected - len(final))
        poll_delays += opened
        summary_delays += final
        if final:
            rounds.append(
                f"{min(final) * 1000:,.0f}/{_p95(final) * 1000:,.0f}/{max(final) * 1000:,.0f}"
            )
    peak = max(sum(f["rss_connected"]), sum(f["rss_after"]))
    p95 = _p95(summary_delays)
    ok_delivery = p95 <= TARGET_P95 and missing == 0 and connected == SOCKETS
    lines = [
        f"{connected:,}/{SOCKETS:,} sockets connected and joined in {f['connect_seconds']:.0f} s "
        f"({LOADERS} {LOADER} load generators){'; first failure: ' + f['failure'] if f['failure'] else ''}",
        f"sockets held by the {WEB} web processes: {', '.join(f'{n:,}' for n in f['per_process'])}",
        f"final poll_summary to all, {ROUNDS} polls: {_percentiles(summary_delays)} "
        f"({len(summary_delays):,} deliveries, {missing:,} missing of poll + summary)",
        f"the final summary, first/p95/last delivery of each poll (ms): {'; '.join(rounds)} "
        "(the first: the summary task's wait and the hop through Redis; the rest: the fan-out)",
        f"poll opened (poll event) to all: {_percentiles(poll_delays)}",
        "RSS of the web processes (master + worker), connected: "
        + ", ".join(f"{b / 1e6:,.0f} MB" for b in f["rss_connected"])
        + "; after the polls: "
        + ", ".join(f"{b / 1e6:,.0f} MB" for b in f["rss_after"])
        + f"; together at most {peak / 1e6:,.0f} MB",
        f"delivery p95 {p95 * 1000:,.0f} ms [≤ {TARGET_P95 * 1000:.0f} ms, all delivered: "
        f"{'PASS' if ok_delivery else 'MISS'}], RSS {peak / 1e9:.2f} GB together "
        f"[≤ {TARGET_RSS / 1e9:.1f} GB: {'PASS' if peak <= TARGET_RSS else 'MISS'}]",
    ]
    return lines


def run() -> list[str]:
    import psycopg

    from bench import REDIS_URL, app_env, load, throwaway_database
    from deploy.stack import Ports, Stack

    nofile = _raise_nofile()
    if nofile < SOCKETS + 1000:
        raise RuntimeError(f"the open-file limit is {nofile}: too few for {SOCKETS} sockets")
    lines = [f"open-file limit {nofile:,} (as high as allowed here); the machine is shared: "
             "figures under its load"]  # fmt: skip
    with (
        tempfile.TemporaryDirectory(prefix="elearn-bench-scale-") as temp,
        throwaway_database("bench_scale") as url,
    ):
        folder = Path(temp)
        env = {
            **os.environ, **app_env(url), "REDIS_URL": REDIS_URL, "ELEARN_BROKER_URL": REDIS_URL,
            "ELEARN_MEDIA_DIR": str(folder / "media"), "ELEARN_ASYNC_MODE": "threading",
            "ELEARN_COMMIT": "bench",
            # the PostgreSQL server is shared (100 connections here): a few each is plenty
            # for joins that wait their turn on one gevent worker
            "ELEARN_DB_POOL_SIZE": os.environ.get("ELEARN_DB_POOL_SIZE", "8"),
        }  # fmt: skip
        env.pop("ELEARN_DEMO", None)
        flask = [str(REPO / ".venv" / "bin" / "flask"), "--app", "app"]
        for step in (["db", "upgrade", "heads"], ["elearn", "seed", "--scale", "demo"]):
            subprocess.run([*flask, *step], cwd=REPO, env=env, check=True, capture_output=True,
                           timeout=600)  # fmt: skip
        with psycopg.connect(url.replace("+psycopg", "")) as conn:
            lecture_id = conn.execute("SELECT min(id) FROM lectures").fetchone()[0]  # type: ignore[index]  # min() always returns a row
        ports = [_free_port() for _ in range(WEB + 2)]
        stack = Stack(
            env=env, run_dir=folder / "stack",
            ports=Ports(nginx=ports[0], web=tuple(ports[2:]), api=ports[1]),
            api_workers=1, worker_concurrency=1, log_level="warning",
        )  # fmt: skip
        with stack:
            figures = _measure(stack, stack.url, lecture_id, folder)
    lines += _report(figures)
    lines.append(f"load average after: {load()} (other work on the machine lowers every figure)")
    return lines


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


if __name__ == "__main__" and sys.argv[1] == "--clients":
    clients(sys.argv[2], sys.argv[3].split(","), int(sys.argv[4]), int(sys.argv[5]))
