"""What every page shares: error pages in the user's language, template globals, security headers
(``elearn/headers.py``)."""

from __future__ import annotations

import contextlib
from typing import Any

from flask import Flask, Response, current_app, g, jsonify, make_response, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

from elearn import auth, features, headers, uow
from elearn.extensions import limiter, login_manager
from elearn.models.accounts import ADMIN_ROLES
from elearn.service import dashboard, notifications
from elearn.service.errors import ServiceError, Unauthenticated


def _message_for(code: int) -> str:
    messages = {
        400: _("The request could not be understood."),
        401: _("Please sign in first."),
        403: _("You do not have permission to do this."),
        404: _("This page does not exist, or is not within your scope."),
        405: _("This action is not allowed here."),
        409: _("This conflicts with the current state; reload and try again."),
        413: _("The file is too large."),
        422: _("Some of what you entered is not valid."),
        429: _("Too many requests. Wait a moment and try again."),
        500: _("Something went wrong on our side. Try again later."),
    }
    return messages.get(code, messages[500 if code >= 500 else 400])


#: seconds a client is told to wait when the database cannot be reached (a restart, a failover)
RETRY_AFTER_SECONDS = 5

#: what the database's absence looks like to a request: a connection refused or lost
#: (OperationalError, InterfaceError), or no connection free in the pool in time (TimeoutError)
DATABASE_UNAVAILABLE = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)


def wants_json() -> bool:
    return request.path.startswith("/api/")


def error_response(code: int, message: str, **extra: Any):
    if wants_json():
        return jsonify(error=code, message=message, **extra), code
    return render_template("elearn/error.html", code=code, message=message), code


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError):
        uow.rollback()
        return error_response(
            400,
            _(
                "The form has expired or is missing its security token. Reload the page and try again."
            ),
        )

    @app.errorhandler(Unauthenticated)
    def _unauthenticated(error: Unauthenticated):
        uow.rollback()
        return auth.refuse(error.message)

    @app.errorhandler(ServiceError)
    def _service(error: ServiceError):
        uow.rollback()
        return error_response(error.status, error.message)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        uow.rollback()
        code = error.code or 500
        if code == 429:
            return error_response(429, _message_for(429))
        description = getattr(error, "elearn_message", None)
        return error_response(code, description or _message_for(code))

    for kind in DATABASE_UNAVAILABLE:
        app.register_error_handler(kind, database_unavailable)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        uow.rollback()
        app.logger.exception("unhandled error")
        return error_response(500, _message_for(500))

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {
            "current_locale": str(get_locale()),
            "languages": app.config["LANGUAGES"],
            "nav_items": nav_items(),
        }

    headers.init_app(app)


def database_unavailable(error: Exception) -> Response:
    """503 with Retry-After for a request that met no database (a restart, a failover)."""
    # retryable: nothing of the request was kept, and the client is told when to try again
    # (the attempt page keeps its answers and sends them again). The page is rendered
    # without the database: no menu, no signed-in user.
    g.database_unavailable = True  # read by nav_items: the page asks the database nothing
    if "_login_user" not in g:  # Flask-Login's template context would load the user
        g._login_user = login_manager.anonymous_user()
    with contextlib.suppress(Exception):  # the rollback may meet the same dead connection
        uow.rollback()
    current_app.logger.warning("database unavailable: %s", error.__class__.__name__)
    message = _("The service is briefly unavailable. Nothing was lost: try again in a moment.")
    if wants_json():
        response = make_response(jsonify(error=503, message=message, retryable=True), 503)
    else:
        page = render_template("elearn/unavailable.html", message=message)
        response = make_response(page, 503)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    # Flask-Limiter would set Retry-After to its window's reset (minutes) on a limited view;
    # its counts are beside the point of an outage's answer
    limiter.context.view_rate_limit = None
    return response


def nav_items() -> list[tuple[str, str]]:
    """(endpoint, label) pairs for the current user's menu (features add theirs: ``Feature.nav``)."""
    if g.get("database_unavailable"):
        return []  # the page that says so renders without it
    if not current_user.is_authenticated or current_user.must_change_password:
        return []  # an account that must change its password sees only the change form
    items: list[tuple[str, str]] = [("home.index", _("Home"))]
    unread = notifications.unread_count(current_user)
    items.append(
        (
            "notifications.inbox",
            _("Messages (%(count)d)", count=unread) if unread else _("Messages"),
        )
    )
    if dashboard.home_unit(current_user) is not None:
        items.append(("dashboard.home", _("Dashboard")))
    if current_user.has_role(*ADMIN_ROLES):
        items += [
            ("admin.units", _("Units")),
            ("admin.terms", _("Terms")),
            ("admin.audit_log", _("Audit log")),
        ]
    for provider in features.registry().nav:
        items.extend(provider(current_user))
    return items
