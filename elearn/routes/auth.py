"""Sign in, sign out, change password, switch language."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from elearn import signals, uow
from elearn.auth import current_credential, login_throttle
from elearn.extensions import rate_limit
from elearn.forms import LoginForm, PasswordChangeForm
from elearn.service import accounts, coverage_hooks
from elearn.service.errors import ServiceError

bp = Blueprint("auth", __name__)


def _login_limit() -> str:
    return current_app.config["LOGIN_IP_LIMIT"]


def _safe_next(target: str | None) -> str:
    if (
        target
        and urlsplit(target).netloc == ""
        and target.startswith("/")
        and not target.startswith("//")
    ):
        return target
    return url_for("home.index")


@bp.route("/login", methods=["GET", "POST"])
@rate_limit(_login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm(next=request.args.get("next", ""))
    error = None
    status = 200
    retry_after = 0
    if form.validate_on_submit():
        result = accounts.authenticate(
            form.login.data, form.password.data, ip=request.remote_addr, throttle=login_throttle()
        )
        if result.user is None:
            # the request's commit keeps the audit row and the throttle's count
            error, status, retry_after = result.error, result.status, result.retry_after
        else:
            if result.first_login:
                coverage_hooks.user_activated(result.user)
            accounts.start_session(
                user=result.user, ip=request.remote_addr, user_agent=request.user_agent.string
            )
            session.clear()
            login_user(result.user)
            if result.user.must_change_password:
                return redirect(url_for("auth.change_password", next=form.next.data or None))
            return redirect(_safe_next(form.next.data))
    elif request.method == "POST":
        status = 400
    response = make_response(render_template("elearn/login.html", form=form, error=error), status)
    if status == 429:
        response.headers["Retry-After"] = str(retry_after)
    return response


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    token = current_user.get_id()
    user = current_user._get_current_object()
    accounts.end_session(token, user=user)
    logout_user()
    session.clear()
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # current_app is typed as Flask, not as the LocalProxy it is
    uow.after_commit(signals.user_logged_out.send, app, user=user, session_token=token)
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@rate_limit(_login_limit, methods=["POST"])
@login_required
def change_password():
    form = PasswordChangeForm(next=request.args.get("next", ""))
    status = 200
    if form.validate_on_submit():
        user = current_user._get_current_object()
        kept = current_credential()
        try:
            with uow.savepoint():
                accounts.change_password(
                    user=user,
                    current=form.current_password.data,
                    new=form.new_password.data,
                    keep=kept,
                )
        except ServiceError as error:
            field = getattr(form, error.field or "new_password")
            field.errors = [error.message]
            status = 400
        else:
            uow.after_commit(
                signals.password_changed.send,
                current_app._get_current_object(),  # type: ignore[attr-defined]  # current_app is typed as Flask, not as the LocalProxy it is
                user=user,
                kept_key=accounts.hash_token(kept) if kept else None,
            )
            flash(
                _("Your password has been changed. You are signed out everywhere else."), "success"
            )
            return redirect(_safe_next(form.next.data))
    elif request.method == "POST":
        status = 400
    return render_template(
        "elearn/password.html", form=form, must_change=current_user.must_change_password
    ), status


@bp.route("/lang/<code>")
def set_language(code: str):
    if code not in current_app.config["LANGUAGES"]:
        code = current_app.config["BABEL_DEFAULT_LOCALE"]
    response = redirect(_safe_next(request.args.get("next")))
    response.set_cookie(
        "lang",
        code,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
    )
    return response
