"""One unit of work per boundary (elearn.uow): what a request, a task or an event wrote is committed
once when it ends, and its side effects (Celery sends, Socket.IO emits) run only after that commit;
a unit that raises leaves nothing behind and sends nothing.

The HTTP boundary is exercised through a probe app of its own (routes can't be added to the suite's
app once it has served a request), on the same database connection as the test (rolled back after
it), the real Redis message queue of Socket.IO and Celery run eagerly, as in the rest of the suite.
"""

from __future__ import annotations

import json
import time
import uuid

import pytest
import redis as redis_lib
from celery import current_app as current_celery
from celery import shared_task
from flask import Blueprint, request
from sqlalchemy import func, select

from elearn import uow
from elearn.extensions import db, socketio
from elearn.models import AuditEvent
from elearn.service import audit
from tests.conftest import REDIS_URL, SECRET

#: what the probe task was given, in the order it ran
SENT: list[str] = []


@shared_task(name="tests.uow_probe")
def probe_task(marker: str) -> None:
    SENT.append(marker)


class Boom(RuntimeError):
    """The probe's failure after its work (an error the view did not expect)."""


probe = Blueprint("uow_probe", __name__)


@probe.route("/probe/write")
def write():
    audit.record("uow.probe", actor=None, target_id=request.args["marker"])
    db.session.flush()  # the row is in the transaction, as a service leaves it
    if request.args.get("fail"):
        raise Boom("after the flush")
    return "written"


@probe.route("/probe/task")
def task():
    uow.send_task(probe_task, request.args["marker"])
    if request.args.get("fail"):
        raise Boom("after queuing the task")
    return "queued"


@probe.route("/probe/emit")
def emit():
    uow.emit("probe", {"marker": request.args["marker"]}, to=request.args["room"], namespace="/")
    if request.args.get("fail"):
        raise Boom("after queuing the emit")
    return "queued"


@pytest.fixture(scope="module")
def probe_app(app):
    """An app with the probe routes (restoring the suite's Celery app and Socket.IO server)."""
    from elearn.factory import create_app

    celery_before, server_before = current_celery._get_current_object(), socketio.server
    application = create_app(
        {
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
            "SECRET_KEY": SECRET,
            "CELERY": {"task_always_eager": True, "broker_url": "memory://"},
        }
    )
    application.extensions["celery"].conf.update(task_always_eager=True, broker_url="memory://")
    application.register_blueprint(probe)
    yield application
    # the suite's Celery app becomes the current one again (a new one makes itself current and
    # default, and the shared tasks follow whichever is current)
    celery_before.set_current()
    celery_before.set_default()
    socketio.server = server_before


@pytest.fixture
def client(probe_app):
    return probe_app.test_client()


def _rows(marker: str) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == "uow.probe", AuditEvent.target_id == marker)
    )


def test_a_view_that_returns_is_committed(client, probe_app):
    marker = uuid.uuid4().hex
    assert client.get(f"/probe/write?marker={marker}").status_code == 200
    with probe_app.app_context():
        assert _rows(marker) == 1


def test_a_view_that_raises_after_a_flush_leaves_no_row(client, probe_app):
    marker = uuid.uuid4().hex
    assert client.get(f"/probe/write?marker={marker}&fail=1").status_code == 500
    with probe_app.app_context():
        assert _rows(marker) == 0


def test_a_task_queued_in_a_request_that_rolls_back_is_never_sent(client):
    kept, dropped = uuid.uuid4().hex, uuid.uuid4().hex
    assert client.get(f"/probe/task?marker={dropped}&fail=1").status_code == 500
    assert client.get(f"/probe/task?marker={kept}").status_code == 200
    assert kept in SENT and dropped not in SENT


def _drain(connection_pubsub, seen: list[dict], seconds: float = 1.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        message = connection_pubsub.get_message(timeout=0.1)
        if message and message["type"] == "message":
            seen.append(json.loads(message["data"]))


def test_an_emit_queued_in_a_rolled_back_request_never_reaches_a_client(client):
    connection = redis_lib.Redis.from_url(REDIS_URL)
    channel = connection.pubsub()
    channel.subscribe("flask-socketio")
    try:
        channel.get_message(timeout=1.0)  # the subscription's confirmation
        room = f"uow-probe-{uuid.uuid4().hex}"
        assert client.get(f"/probe/emit?marker=dropped&room={room}&fail=1").status_code == 500
        assert client.get(f"/probe/emit?marker=kept&room={room}").status_code == 200
        seen: list[dict] = []
        _drain(channel, seen)
    finally:
        channel.close()
        connection.close()
    ours = [m for m in seen if m.get("room") == room]
    assert [m["data"][0]["marker"] for m in ours] == ["kept"]


def test_effects_run_after_the_commit_in_order_and_a_rollback_drops_them(ctx):
    ran: list[str] = []
    uow.after_commit(ran.append, "first")
    uow.after_commit(ran.append, "second")
    assert ran == []  # nothing before the commit
    uow.commit()
    assert ran == ["first", "second"]
    uow.after_commit(ran.append, "never")
    uow.rollback()
    uow.commit()
    assert ran == ["first", "second"]


def test_a_failing_effect_does_not_stop_the_others(ctx, caplog):
    ran: list[str] = []

    def broken() -> None:
        raise Boom("an effect")

    uow.after_commit(broken)
    uow.after_commit(ran.append, "still")
    uow.commit()
    assert ran == ["still"]
    assert "an after-commit effect failed" in caplog.text


def test_a_task_is_one_unit_of_work(ctx):
    """The Celery task class commits what the task wrote when it returns, rolls back when it
    raises (here eagerly, as the suite runs tasks)."""
    marker = uuid.uuid4().hex

    @shared_task(name=f"tests.uow_unit_{marker}")
    def writes(fail: bool) -> None:
        audit.record("uow.probe", actor=None, target_id=marker)
        db.session.flush()
        if fail:
            raise Boom("in the task")

    with pytest.raises(Boom):
        writes.apply(args=(True,), throw=True)
    assert _rows(marker) == 0
    writes.apply(args=(False,), throw=True)
    assert _rows(marker) == 1
