"""The autosave lane: answer saves group-committed in front of Flask.

An exam is thousands of students autosaving at once, and the save is the hottest write of the
platform. ``PUT /api/v1/attempts/<id>/answers/<qid>`` with ``Authorization: Bearer`` (an API
client) or ``X-Attempt-Key`` (the attempt page's save key, ``service.issue_save_key``) is
answered here, in front of the Flask app (a WSGI middleware, PostgreSQL only). The body is
parsed, the answer checked against the question's versions as this process knows them, and the
save joins the group commit (``elearn.groupcommit``): one statement and one commit for every
save waiting at that moment, each under the rules of ``service.save_answer``.

Only a save that statement stored is answered here. Anything else (no token or key, a body
that does not parse, a question this process has not read yet, a refused save, a failed batch)
goes on to the Flask route unchanged, which saves it or says why in the caller's language: the
lane can make a save faster, never different. Two batches of two processes that share two
slots can deadlock in PostgreSQL; the one it cancels goes to the route, one save at a time.
"""

from __future__ import annotations

import io
import json
import re
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from flask import Flask
from sqlalchemy import Engine

from elearn.extensions import db
from elearn.groupcommit import GroupCommit
from elearn.headers import security_headers
from elearn.metrics import EXAM_LANE_BATCH, EXAM_SAVES, count_answers
from elearn.models._types import INT_MAX
from elearn.service.accounts import hash_token
from quizzes.service import attempts

PATH = re.compile(r"/api/v1/attempts/([0-9]{1,10})/answers/([0-9]{1,10})\Z")
#: a larger body goes to Flask (which has the app's own size limit)
MAX_BODY = 64 * 1024
#: counted once per batch (a save answered here pays nothing for the metrics)
SAVED_HERE = EXAM_SAVES.labels(via="lane")
SAVE_BATCH_SECONDS = EXAM_LANE_BATCH.labels(lane="save")

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class Lane:
    """A WSGI middleware in front of the Flask app that answers some requests itself, on its
    own connections, and passes every other request on (``following``)."""

    def __init__(self, app: Flask, following: WSGIApp) -> None:
        self.app = app
        self.following = following
        self._engine: Engine | None = None
        #: what the Flask route's answer carries beside the JSON
        self.headers = [("Content-Type", "application/json"), *security_headers(app)]

    def engine(self) -> Engine:
        if self._engine is None:
            with self.app.app_context():
                self._engine = db.engine
        return self._engine

    def autocommit(self) -> Any:
        """A connection of the app's pool in autocommit: each statement its own transaction."""
        return self.engine().connect().execution_options(isolation_level="AUTOCOMMIT")

    def warm_up(self) -> None:
        """Compile the lane's statements before the first request needs them."""

    def reply(
        self, start_response: StartResponse, status: str, payload: dict[str, Any]
    ) -> list[bytes]:
        """``payload`` as JSON, as the Flask route's ``jsonify`` sends it (keys sorted, the app's
        headers) but with text as UTF-8, not ``\\u`` escapes."""
        body = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE)
        start_response(status, [*self.headers, ("Content-Length", str(len(body)))])
        return [body]


class SaveLane(Lane):
    """Answers the saves it can store, passes every other request on."""

    def __init__(self, app: Flask, following: WSGIApp) -> None:
        super().__init__(app, following)
        #: saves answered here (stored by a batch), for the tests
        self.answered = 0
        self.commits: GroupCommit[attempts.BearerSave, attempts.SavedAnswer | None] = GroupCommit(
            self._save_batch
        )

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
        body = _read_body(environ)
        if body is None:
            return None
        try:
            sent = json.loads(body)
        except ValueError:
            return None
        if not isinstance(sent, dict):
            return None
        seq, answer = sent.get("seq"), sent.get("answer")
        if isinstance(seq, bool) or not isinstance(seq, int) or not 1 <= seq <= INT_MAX:
            return None
        attempt_id, question_id = int(match[1]), int(match[2])
        if attempt_id > INT_MAX or question_id > INT_MAX:
            return None  # no such row: the route's 404
        versions = attempts.known_versions(question_id)
        if not versions:
            return None
        fitting = attempts.answer_fits(versions, answer)
        if not fitting:
            return None
        try:  # NaN and Infinity parse in Python but are not JSON: one would fail the batch
            answer_json = json.dumps(answer, ensure_ascii=False, allow_nan=False)
        except ValueError:
            return None
        save = attempts.BearerSave(
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
            attempts.save_bearer_answers(
                connection, [], now=datetime.now(UTC), slack=timedelta(seconds=5)
            )

    def _save_batch(
        self, saves: Sequence[attempts.BearerSave]
    ) -> list[attempts.SavedAnswer | None]:
        """One batch: what each save stored, None where refused (a save after the deadline and
        its slack among them: the route refuses it, saying time is up)."""
        slack = attempts.save_slack_of(self.app.config)
        started = time.perf_counter()
        with self.autocommit() as connection:
            saved = attempts.save_bearer_answers(
                connection, saves, now=datetime.now(UTC), slack=slack
            )
        SAVE_BATCH_SECONDS.observe(time.perf_counter() - started)
        stored = len(saved) - saved.count(None)
        if stored:
            SAVED_HERE.inc(stored)
        return saved


def _read_body(environ: dict[str, Any]) -> bytes | None:
    """The request's body, put back for the Flask route; None when too long or unknown."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None
    if not 0 < length <= MAX_BODY:
        return None
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def install(app: Flask, lane: type[Lane], setting: str) -> None:
    """Put ``lane`` in front of the app when its database is PostgreSQL (the batch statements
    are PostgreSQL's: jsonb_to_recordset) and the ``setting`` is on (the default)."""
    if not app.config.get(setting, True):
        return
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        return
    app.wsgi_app = lane(app, app.wsgi_app)  # type: ignore[method-assign, assignment]  # WSGI middleware wraps the app, as Flask's docs do it


def warm_up(app: Flask) -> None:
    """Warm every lane in front of ``app`` (at a worker's start; a database not up yet only
    leaves the compiling to the first requests)."""
    layer: Any = app.wsgi_app
    while isinstance(layer, Lane):
        try:
            layer.warm_up()
        except Exception:
            app.logger.warning("%s could not warm up", type(layer).__name__, exc_info=True)
        layer = layer.following


def init_app(app: Flask) -> None:
    # the saves the Flask route stores (without the lane, or those it passes on) count too
    count_answers("quizzes_api.save_answer", 200, EXAM_SAVES.labels(via="app"))
    install(app, SaveLane, "QUIZ_SAVE_LANE")
