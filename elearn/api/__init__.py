"""The JSON API under /api/v1, documented at /api/v1/openapi.json."""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, request

from elearn.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def protect_cookie_sessions() -> None:
    """CSRF for API calls that ride on the session cookie.

    Bearer-token clients (and callers with no session at all) carry no ambient credentials, so a
    forged cross-site request gains nothing; pages calling the API with their session cookie must
    send the CSRF token (``X-CSRFToken``) like any form. Feature APIs call this too.
    """
    if request.method in {"GET", "HEAD", "OPTIONS"} or "Authorization" in request.headers:
        return
    if current_app.config["SESSION_COOKIE_NAME"] in request.cookies:
        csrf.protect()


bp.before_request(protect_cookie_sessions)


def init_app(app: Flask) -> None:
    from elearn.api import (  # noqa: F401 - routes register on import
        auth,
        coverage,
        notifications,
        openapi,
        rosters,
        units,
    )

    csrf.exempt(bp)
    app.register_blueprint(bp)
    openapi.init_app(app)
