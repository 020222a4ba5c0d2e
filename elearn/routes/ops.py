"""Liveness and readiness probes for the load balancer, and the icon browsers ask for unbidden."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, send_from_directory
from sqlalchemy import text

from elearn import features, uow
from elearn.extensions import db

bp = Blueprint("ops", __name__)


@bp.route("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.route("/favicon.ico")
def favicon():
    # pages link the SVG (base.html); this is for browsers and tools that ask the old way
    return send_from_directory(current_app.static_folder, "favicon.ico", max_age=7 * 24 * 3600)


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
        import redis

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
