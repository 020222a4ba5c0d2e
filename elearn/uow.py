"""One unit of work per boundary, and the side effects that wait for its commit.

A boundary is where work enters the app: an HTTP request, a Socket.IO event, a Celery task, a CLI
command. Each runs its work through services that flush and never commit; the boundary then
commits once (``commit``) and only after that runs what the work queued with ``after_commit``:
Celery sends, Socket.IO emits, cache invalidation, pushes. A unit that raises is rolled back
(``rollback``) and its queue dropped, so a worker never looks for a row that was never written and
no client hears of a change that did not happen (indico's ``RH.process`` and its after-commit
queue, in our terms).

Each kind of boundary has one helper, and nothing else commits:

* HTTP: the app commits when the view returns (``elearn.factory.App.dispatch_request``), before
  the response leaves, so a commit that fails is answered as an error; the error handlers of
  ``elearn.web`` roll back;
* Celery: the task class of ``elearn.celery_app`` wraps ``run`` in ``unit()``;
* Socket.IO: the event wrappers (``live/events.py``) call ``commit`` / ``rollback``;
* CLI: commands wrap their work in ``unit()``;
* a task whose steps must be seen by others before it ends (a lease taken before an hour of
  ffmpeg) runs each step in its own ``unit()``.

The queue lives in the session's ``info``, so it follows the transaction it belongs to: a
rollback (the session's ``after_rollback``) empties it, whoever triggers it.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from elearn.extensions import db, socketio

log = logging.getLogger(__name__)

_QUEUE = "elearn.after_commit"

Effect = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]


def after_commit(func: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Call ``func(*args, **kwargs)`` once the current unit of work has committed; never when it
    rolls back. Effects run in the order they were queued."""
    db.session.info.setdefault(_QUEUE, []).append((func, args, kwargs))


def send_task(task: Any, *args: Any, **options: Any) -> None:
    """Queue a Celery task with these arguments once the unit commits (its worker must find the
    rows the unit wrote); ``options`` go to ``apply_async`` (``countdown``, ``queue``…)."""
    after_commit(task.apply_async, args, **options)


def emit(event_name: str, data: Any = None, **options: Any) -> None:
    """Emit a Socket.IO event (``to=``, ``namespace=``…) once the unit commits."""
    after_commit(socketio.emit, event_name, data, **options)


def pending() -> list[Effect]:
    """The effects queued in the current unit (for tests and for the boundary helpers)."""
    return list(db.session.info.get(_QUEUE, ()))


def commit() -> None:
    """Commit the current unit of work, then run the effects it queued."""
    db.session.commit()
    run_effects()


def rollback() -> None:
    """Roll the current unit of work back; its queued effects are dropped."""
    db.session.rollback()
    db.session.info.pop(_QUEUE, None)


def run_effects() -> None:
    """Run the effects queued before the last commit, each once. An effect that fails is logged
    and the rest still run: the unit is committed, and what it wrote stands."""
    while True:
        queue = db.session.info.pop(_QUEUE, None)
        if not queue:
            return
        for func, args, kwargs in queue:
            try:
                func(*args, **kwargs)
            except Exception:  # noqa: BLE001 - one lost side effect must not hide the others
                log.exception("an after-commit effect failed: %r", func)


@contextlib.contextmanager
def unit() -> Iterator[None]:
    """A unit of work: commit (then run its effects) when the block ends, roll back if it raises."""
    try:
        yield
    except BaseException:
        rollback()
        raise
    commit()


@contextlib.contextmanager
def savepoint() -> Iterator[None]:
    """Undo what the block wrote if it raises, and only that: for a service call a view expects
    may be refused (a form answered with its error); the rest of the unit stands."""
    with db.session.begin_nested():
        yield


def boundary(func: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``func`` as one unit of work (a CLI command, a task body)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with unit():
            return func(*args, **kwargs)

    return wrapper


@event.listens_for(Session, "after_rollback")
def _drop_effects(session: Session) -> None:
    # whoever rolled back (an error handler, a failed flush), what the unit queued never happens
    session.info.pop(_QUEUE, None)
