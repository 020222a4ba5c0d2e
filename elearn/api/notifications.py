"""The caller's inbox."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from marshmallow import fields, validate

from elearn import queries
from elearn.api.base import bp, refuses
from elearn.api.schemas import MAX_IDS, Body, Out, Query, When
from elearn.models._types import INT_MAX
from elearn.service import notifications

#: notifications have BIGINT ids (a reminder to every parent is 1.3 million rows)
BIG_ID = validate.Range(min=1, max=2**63 - 1)


class NotificationOut(Out):
    id = fields.Integer()
    kind = fields.String()
    title = fields.String()
    body = fields.String()
    link = fields.String(allow_none=True)
    created_at = When()
    read = fields.Boolean()


class Inbox(Out):
    items = fields.List(fields.Nested(NotificationOut))
    unread = fields.Integer()
    page = fields.Integer()
    pages = fields.Integer()


class InboxQuery(Query):
    unread = fields.Integer(
        validate=validate.OneOf([0, 1]), metadata={"description": "only unread"}
    )
    page = fields.Integer(validate=validate.Range(min=1, max=INT_MAX), load_default=1)


class MarkRead(Body):
    ONE_OF = ("ids", "all")
    ONE_OF_MESSAGE = _l("Send a list of notification ids, or all: true.")

    ids = fields.List(
        fields.Integer(strict=True, validate=BIG_ID),
        validate=validate.Length(max=MAX_IDS),
        metadata={"description": "the notifications to mark read (others' ids are ignored)"},
    )
    all = fields.Boolean(
        validate=validate.Equal(True), metadata={"description": "mark every notification read"}
    )


class Marked(Out):
    marked = fields.Integer()
    unread = fields.Integer()


@bp.route("/me/notifications", tags=["notifications"])
@login_required
@bp.arguments(InboxQuery, location="query")
@bp.response(200, Inbox)
@refuses(401)
def my_notifications(args: dict[str, int]) -> dict[str, Any]:
    """The caller's notifications, newest first: a page of them and the unread count."""
    pagination = queries.paginate(
        notifications.inbox(current_user, unread_only=args.get("unread") == 1),
        page=args["page"],
        per_page=current_app.config["PAGE_SIZE"],
    )
    return {
        "items": [
            {
                "id": n.id,
                "kind": n.kind,
                "title": n.title,
                "body": n.body,
                "link": n.link,
                "created_at": n.created_at,
                "read": n.read_at is not None,
            }
            for n in pagination.items
        ],
        "unread": notifications.unread_count(current_user),
        "page": pagination.page,
        "pages": pagination.pages,
    }


@bp.route("/me/notifications/read", methods=["POST"], tags=["notifications"])
@login_required
@bp.arguments(MarkRead)
@bp.response(200, Marked)
@refuses(401)
def read_notifications(body: dict[str, Any]) -> dict[str, int]:
    """Mark notifications read: `{"ids": [...]}` or `{"all": true}`."""
    if body.get("all") is True:
        marked = notifications.mark_read(current_user)
    else:
        marked = notifications.mark_read(current_user, body["ids"])
    return {"marked": marked, "unread": notifications.unread_count(current_user)}
