"""Login plumbing: loading the user from a login session or a bearer token; the UI language."""

from __future__ import annotations

from flask import Flask, current_app, g, jsonify, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user

from elearn.extensions import limiter
from elearn.models import User
from elearn.service import accounts
from elearn.service.login_throttle import LoginPolicy, LoginThrottle


def init_app(app: Flask, login_manager: LoginManager) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = None  # the session row is the protection
    login_manager.user_loader(_load_session_user)
    login_manager.request_loader(_load_bearer_user)
    login_manager.unauthorized_handler(_unauthorized)


def _load_session_user(token: str) -> User | None:
    return accounts.load_session_user(token)


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return None


def _load_bearer_user(req) -> User | None:  # type: ignore[no-untyped-def]
    token = bearer_token()
    if token is None:
        return None
    check = accounts.load_token_user(token)
    if check.user is None:
        g.auth_error = check.error
        return None
    g.via_token = True
    return check.user


def request_actor() -> User | accounts.BearerToken | None:
    """Who is calling, without a query for a bearer token: the statement that acts checks it.

    The signed-in user for a page's request (its session is looked up as always); None when the
    request carries neither. Only for routes whose service takes ``BearerToken`` (answer saves).
    """
    token = bearer_token()
    if token is not None:
        return accounts.BearerToken(token)
    if current_user.is_authenticated:
        return current_user._get_current_object()  # type: ignore[attr-defined]
    return None


def refuse(message: str | None = None):  # type: ignore[no-untyped-def]
    """The 401 (API) or the sign-in redirect (pages), with why a token was refused."""
    if message:
        g.auth_error = message
    return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]


def _unauthorized():  # type: ignore[no-untyped-def]
    if request.path.startswith("/api/"):
        message = g.get("auth_error") or _("Sign in or send a valid access token.")
        return jsonify(error="unauthorized", message=message), 401
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def login_throttle() -> LoginThrottle:
    """The sign-in throttle, on the rate limiter's storage (Redis in production)."""
    return LoginThrottle(limiter.storage, LoginPolicy.from_config(current_app.config))


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    chosen = request.cookies.get("lang") or session.get("lang")
    if chosen in languages:
        return str(chosen)
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])
