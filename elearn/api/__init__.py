"""The JSON API under /api/v1, documented at /api/v1/openapi.json."""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, g, request
from flask_babel import gettext as _

from elearn.auth import authenticated_by_token, view_checks_bearer_itself
from elearn.extensions import csrf
from elearn.service.errors import Unauthenticated

bp = Blueprint("api", __name__, url_prefix="/api/v1")


#: endpoints that take credentials in the body: a stale token sent beside them is no reason to
#: refuse the request for a new one
CREDENTIAL_ENDPOINTS = frozenset({"api.issue_token"})


def protect_cookie_sessions() -> None:
    """CSRF for API calls that ride on the session cookie; 401 for a refused bearer token.

    Only a request that a valid bearer token authenticated skips the CSRF check: it carries no
    ambient credentials, so a forged cross-site request gains nothing. A request with any other
    ``Authorization`` header (a wrong, expired or revoked token, another scheme) gets 401, and
    never falls back to the cookie beside it (``elearn.auth`` ignores the cookie then). Pages
    calling the API with their session cookie send the CSRF token (``X-CSRFToken``) like any
    form. Feature APIs call this too.
    """
    if "Authorization" in request.headers:
        if request.endpoint in CREDENTIAL_ENDPOINTS or view_checks_bearer_itself():
            return  # the statement that acts checks the token itself, never the cookie
        if not authenticated_by_token():
            raise Unauthenticated(g.get("auth_error") or _("Send a valid access token."))
        return
    if request.method in {"GET", "HEAD", "OPTIONS"}:
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
