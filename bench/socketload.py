"""Socket.IO fan-out load shared by the chat benches (``bench_live``, ``bench_messages``): a gevent
load generator of raw Engine.IO websockets run in a child process, and the helpers that start,
wait for and stop a server process.

The load generator connects ``clients`` sockets to a namespace (each with a token, optionally
joining a room with an acknowledged event), then one sender posts ``rounds`` bursts of
``messages`` lines, a second apart. Each line carries the sender's timestamp (``ts=…``; same
process, same clock), so every client notes each line's latency as it arrives. A round's
deliveries/s is its deliveries over the time from its first send to its last delivery; the
result has the median round's, and p50/p95 latency over all rounds.

Run it with ``run_load(config)``: ``config`` is the JSON the child reads on its standard input
(see ``load``).
"""

from __future__ import annotations

import sys

if __name__ == "__main__" and len(sys.argv) > 1 and sys.argv[1] == "--load":
    from gevent import monkey

    monkey.patch_all()

import json  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


# --- the load generator (a child process, gevent) -----------------------------------------------


def recv_until(ws: Any, prefix: str) -> str:
    """The next Engine.IO message starting with ``prefix`` (answering pings meanwhile)."""
    while True:
        message = ws.recv()
        if message == "2":
            ws.send("3")
            continue
        if message.startswith(prefix):
            return message


def open_socket(base: str, ns: str, token: str, join: list[Any] | None = None) -> Any:
    """A websocket connected to namespace ``ns`` with ``{"token": token}``; ``join`` is an
    ``[event, data]`` sent (and its acknowledgement awaited, ``{"ok": true}``) once connected."""
    import websocket

    url = base.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    ws = websocket.create_connection(url, timeout=120)
    recv_until(ws, "0")
    ws.send(f"40{ns}," + json.dumps({"token": token}))
    reply = recv_until(ws, "4")
    if not reply.startswith(f"40{ns},"):  # 44: the connection was refused
        raise RuntimeError(f"connect refused: {reply}")
    if join:
        ws.send(f"42{ns},1" + json.dumps(join))
        answer = json.loads(recv_until(ws, f"43{ns},1")[len(f"43{ns},1") :])[0]
        if not answer.get("ok"):
            raise RuntimeError(f"{join[0]} refused: {answer}")
    return ws


def _text_of(body: Any, path: list[str]) -> str:
    for key in path:
        body = body[key]
    return str(body)


