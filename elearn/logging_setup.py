"""JSON log lines for every process type (web, worker, beat), each with its request's id."""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

from elearn.request_id import LogFilter


def configure(json_lines: bool) -> None:
    root = logging.getLogger()
    if getattr(root, "_elearn_configured", False):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(LogFilter())  # a JSON line's "request_id" (elearn.request_id)
    if json_lines:
        handler.setFormatter(
            JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s", timestamp=True)
        )
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    # gevent-websocket's handler logs every request at INFO, a second access log beside
    # gunicorn's (deploy/gunicorn.conf.py): its warnings and errors are enough
    logging.getLogger("geventwebsocket.handler").setLevel(logging.WARNING)
    root._elearn_configured = True  # type: ignore[attr-defined]  # a marker on the root logger: configured once per process
