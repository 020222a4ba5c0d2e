"""Tokens and the caller's identity."""

from __future__ import annotations

from flask import current_app, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from elearn import signals
from elearn.api import bp
from elearn.api.helpers import json_body
from elearn.auth import current_credential, login_throttle
from elearn.extensions import db, rate_limit
from elearn.service import accounts, coverage_hooks


def _login_limit() -> str:
    return current_app.config["LOGIN_IP_LIMIT"]


@bp.route("/auth/token", methods=["POST"])
@rate_limit(_login_limit)
def issue_token():
    """Exchange a username (or phone) and password for a bearer token.
    ---
    post:
      tags: [auth]
      security: []
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [username, password]
              properties:
                username: {type: string, description: username or phone number}
                password: {type: string}
      responses:
        200:
          description: "a token to send as `Authorization: Bearer <token>`"
          content:
            application/json:
              schema:
                type: object
                properties:
                  token: {type: string}
                  expires_at: {type: string, format: date-time}
                  must_change_password:
                    type: boolean
                    description: >
                      true for an account still on the password it was given; the token then
                      serves POST /api/v1/auth/password (and /api/v1/me) only, everything else
                      answers 403
        400: {description: username or password missing}
        401: {description: wrong username or password (the same for an unknown account)}
        403: {description: the right password for a disabled account}
        429:
          description: >
            too many wrong passwords for this account from this address (or from everywhere):
            wait the Retry-After seconds; an unknown account is answered the same way
    """
    data = json_body()
    username, password = data.get("username"), data.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        return jsonify(error=400, message=_("Send username and password.")), 400
    result = accounts.authenticate(
        username, password, ip=request.remote_addr, throttle=login_throttle()
    )
    if result.user is None:
        db.session.commit()
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
    db.session.commit()
    return jsonify(token=token, expires_at=expires_at.isoformat(), must_change_password=must_change)


@bp.route("/auth/password", methods=["POST"])
@rate_limit(_login_limit)
@login_required
def change_password():
    """Change the caller's own password (what an account on its given password must do first).
    ---
    post:
      tags: [auth]
      description: >
        Every other login session and API token of the caller ends, and their sockets close;
        the session or token that sends this stays valid.
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [current_password, new_password]
              properties:
                current_password: {type: string}
                new_password: {type: string, minLength: 8, maxLength: 128}
      responses:
        200:
          description: changed
          content:
            application/json:
              schema:
                type: object
                properties:
                  must_change_password: {type: boolean}
        400: {description: the current password is wrong or the new one is too short, with a message}
        401: {description: not signed in}
    """
    data = json_body()
    current, new = data.get("current_password"), data.get("new_password")
    if not isinstance(current, str) or not isinstance(new, str) or len(new) > 128:
        return jsonify(error=400, message=_("Send current_password and new_password.")), 400
    user = current_user._get_current_object()
    kept = current_credential()
    accounts.change_password(user=user, current=current, new=new, keep=kept)
    db.session.commit()
    signals.password_changed.send(
        current_app._get_current_object(),
        user=user,
        kept_key=accounts.hash_token(kept) if kept else None,
    )
    return jsonify(must_change_password=False)


@bp.route("/me")
@login_required
def me():
    """The caller and the roles they hold.
    ---
    get:
      tags: [auth]
      responses:
        200:
          description: the caller
          content:
            application/json:
              schema:
                type: object
                properties:
                  id: {type: integer}
                  username: {type: string}
                  display_name: {type: string}
                  roles:
                    type: array
                    items:
                      type: object
                      properties:
                        role: {type: string}
                        unit_id: {type: integer}
                        unit_type: {type: string}
                  must_change_password:
                    type: boolean
                    description: true until the caller changes the password they were given
        401: {description: not signed in}
    """
    return jsonify(
        id=current_user.id,
        username=current_user.username,
        display_name=current_user.display_name,
        must_change_password=current_user.must_change_password,
        roles=[
            {
                "role": a.role,
                "unit_id": a.unit_id,
                "unit_type": a.unit.type,
                "unit_name": a.unit.name,
            }
            for a in current_user.roles
        ],
    )
