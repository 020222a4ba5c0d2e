"""Announcements' pages: mine (received and sent), one announcement (read when opened; its
回执 button), and for its sender and the admins over it, the receipts per child unit."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from elearn import uow
from elearn.extensions import db
from elearn.models import Unit
from elearn.service.errors import ServiceError
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
    can_send = bool(service.addressable_units(current_user))
    return render_template(
        "announcements/index.html", received=received, sent=sent, can_send=can_send
    )


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
        "announcements/detail.html",
        announcement=announcement,
        receipt=receipt,
        counts=counts,
        can_remind=service.may_remind(current_user, announcement),
    )


@bp.route("/announcements/<int:announcement_id>/ack", methods=["POST"])
@login_required
def ack(announcement_id: int):
    service.acknowledge(current_user, _announcement(announcement_id))
    flash(_("Acknowledged. The sender sees your receipt."), "success")
    return redirect(url_for("announcements.detail", announcement_id=announcement_id))


ROLE_CHOICES = ("", "admin", "teacher", "student", "guardian")


@bp.route("/announcements/new", methods=["GET", "POST"])
@login_required
def new():
    units = service.addressable_units(current_user)
    if not units:
        abort(403)
    form = request.form
    if request.method == "POST":
        chosen = {int(i) for i in form.getlist("unit_id") if i.isdigit() and len(i) < 10}
        role = form.get("role") or None
        audience = [service.Audience(unit=u, role=role) for u in units if u.id in chosen]
        try:
            with uow.savepoint():
                announcement = service.send(
                    actor=current_user,
                    title=form.get("title", ""),
                    body=form.get("body", ""),
                    audience=audience,
                    requires_ack=form.get("requires_ack") == "1",
                )
        except ServiceError as error:
            return _composer(units, error.message, error.status)
        flash(_("Sent to %(n)d people.", n=announcement.recipients), "success")
        return redirect(url_for("announcements.detail", announcement_id=announcement.id))
    return _composer(units)


@dataclass
class Node:
    """A unit of the composer's org tree, with the addressable units under it."""

    unit: Unit
    children: list[Node] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(1 + child.size for child in self.children)


def org_tree(units: list[Unit]) -> list[Node]:
    """The addressable units as a tree (each under its nearest addressable ancestor), in the
    order given (``addressable_units`` sorts by path)."""
    nodes = {unit.id: Node(unit) for unit in units}
    roots: list[Node] = []
    for unit in units:
        parent = next(
            (nodes[i] for i in reversed(unit.ancestor_ids[:-1]) if i in nodes and i != unit.id),
            None,
        )
        (parent.children if parent else roots).append(nodes[unit.id])
    return roots


def _composer(units: list[Unit], error: str | None = None, status: int = 200):
    page = render_template(
        "announcements/new.html",
        tree=org_tree(units),
        chosen=set(request.form.getlist("unit_id")),
        roles=ROLE_CHOICES,
        error=error,
        form=request.form,
    )
    return page, status


@bp.route("/announcements/<int:announcement_id>/remind", methods=["POST"])
@login_required
def remind(announcement_id: int):
    announcement = _announcement(announcement_id)
    if not service.may_remind(current_user, announcement):
        abort(404)
    try:
        with uow.savepoint():
            sent = service.remind(current_user, announcement)
    except ServiceError as error:
        flash(error.message, "error")
    else:
        flash(_("Reminded %(n)d people who have not read it.", n=sent), "success")
    return redirect(url_for("announcements.detail", announcement_id=announcement_id))
