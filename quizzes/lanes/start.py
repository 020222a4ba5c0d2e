"""The start lane: attempt starts group-committed in front of Flask.

A term exam opens and a county's students press "start" in the same minute. ``POST
/api/v1/quizzes/<id>/attempts`` with ``Authorization: Bearer`` is answered here, in front of the
Flask app (a WSGI middleware, PostgreSQL only), like the autosave lane's saves
(``quizzes.lanes.save``): the quiz's plan is read once a while per process
(``service.plans.read_start_plan``), each attempt's questions are drawn from it here, and the
start joins a group commit that writes every start waiting at that moment in one statement,
under ``start_attempt``'s rules (``service.start_batch.start_bearer_attempts``).

Only an attempt that statement started is answered here. Anything else goes on to the Flask
route unchanged, which starts it or says why in the caller's language: no token, a quiz the
lane leaves to the route (anonymous, with media, unpublished), a resume, a refusal, a plan
gone stale (a batch that started nothing drops its plan), a failed batch.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from flask import Flask

from elearn.metrics import EXAM_LANE_BATCH, EXAM_STARTS
from elearn.models._types import INT_MAX
from elearn.service.accounts import hash_token
from quizzes.lanes import plans, start_batch
from quizzes.lanes.base import Lane, StartResponse, WSGIApp
from quizzes.lanes.groupcommit import GroupCommit

#: a start with the plan it was drawn from
Planned = tuple[plans.StartPlan, start_batch.BearerStart]

PATH = re.compile(r"/api/v1/quizzes/([0-9]{1,10})/attempts\Z")
#: a plan is read again after this long (a stale one is caught by its fingerprint anyway;
#: this bounds how long a quiz the lane left to the route stays left)
PLAN_SECONDS = 30.0
#: plans (and group commits) kept per process; the oldest are dropped beyond it
PLANS_KEPT = 256
#: counted once per batch (a start answered here pays nothing for the metrics)
STARTED_HERE = EXAM_STARTS.labels(via="lane")
START_BATCH_SECONDS = EXAM_LANE_BATCH.labels(lane="start")


class StartLane(Lane):
    """Answers the starts it can make, passes every other request on."""

    def __init__(self, app: Flask, following: WSGIApp) -> None:
        super().__init__(app, following)
        #: starts answered here, for the tests
        self.answered = 0
        #: quiz id → (read at, its plan or None: left to the route)
        self.plans: dict[int, tuple[float, plans.StartPlan | None]] = {}
        self._reading = threading.Lock()
        #: one group commit per quiz: a batch's statement starts attempts of one quiz
        self.commits: dict[int, GroupCommit[Planned, start_batch.StartedAttempt | None]] = {}

    def warm_up(self) -> None:
        with self.autocommit() as connection:
            start_batch.warm_up(connection)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "POST":
            match = PATH.match(environ.get("PATH_INFO", ""))
            authorization = environ.get("HTTP_AUTHORIZATION", "")
            if match and authorization.startswith("Bearer ") and int(match[1]) <= INT_MAX:
                token = authorization[7:].strip()
                answered = self._start(int(match[1]), token, start_response) if token else None
                if answered is not None:
                    return answered
        return self.following(environ, start_response)

    def _start(self, quiz_id: int, token: str, start_response: StartResponse) -> list[bytes] | None:
        plan = self.plan(quiz_id)
        if plan is None:
            return None
        seed = secrets.randbelow(2**31)
        drawn = plan.draw(seed)
        if not drawn:
            return None  # the route's "no questions yet"
        start = start_batch.BearerStart(token_hash=hash_token(token), seed=seed, drawn=drawn)
        commits = self.commits.get(quiz_id)
        if commits is None:
            commits = self.commits.setdefault(quiz_id, GroupCommit(self._batch))
        try:
            started = commits.submit((plan, start))
        except Exception:  # the Flask route starts it, or says why
            self.app.logger.exception("the start lane's batch failed; starting one by one")
            return None
        if started is None:
            return None
        self.answered += 1
        return self.reply(
            start_response, "201 CREATED", start_batch.started_view(plan, start, started)
        )

    def _batch(self, batch: Sequence[Planned]) -> list[start_batch.StartedAttempt | None]:
        """One batch of one quiz: one statement for the starts drawn from each plan (one,
        unless the plan was read again while they waited)."""
        started = time.perf_counter()
        outcomes: dict[int, start_batch.StartedAttempt | None] = {}
        by_plan: dict[str, list[int]] = {}
        for index, (plan, _start) in enumerate(batch):
            by_plan.setdefault(plan.fingerprint, []).append(index)
        with self.autocommit() as connection:
            for indexes in by_plan.values():
                plan = batch[indexes[0]][0]
                done = start_batch.start_bearer_attempts(
                    connection, plan, [batch[i][1] for i in indexes], now=datetime.now(UTC)
                )
                outcomes.update(zip(indexes, done, strict=True))
                if not any(done) and self.plans.get(plan.id, (0, None))[1] is plan:
                    del self.plans[plan.id]  # maybe stale: read it again for the next start
        START_BATCH_SECONDS.observe(time.perf_counter() - started)
        stored = len(outcomes) - list(outcomes.values()).count(None)
        if stored:
            STARTED_HERE.inc(stored)
        return [outcomes[i] for i in range(len(batch))]

    def plan(self, quiz_id: int) -> plans.StartPlan | None:
        """The quiz's plan as this process last read it (within ``PLAN_SECONDS``), or read now
        (one reader at a time: a burst of starts reads it once)."""
        found = self.plans.get(quiz_id)
        if found is not None and time.monotonic() - found[0] < PLAN_SECONDS:
            return found[1]
        with self._reading:
            found = self.plans.get(quiz_id)
            if found is not None and time.monotonic() - found[0] < PLAN_SECONDS:
                return found[1]
            try:
                with self.engine().connect() as connection:
                    plan = plans.read_start_plan(connection, quiz_id)
            except Exception:
                self.app.logger.exception("the start lane could not read quiz %s", quiz_id)
                return None
            if len(self.plans) >= PLANS_KEPT:
                for old in sorted(self.plans, key=lambda k: self.plans[k][0])[: PLANS_KEPT // 2]:
                    del self.plans[old]
                    self.commits.pop(old, None)  # a batch running keeps its own
            self.plans[quiz_id] = (time.monotonic(), plan)
            return plan
