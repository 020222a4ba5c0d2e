"""Account slips (账号单): opening an import's slip, a class's reset, and the print page."""

from __future__ import annotations

import base64

from flask import Blueprint, abort, current_app, make_response, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from elearn import permissions, signals, uow
from elearn.forms import ConfirmForm
from elearn.models import AccountSlip, Unit
from elearn.service import slips

bp = Blueprint("slips", __name__, url_prefix="/admin")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def role_labels() -> dict[str, str]:
    return {
        "student": _("Student"),
        "guardian": _("Parent"),
        "teacher": _("Teacher"),
        "school_admin": _("School admin"),
        "county_admin": _("County admin"),
        "prefecture_admin": _("Prefecture admin"),
        "expert": _("Expert lecturer"),
    }


def login_url() -> str:
    return url_for("auth.login", _external=True)


def slip_page(issued: slips.IssuedSlip):
    """The print page of passwords just made: shown in this answer only, never cached."""
    labels = role_labels()
    workbook = slips.workbook(issued, login_url=login_url(), role_labels=labels)
    response = make_response(
        render_template(
            "elearn/admin/slip.html",
            slip=issued,
            role_labels=labels,
            login_url=login_url(),
            xlsx_href=f"data:{XLSX};base64,{base64.b64encode(workbook).decode()}",
            xlsx_name=_("account-slip") + f"-{issued.unit or issued.school}.xlsx",
        )
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/jobs/<job_id>/slips/<int:slip_id>", methods=["POST"])
@login_required
def open_one(job_id: str, slip_id: int):
    """Open an import's slip: its passwords are made now and shown this once."""
    slip = permissions.get_or_404(AccountSlip, slip_id, current_user, "open")
    if slip.job_id != job_id[:32]:
        abort(404)
    ConfirmForm().validate_on_submit() or abort(400)
    issued = slips.open_slip(actor=current_user, slip=slip)
    return slip_page(issued)


@bp.route("/units/<int:unit_id>/account-slip", methods=["POST"])
@login_required
def reset_class(unit_id: int):
    """New initial passwords for a class's accounts still waiting for their own, shown once."""
    unit = permissions.get_or_404(Unit, unit_id, current_user, "reset_passwords")
    ConfirmForm().validate_on_submit() or abort(400)
    issued = slips.reset_class(actor=current_user, unit=unit)
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # current_app is typed as Flask, not as the LocalProxy it is
    for user in issued.users:
        uow.after_commit(signals.password_changed.send, app, user=user, kept_key=None)
    return slip_page(issued)
