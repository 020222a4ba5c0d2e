"""The caller's inbox."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from elearn import queries
from elearn.api import bp
from elearn.api.helpers import json_body
from elearn.extensions import db
from elearn.models import Notification
from elearn.service import notifications
from elearn.service.errors import ServiceError


def notification_json(notice: Notification) -> dict[str, Any]:
    return {
        "id": notice.id,
        "kind": notice.kind,
        "title": notice.title,
        "body": notice.body,
        "link": notice.link,
        "created_at": notice.created_at.isoformat(),
        "read": notice.read_at is not None,
    }


@bp.route("/me/notifications")
@login_required
def my_notifications():
    """The caller's notifications, newest first.
    ---
    get:
      tags: [notifications]
      parameters:
        - {name: unread, in: query, schema: {type: integer, enum: [0, 1]}, description: only unread}
        - {name: page, in: query, schema: {type: integer, minimum: 1}}
      responses:
        200:
          description: a page of notifications and the unread count
          content:
            application/json:
              schema:
                type: object
                properties:
                  items:
                    type: array
                    items: {$ref: '#/components/schemas/Notification'}
                  unread: {type: integer}
                  page: {type: integer}
                  pages: {type: integer}
    """
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    pagination = queries.paginate(
        notifications.inbox(current_user, unread_only=request.args.get("unread") == "1"),
        page=page,
        per_page=current_app.config["PAGE_SIZE"],
    )
    return jsonify(
        {
            "items": [notification_json(n) for n in pagination.items],
            "unread": notifications.unread_count(current_user),
            "page": pagination.page,
            "pages": pagination.pages,
        }
    )


@bp.route("/me/notifications/read", methods=["POST"])
@login_required
def read_notifications():
    """Mark notifications read: `{"ids": [...]}` or `{"all": true}`.
    ---
    post:
      tags: [notifications]
      requestBody:
        content:
          application/json:
            schema:
              type: object
              properties:
                ids: {type: array, items: {type: integer}}
                all: {type: boolean}
      responses:
        200: {description: '{"marked": n, "unread": n}'}
        400: {description: neither ids nor all given}
    """
    body = json_body()
    if body.get("all") is True:
        marked = notifications.mark_read(current_user)
    else:
        ids = body.get("ids")
        if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
            raise ServiceError(_("Send a list of notification ids, or all: true."))
        marked = notifications.mark_read(current_user, ids[:1000])
    db.session.commit()
    return jsonify({"marked": marked, "unread": notifications.unread_count(current_user)})
