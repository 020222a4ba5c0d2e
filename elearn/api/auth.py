"""Tokens and the caller's identity."""

from __future__ import annotations

from flask import current_app, jsonify, request
from flask_login import current_user, login_required
from marshmallow import fields

from elearn.api import bp, refuses
from elearn.api.schemas import Body, Out, Text, When
from elearn.extensions import db, rate_limit
from elearn.service import accounts, coverage_hooks


def _login_limit() -> str:
    return current_app.config["LOGIN_IP_LIMIT"]


class Credentials(Body):
    username = Text(64, required=True, metadata={"description": "username or phone number"})
    password = Text(256, required=True)


class Token(Out):
    token = fields.String(metadata={"description": "send as `Authorization: Bearer <token>`"})
    expires_at = When()


class RoleHeld(Out):
    role = fields.String()
    unit_id = fields.Integer()
    unit_type = fields.String()
    unit_name = fields.String()


class Me(Out):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()
    roles = fields.List(fields.Nested(RoleHeld))


@bp.route("/auth/token", methods=["POST"], tags=["auth"])
@rate_limit(_login_limit)
@bp.arguments(Credentials)
@bp.response(200, Token)
@bp.doc(security=[])
@refuses(401)
def issue_token(credentials: dict[str, str]):
    """Exchange a username (or phone) and password for a bearer token.

    401: wrong credentials or a locked account, with a message.
    """
    result = accounts.authenticate(
        credentials["username"],
        credentials["password"],
        ip=request.remote_addr,
        max_failures=current_app.config["LOGIN_MAX_FAILURES"],
        lock_minutes=current_app.config["LOGIN_LOCK_MINUTES"],
    )
    if result.user is None:
        db.session.commit()
        return jsonify(error=401, message=result.error), 401
    if result.first_login:
        coverage_hooks.user_activated(result.user)
    token, expires_at = accounts.issue_api_token(
        user=result.user, hours=current_app.config["API_TOKEN_HOURS"]
    )
    db.session.commit()
    return {"token": token, "expires_at": expires_at}


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
