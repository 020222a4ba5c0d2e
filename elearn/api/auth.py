"""Tokens, the caller's identity and their own password."""

from __future__ import annotations

from flask import current_app, jsonify, request
from flask_login import current_user, login_required
from marshmallow import fields

from elearn import signals, uow
from elearn.api.base import bp, refuses
from elearn.api.schemas import Body, Out, Text, When
from elearn.auth import current_credential, login_throttle
from elearn.extensions import rate_limit
from elearn.service import accounts, coverage_hooks


def _login_limit() -> str:
    return current_app.config["LOGIN_IP_LIMIT"]


class Credentials(Body):
    username = Text(64, required=True, metadata={"description": "username or phone number"})
    password = Text(256, required=True)


MUST_CHANGE = (
    "true for an account still on the password it was given: its token serves "
    "POST /api/v1/auth/password (and /api/v1/me) only, everything else answers 403"
)


class Token(Out):
    token = fields.String(metadata={"description": "send as `Authorization: Bearer <token>`"})
    expires_at = When()
    must_change_password = fields.Boolean(metadata={"description": MUST_CHANGE})


class PasswordChange(Body):
    current_password = Text(256, required=True)
    new_password = Text(128, required=True)


class PasswordChanged(Out):
    must_change_password = fields.Boolean()


class RoleHeld(Out):
    role = fields.String()
    unit_id = fields.Integer()
    unit_type = fields.String()
    unit_name = fields.String()


class Me(Out):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()
    must_change_password = fields.Boolean(metadata={"description": MUST_CHANGE})
    roles = fields.List(fields.Nested(RoleHeld))


@bp.route("/auth/token", methods=["POST"], tags=["auth"])
@rate_limit(_login_limit)
@bp.arguments(Credentials)
@bp.response(200, Token)
@bp.doc(security=[])
@refuses(401, 403, 429)
def issue_token(credentials: dict[str, str]):
    """Exchange a username (or phone) and password for a bearer token.

    401: wrong username or password (the same for an unknown account); 403: the right password
    for a disabled account; 429: too many wrong passwords for this account from this address (or
    from everywhere): wait the Retry-After seconds (an unknown account is answered the same way).
    """
    result = accounts.authenticate(
        credentials["username"],
        credentials["password"],
        ip=request.remote_addr,
        throttle=login_throttle(),
    )
    if result.user is None:
        # the request's commit keeps the audit row and the throttle's count
        response = jsonify(error=result.status, message=result.error)
        response.status_code = result.status
        if result.status == 429:
            response.headers["Retry-After"] = str(result.retry_after)
        return response
    if result.first_login:
        coverage_hooks.user_activated(result.user)
    token, expires_at = accounts.issue_api_token(
        user=result.user, hours=current_app.config["API_TOKEN_HOURS"]
    )
    must_change = result.user.must_change_password
    return {"token": token, "expires_at": expires_at, "must_change_password": must_change}


@bp.route("/auth/password", methods=["POST"], tags=["auth"])
@rate_limit(_login_limit)
@login_required
@bp.arguments(PasswordChange)
@bp.response(200, PasswordChanged)
@refuses(400, 401)
def change_password(change: dict[str, str]):
    """Change the caller's own password (what an account on its given password must do first).

    Every other login session and API token of the caller ends, and their sockets close; the
    session or token that sends this stays valid. 400: the current password is wrong or the new
    one is too short, with a message.
    """
    user = current_user._get_current_object()
    kept = current_credential()
    accounts.change_password(
        user=user, current=change["current_password"], new=change["new_password"], keep=kept
    )
    uow.after_commit(
        signals.password_changed.send,
        current_app._get_current_object(),  # type: ignore[attr-defined]  # a LocalProxy
        user=user,
        kept_key=accounts.hash_token(kept) if kept else None,
    )
    return {"must_change_password": False}


@bp.route("/me", tags=["auth"])
@login_required
@bp.response(200, Me)
@refuses(401)
def me():
    """The caller and the roles they hold."""
    return {
        "id": current_user.id,
        "username": current_user.username,
        "display_name": current_user.display_name,
        "must_change_password": current_user.must_change_password,
        "roles": [
            {
                "role": a.role,
                "unit_id": a.unit_id,
                "unit_type": a.unit.type,
                "unit_name": a.unit.name,
            }
            for a in current_user.roles
        ],
    }
