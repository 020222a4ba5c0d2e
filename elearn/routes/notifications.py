"""The inbox page: notices and reminders, newest first; opening one marks it read."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from elearn import queries
from elearn.extensions import db
from elearn.models import Notification
from elearn.request_args import page_number
from elearn.service import notifications

bp = Blueprint("notifications", __name__)


@bp.route("/notifications")
@login_required
def inbox():
    unread_only = request.args.get("unread") == "1"
    pagination = queries.paginate(
        notifications.inbox(current_user, unread_only=unread_only),
        page=page_number(),
        per_page=current_app.config["PAGE_SIZE"],
    )
    return render_template(
        "elearn/notifications.html",
        pagination=pagination,
        unread_only=unread_only,
        unread=notifications.unread_count(current_user),
    )


@bp.route("/notifications/<int:notification_id>/open", methods=["POST"])
@login_required
def open_one(notification_id: int):
    notice = db.session.get(Notification, notification_id)
    if notice is None or notice.user_id != current_user.id:
        abort(404)
    notifications.mark_read(current_user, [notice.id])
    return redirect(notice.link or url_for("notifications.inbox"))


@bp.route("/notifications/read", methods=["POST"])
@login_required
def mark_all_read():
    notifications.mark_read(current_user)
    return redirect(url_for("notifications.inbox"))


def home_panel(user) -> list:
    latest = notifications.latest_unread(user)
    if not latest:
        return []
    return [
        (
            "elearn/_notifications_panel.html",
            {"notices": latest, "unread": notifications.unread_count(user)},
        )
    ]