def load(config: dict[str, Any]) -> dict[str, Any]:
    """Run the fan-out described by ``config``: ``base`` (the server's URL), ``ns``, ``tokens``
    (the clients', used round-robin), ``sender`` (the sender's token), ``join`` (``[event,
    data]`` or null), ``send`` (``[event, data]``: the text goes in ``data["text"]``),
    ``receive`` (``[event, [key, …]]``: the event the clients count and where its text is),
    ``clients``, ``messages`` and ``rounds``."""
    import statistics

    import gevent
    import gevent.event
    from gevent.pool import Pool

    base, ns, tokens = config["base"], config["ns"], config["tokens"]
    clients, messages, rounds = config["clients"], config["messages"], config["rounds"]
    join = config.get("join")
    send_event, send_data = config["send"]
    receive_event, text_path = config["receive"]
    counted = f'42{ns},["{receive_event}"'
    latencies: list[float] = []
    sockets: list[Any] = []
    #: per round: deliveries, the time of the last one, and the event set when all arrived
    counts = [0] * rounds
    lasts = [0.0] * rounds
    dones = [gevent.event.Event() for _ in range(rounds)]
    expected = {"per_round": clients * messages}  # corrected below for clients that failed to join

    def listen(ws: Any) -> None:
        while True:
            try:
                message = ws.recv()
            except Exception:  # noqa: BLE001 - the socket closed at the end
                return
            if message == "2":
                ws.send("3")
            elif message.startswith(counted):
                text = _text_of(json.loads(message[len(f"42{ns},") :])[1], text_path)
                now = time.time()
                latencies.append(now - float(text.split("ts=", 1)[1]))
                round_ = int(text.split(" ", 1)[0][1:])
                counts[round_] += 1
                lasts[round_] = now
                if counts[round_] >= expected["per_round"]:
                    dones[round_].set()

    #: per round: when the server acknowledged its first line (its handler returned)
    acks: dict[int, float] = {}

    def pong(ws: Any) -> None:
        while True:
            try:
                message = ws.recv()
            except Exception:  # noqa: BLE001 - the socket closed at the end
                return
            if message == "2":
                ws.send("3")
            elif message.startswith(f"43{ns},"):
                ack_id = message[len(f"43{ns},") :].split("[", 1)[0]
                if ack_id.isdigit():
                    acks.setdefault(int(ack_id) - 1, time.time())

    listeners: list[Any] = []
    failures: list[str] = []

    def connect(n: int) -> None:
        try:
            ws = open_socket(base, ns, tokens[n % len(tokens)], join)
        except Exception as error:  # noqa: BLE001 - counted and reported, never hung on
            failures.append(f"{type(error).__name__}: {error}")
            return
        sockets.append(ws)
        # read (and answer pings) from the start: a silent client is dropped after the ping timeout
        listeners.append(gevent.spawn(listen, ws))

    connecting = time.monotonic()
    pool = Pool(100)
    for n in range(clients):
        pool.spawn(connect, n)
    pool.join(timeout=600)
    pool.kill(timeout=5)
    connect_seconds = time.monotonic() - connecting
    if failures:
        print(f"{len(failures)} clients failed to join, e.g. {failures[0]}", file=sys.stderr)
    expected["per_round"] = len(sockets) * messages
    sender = open_socket(base, ns, config["sender"], join)
    listeners.append(gevent.spawn(pong, sender))  # its own copies of the lines are not counted
    rates: list[float] = []
    handled: list[float] = []
    seconds = 0.0
    for round_ in range(rounds):
        time.sleep(1.0)
        first = time.time()
        for n in range(messages):
            text = f"r{round_} line {n} ts={time.time():.6f}"
            ack = str(round_ + 1) if n == 0 else ""  # the round's first line asks for an answer
            sender.send(f"42{ns},{ack}" + json.dumps([send_event, {**send_data, "text": text}]))
        dones[round_].wait(timeout=120)
        last = lasts[round_] if counts[round_] else time.time()
        seconds += last - first
        rates.append(counts[round_] / (last - first) if last > first else 0.0)
        if round_ in acks:
            handled.append(acks[round_] - first)
    for ws in [*sockets, sender]:
        ws.close()
    gevent.killall(listeners, timeout=5)
    latencies.sort()
    count = len(latencies)
    return {
        "deliveries": count,
        "expected": expected["per_round"] * rounds,
        "failed_joins": len(failures),
        "connect_seconds": connect_seconds,
        "seconds": seconds,
        "per_second": statistics.median(rates),
        "rounds": [round(rate) for rate in rates],
        "p50_ms": 1000 * latencies[count // 2] if count else None,
        "p95_ms": 1000 * latencies[int(count * 0.95) - 1] if count else None,
        #: from a round's first send to the server's answer to it: the handler's time, and
        #: under load the fan-out the answer queued behind in the same process
        "answered_ms": 1000 * statistics.median(handled) if handled else None,
    }


def run_load(config: dict[str, Any]) -> dict[str, Any]:
    """Run ``load(config)`` in a child process (gevent, monkey-patched); its result."""
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--load"],
        cwd=REPO,
        input=json.dumps(config),
        capture_output=True,
        text=True,
        timeout=900,
    )
    if out.returncode != 0:
        raise RuntimeError(f"the load generator failed:\n{out.stderr[-3000:]}")
    if out.stderr.strip():
        print("    | " + out.stderr.strip().splitlines()[-1], flush=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def result_line(name: str, result: dict[str, Any]) -> str:
    """One printable line of a ``load`` result."""
    return (
        f"{name:<22} {result['deliveries']:>6}/{result['expected']} delivered in "
        f"{result['seconds']:.2f} s: {result['per_second']:,.0f} deliveries/s "
        f"(median of rounds {', '.join(f'{rate:,}' for rate in result['rounds'])}), "
        f"{result['failed_joins']} joins failed, "
        f"p50 {result['p50_ms']:.0f} ms, p95 {result['p95_ms']:.0f} ms"
        + (
            f", sender answered in {result['answered_ms']:.0f} ms (median)"
            if result.get("answered_ms") is not None
            else ""
        )
    )


# --- server processes -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, process: subprocess.Popen) -> None:
    """Wait until ``url`` answers (any HTTP status), or fail if the process exits first."""
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


def stop(process: subprocess.Popen) -> None:
    """Stop a server started with ``start_new_session=True`` (its whole process group)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def post_json(url: str, body: dict, token: str | None = None) -> dict:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def peer(argv: list[str], env: dict[str, str], config: dict[str, Any]) -> dict[str, Any]:
    """Start a peer server (``{port}`` in ``argv`` is its port, else appended), run the load
    ``config`` (its ``base`` filled in) against it, stop it; the load's result."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    argv = [a.replace("{port}", str(port)) for a in argv]
    if str(port) not in argv:
        argv.append(str(port))
    server = subprocess.Popen(
        argv,
        cwd=REPO,
        env={**env, "PYTHONPATH": str(REPO)},  # a bench module run as a script imports ``bench``
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_http(f"{base}/socket.io/?EIO=4&transport=polling", server)
        return run_load({**config, "base": base})
    finally:
        stop(server)


if __name__ == "__main__":
    if sys.argv[1:] == ["--load"]:
        print(json.dumps(load(json.loads(sys.stdin.read()))))
