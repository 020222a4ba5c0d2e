"""Appointments' pages, phone first: mine, publishing slots (staff), booking one (guardians),
one appointment (cancel; the staff member's private notes) and its video call."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from elearn import localtime, uow
from elearn.extensions import db
from elearn.models import Role, User
from elearn.models._types import INT_MAX, utcnow
from elearn.service.errors import ServiceError
from parents.appointments import queries, service
from parents.appointments.models import MAX_REASON, AppointmentSlot, SlotMode

bp = Blueprint(
    "appointments",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/appointments-static",
)

#: what a datetime-local field sends
LOCAL_FORMAT = "%Y-%m-%dT%H:%M"


def nav_items(user: User) -> list[tuple[str, str]]:
    if service.is_staff(user) or user.has_role(Role.GUARDIAN):
        return [("appointments.index", _("Appointments"))]
    return []


def _local(name: str) -> datetime:
    raw = (request.form.get(name) or "").strip()
    try:
        return localtime.from_local(datetime.strptime(raw[:16], LOCAL_FORMAT))
    except ValueError:
        raise ServiceError(_("Give the date and time of the slot.")) from None


@bp.route("/appointments")
@login_required
def index():
    return render_template(
        "appointments/index.html",
        appointments=queries.mine(current_user),
        staff=service.is_staff(current_user),
        guardian=current_user.has_role(Role.GUARDIAN),
        when=service.when,
    )


@bp.route("/appointments/slots", methods=["GET", "POST"])
@login_required
def slots():
    """A staff member's slots, and the form that publishes one (local time)."""
    if not service.is_staff(current_user):
        abort(403)
    error, status = None, 200
    if request.method == "POST":
        try:
            with uow.savepoint():
                service.publish_slot(
                    actor=current_user,
                    starts_at=_local("starts_at"),
                    ends_at=_local("ends_at"),
                    mode=request.form.get("mode", SlotMode.IN_PERSON),
                    place=request.form.get("place", ""),
                )
        except ServiceError as refused:
            error, status = refused.message, refused.status
        else:
            flash(_("The slot is published."), "success")
            return redirect(url_for("appointments.slots"))
    page = render_template(
        "appointments/slots.html",
        rows=queries.staff_slots(current_user),
        guardians=queries.invitable_guardians(current_user),
        error=error,
        form=request.form,
        when=service.when,
        max_reason=MAX_REASON,
    )
    return page, status


def _own_slot(slot_id: int) -> AppointmentSlot:
    slot = db.session.get(AppointmentSlot, slot_id)
    if slot is None or slot.staff_id != current_user.id:
        abort(404)
    return slot


@bp.route("/appointments/slots/<int:slot_id>/invite", methods=["POST"])
@login_required
def invite(slot_id: int):
    """The staff member books one of their open slots for a guardian they may message."""
    slot = _own_slot(slot_id)
    guardian_id = request.form.get("guardian_id", "")
    valid = guardian_id.isdigit() and 1 <= int(guardian_id) <= INT_MAX
    guardian = db.session.get(User, int(guardian_id)) if valid else None
    try:
        if guardian is None:
            raise ServiceError(_("You can only invite guardians you may message."), status=404)
        with uow.savepoint():
            appointment = service.invite(
                actor=current_user,
                slot=slot,
                guardian=guardian,
                reason=request.form.get("reason", ""),
            )
    except ServiceError as refused:
        flash(refused.message, "error")
        return redirect(url_for("appointments.slots"))
    flash(_("Invited. %(name)s is told.", name=guardian.display_name), "success")
    return redirect(url_for("appointments.detail", appointment_id=appointment.id))


@bp.route("/appointments/slots/<int:slot_id>/withdraw", methods=["POST"])
@login_required
def withdraw(slot_id: int):
    service.withdraw_slot(actor=current_user, slot=_own_slot(slot_id))
    flash(_("The slot is withdrawn."), "success")
    return redirect(url_for("appointments.slots"))


@bp.route("/appointments/book")
@login_required
def book():
    """The open slots of the staff a guardian may message, each with a reason to fill in."""
    if not current_user.has_role(Role.GUARDIAN):
        abort(403)
    return render_template(
        "appointments/book.html",
        slots=queries.open_slots(current_user),
        when=service.when,
        max_reason=MAX_REASON,
    )


@bp.route("/appointments/book/<int:slot_id>", methods=["POST"])
@login_required
def book_slot(slot_id: int):
    slot = db.session.get(AppointmentSlot, slot_id)
    if slot is None or not service.may_see_slot(current_user, slot):
        abort(404)
    try:
        with uow.savepoint():
            appointment = service.book(
                actor=current_user, slot=slot, reason=request.form.get("reason", "")
            )
    except ServiceError as refused:
        if refused.status == 404:
            abort(404)
        flash(refused.message, "error")
        return redirect(url_for("appointments.book"))
    flash(_("Booked. You will be reminded an hour before."), "success")
    return redirect(url_for("appointments.detail", appointment_id=appointment.id))


@bp.route("/appointments/<int:appointment_id>")
@login_required
def detail(appointment_id: int):
    appointment = service.visible(current_user, appointment_id)
    return render_template(
        "appointments/detail.html",
        appointment=appointment,
        when=service.when,
        notes=service.notes_for(current_user, appointment),
        may_call=service.may_call(current_user, appointment),
    )


@bp.route("/appointments/<int:appointment_id>/cancel", methods=["POST"])
@login_required
def cancel(appointment_id: int):
    appointment = service.visible(current_user, appointment_id)
    try:
        with uow.savepoint():
            service.cancel(
                actor=current_user, appointment=appointment, reason=request.form.get("reason", "")
            )
    except ServiceError as refused:
        flash(refused.message, "error")
    else:
        flash(_("The appointment is cancelled; the other side is told."), "success")
    return redirect(url_for("appointments.detail", appointment_id=appointment_id))


@bp.route("/appointments/<int:appointment_id>/notes", methods=["POST"])
@login_required
def notes(appointment_id: int):
    appointment = service.visible(current_user, appointment_id)
    if appointment.staff_id != current_user.id:
        abort(404)
    try:
        with uow.savepoint():
            service.save_notes(
                actor=current_user, appointment=appointment, notes=request.form.get("notes", "")
            )
    except ServiceError as refused:
        flash(refused.message, "error")
    else:
        flash(_("Notes saved. Only you can read them."), "success")
    return redirect(url_for("appointments.detail", appointment_id=appointment_id))


@bp.route("/appointments/<int:appointment_id>/call")
@login_required
def call(appointment_id: int):
    """The video call of a confirmed video appointment, for its two parties until it ends."""
    appointment = service.visible(current_user, appointment_id)
    if not service.may_call(current_user, appointment):
        abort(404)
    other = appointment.guardian if appointment.staff_id == current_user.id else appointment.staff
    return render_template(
        "appointments/call.html",
        appointment=appointment,
        other=other,
        when=service.when,
        config={
            "appointmentId": appointment.id,
            "caller": appointment.staff_id == current_user.id,
            "iceServers": service.ice_servers(
                current_user,
                servers=current_app.config["APPOINTMENT_ICE_SERVERS"],
                secret=current_app.config["APPOINTMENT_TURN_SECRET"],
                ttl=current_app.config["APPOINTMENT_TURN_TTL"],
                now=utcnow(),
            ),
        },
    )
