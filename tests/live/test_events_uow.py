"""A Socket.IO event is one unit of work (elearn.uow): the handler wrapper of live/events.py commits
what the handler wrote when it returns, then sends the emits it queued; a handler that is refused
or fails leaves no row and its emits never reach a client.

In-process, with Flask-SocketIO's test client on the suite's app (the test's own rolled-back
database connection); the test client needs the server's rooms in this process, so the Redis
message queue is set aside while it runs.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import socketio as python_socketio
from sqlalchemy import func, select

from elearn import uow
from elearn.extensions import db, socketio
from elearn.models import AuditEvent, User
from elearn.service import accounts, audit
from elearn.service.errors import ServiceError
from live.events import Connection, _handler, user_room
from live.summaries import NAMESPACE
from tests.conftest import user

PROBE = "tests.uow_probe"


@_handler(PROBE)
def probe(conn: Connection, actor: User, data: Any) -> dict[str, Any]:
    """Writes a row, queues an emit to ``room``, then succeeds or fails as ``data["fail"]`` says."""
    audit.record("uow.probe", actor=None, target_id=data["marker"])
    db.session.flush()
    uow.emit("probe", {"marker": data["marker"]}, to=data["room"], namespace=NAMESPACE)
    if data.get("fail") == "refused":
        raise ServiceError("refused after the flush")
    if data.get("fail") == "error":
        raise RuntimeError("failed after the flush")
    return {"marker": data["marker"]}


def _rows(marker: str) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == "uow.probe", AuditEvent.target_id == marker)
    )


@pytest.fixture
def local_rooms(app):
    """The server's rooms in this process only, as the test client requires, for the test."""
    queue = socketio.server.manager
    manager = python_socketio.Manager()
    manager.set_server(socketio.server)
    manager.initialize()
    socketio.server.manager = manager
    yield
    socketio.server.manager = queue


@pytest.fixture
def peer(app, local_rooms):
    with app.app_context():
        student = user("student1")
        token, _expires = accounts.issue_api_token(user=student, hours=1)
        room = user_room(student.id)
        db.session.commit()  # the test's savepoint: seen by the handlers, undone after the test
    client = socketio.test_client(app, namespace=NAMESPACE, auth={"token": token})
    assert client.is_connected(NAMESPACE)
    client.room = room  # the student's own room, joined on connect
    yield client
    client.disconnect(namespace=NAMESPACE)


def _heard(client) -> list[str]:
    return [
        event["args"][0]["marker"]
        for event in client.get_received(NAMESPACE)
        if event["name"] == "probe"
    ]


@pytest.mark.parametrize("fail", ["refused", "error"])
def test_an_event_that_fails_leaves_no_row_and_its_emit_never_reaches_a_client(app, peer, fail):
    dropped, kept = uuid.uuid4().hex, uuid.uuid4().hex
    answer = peer.emit(PROBE, {"marker": dropped, "room": peer.room, "fail": fail},
                       namespace=NAMESPACE, callback=True)  # fmt: skip
    assert answer["ok"] is False
    assert _heard(peer) == []
    answer = peer.emit(PROBE, {"marker": kept, "room": peer.room}, namespace=NAMESPACE,
                       callback=True)  # fmt: skip
    assert answer == {"ok": True, "marker": kept}
    assert _heard(peer) == [kept]
    with app.app_context():
        assert _rows(dropped) == 0
        assert _rows(kept) == 1
