"""One id per web request, carried into every log line it causes, in whichever process.

An operator who reads "something went wrong" in a teacher's screenshot finds the request's id in
the answer's ``X-Request-ID`` header; with it they find every log line of that request, of the
Celery tasks it queued (on whichever worker ran them) and its Sentry event.

The id is the caller's ``X-Request-ID`` when it is short and plain (nginx's ``$request_id``, a
load balancer's, a client's: up to 64 letters, digits and ``-_.:``), otherwise a new random one:
anything else (spaces, quotes, newlines, kilobytes) would reach the logs as the caller wrote it.

It lives in a context variable, which gevent gives each greenlet of its own: the logging filter
reads it for every record, the Celery publish signal copies it into the message's headers, and the
worker's prerun signal sets it again for the task's own log lines.
"""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar, Token
from typing import Any

import sentry_sdk
from celery import signals

#: Celery message header carrying the id (a name no Celery option uses)
HEADER = "elearn_request_id"
_SAFE = re.compile(r"[A-Za-z0-9._:-]{1,64}\Z")

_current: ContextVar[str | None] = ContextVar("elearn_request_id", default=None)


def current() -> str | None:
    """The id of the request (or task) this code runs for, if any."""
    return _current.get()


def accepted(sent: str | None) -> str:
    """The caller's id when it is short and plain, else a new one."""
    if sent and _SAFE.match(sent):
        return sent
    return uuid.uuid4().hex


def bind(request_id: str | None) -> Token[str | None]:
    """Make ``request_id`` the current id; ``unbind(token)`` restores the one before."""
    return _current.set(request_id)


def unbind(token: Token[str | None]) -> None:
    _current.reset(token)


class LogFilter(logging.Filter):
    """Adds ``request_id`` to each record made while an id is current (a JSON log line's field)."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = _current.get()
        if request_id is not None:
            record.request_id = request_id
        return True


# Celery: the id travels in the message's headers and is current while the task runs. Eagerly
# run tasks (tests, the embedded demo's in-process calls) run inside the request itself, so the id
# is already current there and the prerun signal keeps it.

_task_tokens: dict[str, Token[str | None]] = {}


def _on_publish(headers: dict[str, Any] | None = None, **_: Any) -> None:
    request_id = _current.get()
    if request_id is not None and headers is not None:
        headers.setdefault(HEADER, request_id)


def _on_prerun(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    sent = getattr(getattr(task, "request", None), HEADER, None)
    request_id = accepted(sent) if sent else _current.get()
    if request_id is None:
        request_id = uuid.uuid4().hex  # a beat task's own id: its log lines still group
    if task_id is not None:
        _task_tokens[task_id] = _current.set(request_id)
    sentry_sdk.set_tag("request_id", request_id)  # a no-op without a DSN


def _on_postrun(task_id: str | None = None, **_: Any) -> None:
    token = _task_tokens.pop(task_id, None) if task_id is not None else None
    if token is not None:
        try:
            _current.reset(token)
        except ValueError:  # set in another context (never in Celery's own pools)
            _current.set(None)


def connect_celery() -> None:
    """Carry the id through Celery (idempotent: the signals are process-wide)."""
    signals.before_task_publish.connect(_on_publish, weak=False, dispatch_uid="elearn-rid-pub")
    signals.task_prerun.connect(_on_prerun, weak=False, dispatch_uid="elearn-rid-prerun")
    signals.task_postrun.connect(_on_postrun, weak=False, dispatch_uid="elearn-rid-postrun")
