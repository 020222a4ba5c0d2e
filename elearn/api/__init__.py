"""The JSON API under /api/v1, documented at /api/v1/openapi.json."""

from __future__ import annotations

from flask import Blueprint, Flask, g, request

from elearn.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.before_request
def _csrf_for_cookie_sessions():
    # Bearer-token clients carry no ambient credentials, so CSRF can't touch them; pages calling
    # the API with their session cookie must send the CSRF token like any form.
    if request.method not in {"GET", "HEAD", "OPTIONS"} and "Authorization" not in request.headers:
        csrf.protect()
    g.api = True


def init_app(app: Flask) -> None:
    from elearn.api import auth, coverage, openapi, units  # noqa: F401 - routes register on import

    csrf.exempt(bp)
    app.register_blueprint(bp)
    openapi.init_app(app)
