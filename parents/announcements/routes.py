"""Announcements' pages: mine (received and sent), one announcement (read when opened; its
回执 button), and for its sender and the admins over it, the receipts per child unit."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from elearn.extensions import db
from parents.announcements import queries, service
from parents.announcements.models import Announcement, AnnouncementReceipt

bp = Blueprint(
    "announcements",
    __name__,
    template_folder="templates",
    static_folder=str(Path(__file__).resolve().parent.parent / "static"),
    static_url_path="/parents-static",
)

LIST_LIMIT = 50


def _announcement(announcement_id: int) -> Announcement:
    announcement = db.session.get(Announcement, announcement_id)
    if announcement is None or not service.may_view(current_user, announcement):
        abort(404)
    return announcement


@bp.route("/announcements")
@login_required
def index():
    received = db.session.execute(queries.received(current_user).limit(LIST_LIMIT)).all()
    sent = db.session.scalars(queries.sent(current_user).limit(LIST_LIMIT)).all()
    return render_template("announcements/index.html", received=received, sent=sent)


@bp.route("/announcements/<int:announcement_id>")
@login_required
def detail(announcement_id: int):
    announcement = _announcement(announcement_id)
    receipt = db.session.get(AnnouncementReceipt, (announcement.id, current_user.id))
    if receipt is not None:
        receipt = service.mark_read(current_user, announcement)
    unit = announcement.unit
    counts = (
        queries.receipts(announcement, unit)
        if service.may_see_receipts(current_user, announcement, unit)
        else None
    )
    return render_template(
        "announcements/detail.html", announcement=announcement, receipt=receipt, counts=counts
    )


@bp.route("/announcements/<int:announcement_id>/ack", methods=["POST"])
@login_required
def ack(announcement_id: int):
    service.acknowledge(current_user, _announcement(announcement_id))
    flash(_("Acknowledged. The sender sees your receipt."), "success")
    return redirect(url_for("announcements.detail", announcement_id=announcement_id))
