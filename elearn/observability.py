"""What lets an operator see into the running processes: the request id, metrics, Sentry.

``init_app`` puts one WSGI middleware around Flask's own app. It sits inside Socket.IO's engine
and the exam lanes (both wrap the app later in the factory), so a websocket is not timed as one
endless request and a lane's save pays nothing here (the lanes count per batch,
``elearn.metrics``). For each request it takes or makes the request id (``elearn.request_id``),
returns it as ``X-Request-ID``, and records the request's time and status under its endpoint.

Sentry is switched on only by ``ELEARN_SENTRY_DSN``; it then reports unhandled errors of views,
tasks and Socket.IO events (each logged at ERROR by its boundary) tagged with the request id. It
sends no request bodies, cookies, addresses or local variables: what a pupil answered or typed
stays here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

import sentry_sdk
from celery import signals
from flask import Flask, request

from elearn import logging_setup, metrics, request_id

#: where the middleware finds the endpoint Flask matched (set by a before_request hook)
ENDPOINT_KEY = "elearn.endpoint"

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class Observed:
    """The request id and the request's time and status, around Flask's own app."""

    def __init__(self, app: WSGIApp, *, sentry: bool) -> None:
        self.app = app
        self.sentry = sentry

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        rid = request_id.accepted(environ.get("HTTP_X_REQUEST_ID"))
        token = request_id.bind(rid)
        if self.sentry:
            sentry_sdk.set_tag("request_id", rid)
        started = time.perf_counter()
        answered = [500]

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            answered[0] = int(status[:3])
            headers.append(("X-Request-ID", rid))
            return start_response(status, headers, exc_info)

        try:
            return self.app(environ, start)
        finally:
            request_id.unbind(token)
            metrics.observe_request(
                environ.get(ENDPOINT_KEY, "unmatched"),
                environ.get("REQUEST_METHOD", ""),
                answered[0],
                time.perf_counter() - started,
            )


def _note_endpoint() -> None:
    request.environ[ENDPOINT_KEY] = request.endpoint or "unmatched"


def init_app(app: Flask) -> None:
    """Wrap Flask's app and serve ``/metrics``; call before anything else wraps or hooks it."""
    app.wsgi_app = Observed(app.wsgi_app, sentry=init_sentry(app))  # type: ignore[method-assign]  # WSGI middleware wraps the app, as Flask's docs do it
    app.before_request(_note_endpoint)
    app.register_blueprint(metrics.bp)


def init_sentry(app: Flask) -> bool:
    """Start the Sentry SDK when ``SENTRY_DSN`` is configured; say whether it is on."""
    dsn = app.config.get("SENTRY_DSN")
    if not dsn:
        return False
    client = sentry_sdk.get_client()
    if client.is_active() and client.dsn == dsn:
        return True  # a second app in the same process (tests, the CLI)
    # imported only where a DSN is set: the integrations import Celery's and Flask's internals
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.flask import FlaskIntegration
    from sentry_sdk.integrations.logging import LoggingIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=app.config.get("SENTRY_ENVIRONMENT"),
        release=app.config.get("SENTRY_RELEASE"),
        integrations=[
            FlaskIntegration(),
            CeleryIntegration(),
            # the boundaries (views, tasks, events, the lanes) log what they could not handle
            # at ERROR with its traceback: each such line is an event
            LoggingIntegration(level=logging.INFO, event_level=logging.ERROR),
        ],
        send_default_pii=False,
        max_request_body_size="never",
        include_local_variables=False,
        traces_sample_rate=None,  # errors only
    )
    return True


def connect_celery(app: Flask) -> None:
    """In Celery's processes: the request id through tasks, task metrics, our log lines."""
    request_id.connect_celery()
    metrics.connect_celery(app)
    json_lines = bool(app.config.get("LOG_JSON"))

    def _keep_our_logging(loglevel: int | str | None = None, **_: Any) -> None:
        # connected, so Celery leaves the root logger (JSON lines, the request id) as it is;
        # the worker's --loglevel still applies
        logging_setup.configure(json_lines)
        if loglevel:
            logging.getLogger().setLevel(loglevel)

    signals.setup_logging.connect(_keep_our_logging, weak=False, dispatch_uid="elearn-logging")
