"""The lanes' frame: a WSGI middleware in front of the Flask app that answers some requests itself
and passes every other request on, unchanged.

A lane answers only what its own statement did (``quizzes.lanes.groupcommit`` carries many
requests' writes in one statement and one commit); anything it refuses or cannot decide goes on
to the Flask route, which answers as always: faster, never different (``README.md`` here).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any

import orjson
from flask import Flask
from sqlalchemy import Engine

from elearn.extensions import db
from elearn.headers import security_headers

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
#: a larger body goes to Flask (which has the app's own size limit)
MAX_BODY = 64 * 1024


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


def read_body(environ: dict[str, Any]) -> bytes | None:
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
    # Flask declares wsgi_app a method; middleware replacing it is its documented pattern
    app.wsgi_app = lane(app, app.wsgi_app)  # type: ignore[method-assign, assignment]


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
