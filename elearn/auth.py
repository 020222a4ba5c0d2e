"""Login plumbing: loading the user from a login session or a bearer token; the UI language.

A request that carries an ``Authorization`` header is authenticated by that header alone: the
session cookie beside it is never consulted, so a bogus header can neither borrow the cookie's
login nor switch off the cookie's CSRF check (``elearn.api.protect_cookie_sessions``).

An account flagged "must change password" (a roster account on its initial password, or one an
admin reset) may use only what changing the password takes: its pages redirect to the change
form, its API calls answer 403, and its sockets are refused (``live``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, g, jsonify, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user

from elearn.extensions import limiter
from elearn.models import User
from elearn.service import accounts
from elearn.service.login_throttle import LoginPolicy, LoginThrottle

F = TypeVar("F", bound=Callable[..., Any])

#: what an account that must change its password may still use
PASSWORD_CHANGE_ENDPOINTS = frozenset(
    {
        "auth.change_password",
        "auth.logout",
        "auth.login",
        "auth.set_language",
        "api.change_password",
        "api.issue_token",
        "api.me",
        "ops.healthz",
        "ops.readyz",
    }
)


def init_app(app: Flask, login_manager: LoginManager) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = None  # the session row is the protection
    login_manager.user_loader(_load_session_user)
    login_manager.request_loader(_load_bearer_user)
    login_manager.unauthorized_handler(_unauthorized)
    app.before_request(_password_change_gate)


def _load_session_user(token: str) -> User | None:
    if "Authorization" in request.headers:
        return None  # the request's own credentials decide, never the cookie beside them
    return accounts.load_session_user(token)


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return None


def _load_bearer_user(req) -> User | None:
    if "Authorization" not in request.headers:
        return None
    token = bearer_token()
    if token is None:
        g.auth_error = _("Send the access token as the header Authorization: Bearer <token>.")
        return None
    check = accounts.load_token_user(token)
    if check.user is None:
        g.auth_error = check.error
        return None
    g.via_token = True
    g.bearer_token = token
    return check.user


def checks_bearer_itself(view: F) -> F:
    """Mark a view whose service checks the bearer token in the statement that acts (an answer
    autosave): no separate lookup of the token runs before it, here or for CSRF."""
    view.checks_bearer_itself = True  # type: ignore[attr-defined]  # a marker attribute set on the view function
    return view


def view_checks_bearer_itself() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "checks_bearer_itself", False)) and bearer_token() is not None


def authenticated_by_token() -> bool:
    """Whether a valid bearer token (not a session cookie) authenticated this request."""
    return bool(current_user.is_authenticated and g.get("via_token"))


def current_credential() -> str | None:
    """The secret this request was authenticated with: its bearer token or its login session's
    token (what a password change keeps alive)."""
    if authenticated_by_token():
        return str(g.bearer_token)
    if current_user.is_authenticated:
        return current_user.current_session_id
    return None


def request_actor() -> User | accounts.BearerToken | None:
    """Who is calling, without a query for a bearer token: the statement that acts checks it.

    The signed-in user for a page's request (its session is looked up as always); None when the
    request carries neither. Only for routes whose service takes ``BearerToken`` (answer saves).
    """
    token = bearer_token()
    if token is not None:
        return accounts.BearerToken(token)
    if current_user.is_authenticated:
        return current_user._get_current_object()
    return None


def refuse(message: str | None = None):
    """The 401 (API) or the sign-in redirect (pages), with why a token was refused."""
    if message:
        g.auth_error = message
    return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]  # Flask-Login adds login_manager to the app; Flask's type does not declare it


def _unauthorized():
    if request.path.startswith("/api/"):
        message = g.get("auth_error") or _("Sign in or send a valid access token.")
        return jsonify(error="unauthorized", message=message), 401
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def _password_change_gate():
    """Hold a must-change account at the password form (pages) or answer 403 (API)."""
    endpoint = request.endpoint
    if endpoint is None or endpoint == "static" or endpoint.endswith(".static"):
        return None
    if endpoint in PASSWORD_CHANGE_ENDPOINTS or view_checks_bearer_itself():
        return None
    if "_user_id" not in session and "Authorization" not in request.headers:
        return None  # nobody signed in: nothing to load
    if not current_user.is_authenticated or not current_user.must_change_password:
        return None
    if request.path.startswith("/api/"):
        return jsonify(
            error=403, message=accounts.password_change_message(), reason="password_change_required"
        ), 403
    return redirect(url_for("auth.change_password", next=request.full_path.rstrip("?")))


def login_throttle() -> LoginThrottle:
    """The sign-in throttle, on the rate limiter's storage (Redis in production)."""
    return LoginThrottle(limiter.storage, LoginPolicy.from_config(current_app.config))


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    chosen = request.cookies.get("lang") or session.get("lang")
    if chosen in languages:
        return str(chosen)
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])
