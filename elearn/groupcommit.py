"""Group commit: many requests' small writes carried by one statement and one commit.

Each caller hands in one item and waits. A caller that finds no batch running becomes the
leader: it takes every item waiting at that moment (its own first), runs them as one batch,
hands each caller its own outcome, and passes the lead to the first caller that arrived
meanwhile.
While a batch is at the database the next one fills, so batches grow with the load and an idle
server adds no wait at all: a lone request is a batch of one.

Written with ``threading`` primitives, which gevent's monkey-patching makes cooperative: the same
code batches a gevent worker's greenlets in production and a test's threads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Outcome = TypeVar("Outcome")


class _Waiter(Generic[Item, Outcome]):
    __slots__ = ("item", "outcome", "error", "lead", "ready")

    def __init__(self, item: Item) -> None:
        self.item = item
        self.outcome: Outcome | None = None
        self.error: BaseException | None = None
        self.lead = False
        self.ready = threading.Event()


class GroupCommit(Generic[Item, Outcome]):
    """Runs ``run(items) -> outcomes`` (one outcome per item, in order) over batches of waiting
    callers. An exception from ``run`` is raised in every caller of that batch."""

    def __init__(self, run: Callable[[Sequence[Item]], Sequence[Outcome]], *, limit: int = 200):
        self._run = run
        self._limit = limit
        self._lock = threading.Lock()
        self._waiting: list[_Waiter[Item, Outcome]] = []
        #: a batch is running
        self._busy = False
        #: batches run and items carried, for the tests and the bench
        self.batches = 0
        self.items = 0

    def submit(self, item: Item) -> Outcome:
        waiter: _Waiter[Item, Outcome] = _Waiter(item)
        with self._lock:
            self._waiting.append(waiter)
            waiter.lead = not self._busy
            self._busy = True
        if not waiter.lead:
            waiter.ready.wait()
        if waiter.lead:
            self._lead(waiter)
        if waiter.error is not None:
            raise waiter.error
        return waiter.outcome  # type: ignore[return-value]  # set by the batch that ran it (no error: an outcome), typed Optional until then

    def _lead(self, leader: _Waiter[Item, Outcome]) -> None:
        with self._lock:  # the leader first (it waited longest), then those behind it
            self._waiting.remove(leader)
            batch = [leader, *self._waiting[: self._limit - 1]]
            del self._waiting[: self._limit - 1]
        try:
            outcomes = self._run([waiter.item for waiter in batch])
            if len(outcomes) != len(batch):
                raise RuntimeError("a group commit's run must give one outcome per item")
            for waiter, outcome in zip(batch, outcomes, strict=True):
                waiter.outcome = outcome
        except BaseException as error:  # every caller of the batch hears of it
            for waiter in batch:
                waiter.error = error
        with self._lock:
            self.batches += 1
            self.items += len(batch)
            following = self._waiting[0] if self._waiting else None
            if following is None:
                self._busy = False
            else:
                following.lead = True
        for waiter in batch:
            waiter.lead = False
            waiter.ready.set()
        if following is not None:
            following.ready.set()
