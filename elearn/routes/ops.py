"""Liveness and readiness probes for the load balancer, and the icon browsers ask for unbidden.

``/healthz`` names the process that answered (host and pid) and the code it runs, so an operator
(or a test) behind nginx sees which of several processes served a request and whether a rolling
upgrade has reached it.
"""

from __future__ import annotations

import os
import socket
from functools import cache
from importlib import metadata

import redis
from flask import Blueprint, abort, current_app, jsonify, send_from_directory
from sqlalchemy import text

from elearn import features, uow
from elearn.extensions import db

bp = Blueprint("ops", __name__)


@cache
def _package_version() -> str:
    try:
        return metadata.version("elearn")
    except metadata.PackageNotFoundError:  # run from a tree that was never installed
        return "unknown"


def version() -> str:
    """The package's version, with the commit the deployment names (``ELEARN_COMMIT``) as a
    local version label: ``0.1.0+3f2c1ab``."""
    commit = current_app.config.get("COMMIT")
    return f"{_package_version()}+{commit}" if commit else _package_version()


@bp.route("/healthz")
def healthz():
    # the pid is read at each request: a gunicorn worker is forked after the app is loaded
    return jsonify(status="ok", process=f"{socket.gethostname()}:{os.getpid()}", version=version())


@bp.route("/favicon.ico")
def favicon():
    # pages link the SVG (base.html); this is for browsers and tools that ask the old way
    folder = current_app.static_folder
    if folder is None:  # an app built without its static files
        abort(404)
    return send_from_directory(folder, "favicon.ico", max_age=7 * 24 * 3600)


@bp.route("/readyz")
def readyz():
    checks: dict[str, str] = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as error:  # noqa: BLE001 - report, don't raise
        checks["database"] = f"error: {type(error).__name__}"
        uow.rollback()
    redis_url = current_app.config.get("REDIS_URL")
    if redis_url:
        try:
            redis.Redis.from_url(redis_url, socket_timeout=2).ping()
            checks["redis"] = "ok"
        except Exception as error:  # noqa: BLE001
            checks["redis"] = f"error: {type(error).__name__}"
    for name, check in features.registry().readiness.items():
        try:
            problem = check()
            checks[name] = "ok" if problem is None else f"error: {problem}"
        except Exception as error:  # noqa: BLE001
            checks[name] = f"error: {type(error).__name__}"
    ready = all(value == "ok" for value in checks.values())
    return jsonify(status="ok" if ready else "unavailable", checks=checks), (200 if ready else 503)
