"""A lecture's chat across the two Socket.IO processes, through nginx: each browser stays on its
process (nginx's elearn_node cookie), its long-polls upgrade to a websocket there, and the lines
cross between processes through Redis."""

from __future__ import annotations

import time
import uuid
from typing import Any

import requests
import socketio

from tests import demo_api
from tests.stack.conftest import cookies_per_process, landing_port, parent_pid, served_by

NAMESPACE = "/live"
WAIT = 30.0


class Viewer:
    """A python-socketio client on /live, as a browser connects: long-polling first, then the
    upgrade to a websocket; it records the chat lines it receives."""

    def __init__(self, url: str, token: str, cookie: str | None = None) -> None:
        self.lines: list[str] = []
        #: in the query of every request of this client, so nginx's log tells them apart
        self.marker = uuid.uuid4().hex
        self.client = socketio.Client(reconnection=False)
        self.client.on("chat", self._chat, namespace=NAMESPACE)
        self.client.connect(
            f"{url}?viewer={self.marker}",
            namespaces=[NAMESPACE],
            auth={"token": token},
            headers={"Cookie": f"elearn_node={cookie}"} if cookie else {},
            wait_timeout=WAIT,
        )

    def _chat(self, data: Any) -> None:
        self.lines.append(data["text"])

    def join(self, lecture_id: int) -> None:
        reply = self.client.call(
            "join", {"lecture_id": lecture_id}, namespace=NAMESPACE, timeout=WAIT
        )
        assert reply["ok"], reply

    def say(self, text: str) -> None:
        reply = self.client.call("chat", {"text": text}, namespace=NAMESPACE, timeout=WAIT)
        assert reply["ok"], reply

    def wait_for(self, condition: Any, what: str) -> None:
        deadline = time.monotonic() + WAIT
        while not condition():
            assert time.monotonic() < deadline, f"timed out waiting for {what}; lines: {self.lines}"
            time.sleep(0.05)

    def close(self) -> None:
        if self.client.connected:
            self.client.disconnect()


def _upgraded(viewer: Viewer) -> None:
    viewer.wait_for(lambda: viewer.client.transport() == "websocket", "the websocket upgrade")


def test_two_processes_answer_behind_one_address(stack):
    """Each web process names itself on /healthz: two different gunicorn processes."""
    answers = [
        requests.get(f"http://127.0.0.1:{process.port}/healthz", timeout=10).json()
        for process in stack.web
    ]
    pids = [int(answer["process"].rsplit(":", 1)[1]) for answer in answers]
    assert len(set(pids)) == 2
    assert [parent_pid(pid) for pid in pids] == [process.pid for process in stack.web]
    assert {answer["version"].split("+")[1] for answer in answers} == {"stacktest"}


def test_a_chat_crosses_processes_and_each_browser_stays_on_its_own(stack, token):
    lecture = demo_api.county_lecture(stack.url, "跨进程直播课", token)
    cookies = cookies_per_process(stack)
    first_port, second_port = stack.ports.web
    # the same cookie always lands on the same process
    assert landing_port(stack, cookies[first_port]) == first_port
    student = Viewer(stack.url, token("student1"), cookies[first_port])
    teacher = Viewer(stack.url, token("teacher1"), cookies[second_port])
    try:
        for viewer in (student, teacher):
            viewer.join(lecture)
            _upgraded(viewer)
        student.say("一号进程的同学")
        teacher.wait_for(lambda: "一号进程的同学" in teacher.lines, "the line from process 1")
        teacher.say("二号进程的老师")
        student.wait_for(lambda: "二号进程的老师" in student.lines, "the line from process 2")
    finally:
        student.close()
        teacher.close()
    for viewer, port in ((student, first_port), (teacher, second_port)):
        requests_of = served_by(stack, viewer.marker, status=101)
        # its handshake (a long-poll) and its websocket (101), both on its own process
        assert {r.status for r in requests_of} >= {200, 101}, requests_of
        assert {r.upstream_ports for r in requests_of} == {(port,)}, requests_of


def test_a_browser_without_the_cookie_gets_one_and_upgrades(stack, token):
    """A first visit: nginx picks a process, sets the cookie, and the session's next requests
    (long-polls and the upgrade) reach that process (round robin would lose the session)."""
    probe = requests.get(f"{stack.url}/socket.io/?EIO=4&transport=polling", timeout=10)
    cookie = probe.cookies.get("elearn_node")
    assert cookie and "HttpOnly" in probe.headers["Set-Cookie"]
    assert "Path=/socket.io/" in probe.headers["Set-Cookie"]
    viewer = Viewer(stack.url, token("parent1"))
    try:
        _upgraded(viewer)
    finally:
        viewer.close()
    requests_of = served_by(stack, viewer.marker, status=101)
    assert {r.status for r in requests_of} >= {200, 101}, requests_of
    assert len({r.upstream_ports for r in requests_of}) == 1, requests_of
