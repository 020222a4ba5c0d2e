"""The autosave lane: answer saves group-committed in front of Flask.

An exam is thousands of students autosaving at once, and the save is the hottest write of the
platform. ``PUT /api/v1/attempts/<id>/answers/<qid>`` with ``Authorization: Bearer`` (an API
client) or ``X-Attempt-Key`` (the attempt page's save key, ``service.saves.issue_save_key``) is
answered here, in front of the Flask app (a WSGI middleware, PostgreSQL only). The body is
parsed, the answer checked against the question's versions as this process knows them, and the
save joins the group commit (``quizzes.lanes.groupcommit``): one statement and one commit for
every save waiting at that moment, each under the rules of ``service.saves.save_answer``.

Only a save that statement stored is answered here. Anything else (no token or key, a body
that does not parse, a question this process has not read yet, a refused save, a failed batch)
goes on to the Flask route unchanged, which saves it or says why in the caller's language: the
lane can make a save faster, never different. Two batches of two processes that share two
slots can deadlock in PostgreSQL; the one it cancels goes to the route, one save at a time.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask

from elearn.metrics import EXAM_LANE_BATCH, EXAM_SAVES
from elearn.models._types import INT_MAX
from elearn.service.accounts import hash_token
from quizzes import rules
from quizzes.lanes.base import Lane, StartResponse, WSGIApp, read_body
from quizzes.lanes.groupcommit import GroupCommit
from quizzes.lanes.save_batch import BearerSave, save_bearer_answers
from quizzes.service.saves import SavedAnswer, answer_fits, known_versions

PATH = re.compile(r"/api/v1/attempts/([0-9]{1,10})/answers/([0-9]{1,10})\Z")
#: counted once per batch (a save answered here pays nothing for the metrics)
SAVED_HERE = EXAM_SAVES.labels(via="lane")
SAVE_BATCH_SECONDS = EXAM_LANE_BATCH.labels(lane="save")


class SaveLane(Lane):
    """Answers the saves it can store, passes every other request on."""

    def __init__(self, app: Flask, following: WSGIApp) -> None:
        super().__init__(app, following)
        #: saves answered here (stored by a batch), for the tests
        self.answered = 0
        self.commits: GroupCommit[BearerSave, SavedAnswer | None] = GroupCommit(self._save_batch)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "PUT":
            match = PATH.match(environ.get("PATH_INFO", ""))
            authorization = environ.get("HTTP_AUTHORIZATION", "")
            key = environ.get("HTTP_X_ATTEMPT_KEY", "").strip()
            if match and (authorization.startswith("Bearer ") or key):
                token = authorization[7:].strip() if authorization.startswith("Bearer ") else ""
                answered = self._save(environ, match, token, key, start_response)
                if answered is not None:
                    return answered
        return self.following(environ, start_response)

    def _save(
        self,
        environ: dict[str, Any],
        match: re.Match[str],
        token: str,
        key: str,
        start_response: StartResponse,
    ) -> list[bytes] | None:
        content_type = environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
        if content_type != "application/json" or not (token or key):
            return None  # the route's own answer (it reads JSON sent as JSON only)
        body = read_body(environ)
        if body is None:
            return None
        try:
            sent = json.loads(body)
        except ValueError:
            return None
        if not isinstance(sent, dict):
            return None
        seq, answer = sent.get("seq"), sent.get("answer")
        if not rules.seq_valid(seq):
            return None
        attempt_id, question_id = int(match[1]), int(match[2])
        if attempt_id > INT_MAX or question_id > INT_MAX:
            return None  # no such row: the route's 404
        versions = known_versions(question_id)
        if not versions:
            return None
        fitting = answer_fits(versions, answer)
        if not fitting:
            return None
        try:  # NaN and Infinity parse in Python but are not JSON: one would fail the batch
            answer_json = json.dumps(answer, ensure_ascii=False, allow_nan=False)
        except ValueError:
            return None
        save = BearerSave(
            token_hash=hash_token(token) if token else None,
            key_hash=hash_token(key) if key else None,
            attempt_id=attempt_id,
            question_id=question_id,
            seq=seq,
            answer_json=answer_json,
            fitting=fitting,
        )
        try:
            saved = self.commits.submit(save)
        except Exception:  # the Flask route saves it one by one, or says why
            self.app.logger.exception("the autosave lane's batch failed; saving one by one")
            return None
        if saved is None:
            return None
        self.answered += 1
        return self.reply(start_response, "200 OK", saved.view())

    def warm_up(self) -> None:
        with self.autocommit() as connection:
            save_bearer_answers(connection, [], now=datetime.now(UTC), slack=timedelta(seconds=5))

    def _save_batch(self, saves: Sequence[BearerSave]) -> list[SavedAnswer | None]:
        """One batch: what each save stored, None where refused (a save after the deadline and
        its slack among them: the route refuses it, saying time is up)."""
        slack = rules.save_slack_of(self.app.config)
        started = time.perf_counter()
        with self.autocommit() as connection:
            saved = save_bearer_answers(connection, saves, now=datetime.now(UTC), slack=slack)
        SAVE_BATCH_SECONDS.observe(time.perf_counter() - started)
        stored = len(saved) - saved.count(None)
        if stored:
            SAVED_HERE.inc(stored)
        return saved
