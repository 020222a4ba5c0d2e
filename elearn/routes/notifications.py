"""The inbox page: notices and reminders, newest first; opening one marks it read. And each
person's settings for notices beyond the inbox (e-mail, SMS)."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from elearn import queries, uow
from elearn.delivery import push
from elearn.extensions import db
from elearn.models import Notification
from elearn.request_args import page_number
from elearn.service import delivery, notifications
from elearn.service.errors import ServiceError

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


@bp.route("/notifications/settings", methods=["GET", "POST"])
@login_required
def settings():
    if request.method == "GET":
        return _settings_page()
    # each select is named "category:channel"; safety notices are fixed on (not in the form)
    choices = {}
    for category in delivery.CATEGORIES:
        for channel in delivery.CHANNELS:
            mode = request.form.get(f"{category}:{channel}")
            if mode is not None and category != delivery.SAFETY:
                choices[(category, channel)] = mode
    email = request.form.get("email", "")
    try:
        with uow.savepoint():
            delivery.set_email(current_user, email)
            delivery.set_preferences(current_user, choices)
    except ServiceError as error:
        # the page shows again what was typed and chosen, with what was wrong
        return _settings_page(error=error.message, email=email, typed=choices, status=error.status)
    flash(_("Notification settings saved."), "success")
    return redirect(url_for("notifications.settings"))


def _settings_page(
    error: str | None = None,
    email: str | None = None,
    typed: dict[tuple[str, str], str] | None = None,
    status: int = 200,
):
    page = render_template(
        "elearn/notification_settings.html",
        categories=delivery.CATEGORIES,
        channels=delivery.CHANNELS,
        modes=delivery.MODES,
        chosen={**delivery.preferences(current_user), **(typed or {})},
        safety=delivery.SAFETY,
        email=current_user.email if email is None else email,
        push_key=_push_key(),
        error=error,
    )
    return page, status


@bp.route("/notifications/push", methods=["POST"])
@login_required
def push_subscribe():
    """Keep this browser's Web Push subscription (posted by static/js/push.js)."""
    delivery.subscribe(current_user, request.get_json(silent=True))
    return {"ok": True}, 201


@bp.route("/notifications/push/remove", methods=["POST"])
@login_required
def push_unsubscribe():
    """Forget this browser's subscription (one of the user's own; another's is left alone)."""
    data = request.get_json(silent=True)
    endpoint = data.get("endpoint") if isinstance(data, dict) else None
    if not isinstance(endpoint, str):
        raise ServiceError(_("This browser's subscription is not complete."))
    return {"ok": True, "removed": delivery.unsubscribe(current_user, endpoint)}


@bp.route("/sw.js")
def service_worker():
    """The push notices' service worker, at the site's root so that its scope is the site."""
    response = current_app.send_static_file("js/sw.js")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Content-Type"] = "text/javascript; charset=utf-8"
    return response


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


def _push_key() -> str | None:
    """The browser's ``applicationServerKey`` when Web Push is configured."""
    private_key = current_app.config.get("VAPID_PRIVATE_KEY")
    return push.public_key(private_key) if private_key else None
