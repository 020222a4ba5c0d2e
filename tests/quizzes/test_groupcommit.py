"""Group commit: callers waiting while a batch runs go together in the next one."""

from __future__ import annotations

import threading
import time

import pytest

from quizzes.lanes.groupcommit import GroupCommit


class Gate:
    """A run that records its batches and holds the first one until ``open()``."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.entered = threading.Event()
        self.released = threading.Event()

    def __call__(self, items):
        self.batches.append(list(items))
        self.entered.set()
        self.released.wait(10)
        if any(item < 0 for item in items):
            raise ValueError("negative")
        return [item * 10 for item in items]


def _in_threads(group, items, outcomes, errors):
    def call(item):
        try:
            outcomes[item] = group.submit(item)
        except ValueError as error:
            errors[item] = error

    threads = [threading.Thread(target=call, args=(item,)) for item in items]
    for thread in threads:
        thread.start()
    return threads


def _waiting(group, count):
    deadline = time.monotonic() + 10
    while len(group._waiting) < count:
        assert time.monotonic() < deadline, "the callers never queued"
        time.sleep(0.005)


def _behind_a_batch(first, rest, *, limit=200):
    """``first`` submitted alone and held in its batch while ``rest`` queue behind it, then
    let go: the gate (its batches), each caller's outcome, and each caller's error."""
    gate = Gate()
    group = GroupCommit(gate, limit=limit)
    outcomes: dict[int, int] = {}
    errors: dict[int, Exception] = {}
    threads = _in_threads(group, first, outcomes, errors)
    assert gate.entered.wait(10)
    threads += _in_threads(group, rest, outcomes, errors)
    _waiting(group, len(rest))
    gate.released.set()
    for thread in threads:
        thread.join(10)
    return group, gate, outcomes, errors


def test_a_lone_caller_is_a_batch_of_one():
    gate = Gate()
    gate.released.set()
    group = GroupCommit(gate)
    assert group.submit(4) == 40
    assert group.submit(5) == 50
    assert gate.batches == [[4], [5]]
    assert (group.batches, group.items) == (2, 2)


def test_callers_that_arrive_during_a_batch_go_together_in_the_next():
    _group, gate, outcomes, _errors = _behind_a_batch([1], range(2, 12))
    assert gate.batches[0] == [1]
    assert sorted(gate.batches[1]) == list(range(2, 12)), "the ten waiting went as one batch"
    assert outcomes == {item: item * 10 for item in range(1, 12)}, "each caller got its own"


def test_a_failed_batch_fails_its_callers_only_and_the_next_batch_runs():
    group, _gate, outcomes, errors = _behind_a_batch([-1], [2, 3])
    assert set(errors) == {-1} and outcomes == {2: 20, 3: 30}
    assert group.submit(7) == 70 and not group._busy


def test_a_batch_takes_at_most_its_limit():
    _group, gate, outcomes, _errors = _behind_a_batch([0], range(1, 8), limit=3)
    assert [len(batch) for batch in gate.batches] == [1, 3, 3, 1]
    assert outcomes == {item: item * 10 for item in range(8)}


def test_a_run_must_answer_every_item():
    group = GroupCommit(lambda items: [])
    with pytest.raises(RuntimeError, match="one outcome per item"):
        group.submit(1)
