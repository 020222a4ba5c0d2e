"""Redis restarted mid-lecture: the chat goes on, and what was said meanwhile reaches everyone.

Two web processes (gunicorn, gevent, as production runs them) share a lecture's room through a
Redis server of the drill's own (``redis-server`` on a free port, keeping nothing on disk, as the
machine's does). A student on process 1 and a teacher on process 2 chat across them. Redis is
stopped: the student's line is still accepted and stored (the rate limit lets lines through
while it cannot be asked), but no process hears of it. Redis starts again, empty: each process's
message queue subscribes again and tells its own sockets to ``resync``; the teacher's client
joins again with the last line it saw and the room replays the missed line; a line after that
crosses the processes live again.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis as redis_lib
import socketio

from tests import demo_api
from tests.conftest import free_port
from tests.e2e import conftest as e2e

e2e_artifacts = e2e.e2e_artifacts

NAMESPACE = "/live"
WAIT = 45.0


class RedisServer:
    """A redis-server of the drill's own: stopped and started again on the same port, empty."""

    def __init__(self, folder: str) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.folder = folder
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.folder],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while True:
            try:
                redis_lib.Redis.from_url(self.url, socket_timeout=1).ping()
                return
            except redis_lib.RedisError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def two_processes(e2e_artifacts, tmp_path_factory) -> Iterator[tuple[RedisServer, str, str]]:
    server = RedisServer(str(tmp_path_factory.mktemp("redis")))
    server.start()
    try:
        name = f"elearn_redis_drill_{os.getpid()}"
        media = tmp_path_factory.mktemp("media")
        with (
            e2e._seeded_environment(server.url, e2e_artifacts, media, name=name) as env,
            e2e.web_process(env, e2e_artifacts, "redis-drill-1") as first,
            e2e.web_process(env, e2e_artifacts, "redis-drill-2") as second,
        ):
            yield server, first, second
    finally:
        server.stop()


class Member:
    """A python-socketio client in the room, as the room page behaves: it keeps the last line it
    saw, and joins again with it on a reconnect or a ``resync``."""

    def __init__(self, url: str, token: str, lecture_id: int) -> None:
        self.lecture_id = lecture_id
        self.lines: list[str] = []
        self.last_seen_id: int | None = None
        self.resyncs = 0
        self.rejoins = 0  # re-joins the server has acknowledged (a line before it may be refused)
        self._lock = threading.Lock()
        self.client = socketio.Client(reconnection=True)
        self.client.on("chat", self._chat, namespace=NAMESPACE)
        self.client.on("joined", self._joined, namespace=NAMESPACE)
        self.client.on("resync", self._resync, namespace=NAMESPACE)
        self.client.connect(url, namespaces=[NAMESPACE], auth={"token": token}, wait_timeout=WAIT)
        reply = self.client.call(
            "join", {"lecture_id": lecture_id}, namespace=NAMESPACE, timeout=WAIT
        )
        assert reply["ok"], reply

    def _seen(self, message: dict[str, Any]) -> None:
        with self._lock:
            if message["text"] not in self.lines:
                self.lines.append(message["text"])
            self.last_seen_id = max(self.last_seen_id or 0, message["id"])

    def _chat(self, data: dict[str, Any]) -> None:
        self._seen(data)

    def _joined(self, data: dict[str, Any]) -> None:
        for message in data.get("messages", []):
            self._seen(message)

    def _resync(self, data: Any = None) -> None:
        self.resyncs += 1
        self.client.emit(
            "join",
            {"lecture_id": self.lecture_id, "last_seen_id": self.last_seen_id},
            namespace=NAMESPACE,
            callback=self._rejoined,
        )

    def _rejoined(self, reply: dict[str, Any]) -> None:
        assert reply["ok"], reply
        for message in reply.get("messages", []):
            self._seen(message)
        self.rejoins += 1

    def say(self, text: str) -> dict[str, Any]:
        return self.client.call("chat", {"text": text}, namespace=NAMESPACE, timeout=WAIT)

    def wait_for(self, text: str) -> None:
        deadline = time.monotonic() + WAIT
        while text not in self.lines:
            assert time.monotonic() < deadline, f"{text!r} never arrived; lines: {self.lines}"
            time.sleep(0.1)


def test_a_redis_restart_loses_no_line_and_the_queue_resumes(two_processes):
    server, first, second = two_processes
    lecture = demo_api.county_lecture(first, "Redis 重启演练")
    student = Member(first, demo_api.token(first, "student1"), lecture)
    teacher = Member(second, demo_api.token(second, "teacher1"), lecture)
    try:
        assert student.say("重启之前")["ok"]
        teacher.wait_for("重启之前")

        server.stop()
        during = student.say("Redis 停机期间")
        assert during["ok"], during  # stored, though no process hears of it now
        time.sleep(1)
        assert "Redis 停机期间" not in teacher.lines
        server.start()

        # each process subscribes again, tells its sockets, and the room replays the gap
        teacher.wait_for("Redis 停机期间")
        deadline = time.monotonic() + WAIT  # each process's listener comes back on its own clock
        while not (teacher.rejoins and student.rejoins):  # a line sent mid-join is refused
            assert time.monotonic() < deadline, (teacher.resyncs, student.resyncs)
            time.sleep(0.1)
        after = student.say("恢复之后")
        assert after["ok"], after
        teacher.wait_for("恢复之后")
        assert teacher.lines == ["重启之前", "Redis 停机期间", "恢复之后"]
    finally:
        student.client.disconnect()
        teacher.client.disconnect()
