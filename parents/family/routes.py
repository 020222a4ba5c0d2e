"""The family pages: a guardian's children and the child view, redeeming an invite code; for
teachers and admins, issuing codes (with a QR), confirming requests and (admins) unlinking."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import segno
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import or_, select

from elearn import uow
from elearn.extensions import db, rate_limit
from elearn.models import GuardianLink, Role, Unit, User
from elearn.models.accounts import ADMIN_ROLES
from elearn.queries import members_of
from elearn.request_args import row_id
from elearn.service.errors import ServiceError
from parents.family import queries, service
from parents.family.limits import redeem_key, redeem_limit
from parents.family.models import GuardianInvite

bp = Blueprint("family", __name__, template_folder="templates")


def nav_items(user: User) -> list[tuple[str, str]]:
    items = []
    if user.has_role(Role.GUARDIAN):
        items.append(("family.index", _("My children")))
    if user.has_role(Role.TEACHER, *ADMIN_ROLES):
        items.append(("family.invites", _("Guardian links")))
    return items


def _now() -> datetime:
    return datetime.now(UTC)


def qr_svg(text: str) -> Markup:
    """The QR of ``text`` as inline SVG (no image file, no inline style)."""
    svg = segno.make(text, error="m").svg_inline(scale=5, border=2)
    return Markup(svg)  # noqa: S704 - segno's own SVG of our own URL


@bp.route("/family")
@login_required
def index():
    if not current_user.has_role(Role.GUARDIAN):
        abort(404)
    now = _now()
    views = [
        queries.child_view(current_user, child, relation, now, lessons=False)
        for child, relation in queries.children(current_user)
    ]
    return render_template("family/index.html", views=views)


@bp.route("/family/children/<int:child_id>")
@login_required
def child(child_id: int):
    try:
        child, relation = service.child_of(current_user, child_id)
    except ServiceError:
        abort(404)
    view = queries.child_view(current_user, child, relation, _now())
    return render_template("family/child.html", view=view)


@bp.route("/family/link", methods=["GET", "POST"])
@login_required
@rate_limit(redeem_limit, key_func=redeem_key, methods=["POST"])
def link():
    if not current_user.has_role(Role.GUARDIAN):
        abort(404)
    form = request.form
    if request.method == "POST":
        try:
            with uow.savepoint():
                invite = service.redeem(
                    actor=current_user,
                    code=form.get("code", ""),
                    child_name=form.get("child_name", ""),
                    relation=form.get("relation", ""),
                )
        except ServiceError as error:
            page = render_template(
                "family/link.html",
                relations=service.RELATIONS,
                error=error.message,
                form=form,
            )
            return page, error.status
        if invite.status == "linked":
            flash(_("Linked. You can now follow your child's learning."), "success")
            return redirect(url_for("family.child", child_id=invite.student_id))
        flash(_("Sent. The school will confirm the link soon."), "success")
        return redirect(url_for("family.index"))
    return render_template(
        "family/link.html",
        relations=service.RELATIONS,
        error=None,
        form={"code": request.args.get("code", "")},
    )


def _managed_classes(actor: User) -> list[Unit]:
    """The classes the actor issues codes in (under their teacher and admin units)."""
    paths = sorted({a.unit.path for a in actor.roles if a.role in queries.MANAGING_ROLES})
    if not paths:
        return []
    found = db.session.scalars(
        select(Unit)
        .where(
            Unit.type == "class",
            or_(*[Unit.path.startswith(path, autoescape=False) for path in paths]),
        )
        .order_by(Unit.path)
        .limit(300)
    )
    return [unit for unit in found if service.may_manage(actor, unit)]


@bp.route("/family/invites")
@login_required
def invites():
    classes = _managed_classes(current_user)
    if not classes:
        abort(404)
    chosen_id = row_id("class")
    chosen = next((unit for unit in classes if unit.id == chosen_id), None)
    students = (
        list(db.session.scalars(members_of(chosen, role=Role.STUDENT).limit(200))) if chosen else []
    )
    return render_template(
        "family/invites.html",
        classes=classes,
        chosen=chosen,
        students=students,
        pending=queries.pending_requests(current_user),
    )


@bp.route("/family/students/<int:student_id>", methods=["GET", "POST"])
@login_required
def student(student_id: int):
    try:
        student, klass = service.managed_student(current_user, student_id)
    except ServiceError:
        abort(404)
    issued = None
    error = None
    status = 200
    if request.method == "POST":
        try:
            with uow.savepoint():
                issued = service.issue_invite(
                    actor=current_user, student=student, phone=request.form.get("phone")
                )
        except ServiceError as exc:
            error, status = exc.message, exc.status
    context: dict[str, Any] = {}
    if issued is not None:
        url = url_for("family.link", code=issued.display, _external=True)
        context = {
            "code": issued.display,
            "expires_at": issued.invite.expires_at,
            "qr": qr_svg(url),
        }
    links = db.session.execute(
        select(User, GuardianLink.relation)
        .join(GuardianLink, GuardianLink.guardian_id == User.id)
        .where(GuardianLink.student_id == student.id)
        .order_by(User.display_name)
    ).all()
    page = render_template(
        "family/student.html",
        student=student,
        klass=klass,
        links=links,
        can_unlink=service.may_unlink(current_user, klass),
        error=error,
        **context,
    )
    return page, status


def _request(invite_id: int) -> GuardianInvite:
    invite = db.session.get(GuardianInvite, invite_id)
    if invite is None or not service.may_manage(current_user, invite.unit):
        abort(404)
    return invite


@bp.route("/family/requests/<int:invite_id>/<any(confirm, refuse):decision>", methods=["POST"])
@login_required
def decide(invite_id: int, decision: str):
    invite = _request(invite_id)
    try:
        with uow.savepoint():
            service.decide(actor=current_user, invite=invite, approve=decision == "confirm")
    except ServiceError as error:
        flash(error.message, "error")
    else:
        flash(_("Confirmed.") if decision == "confirm" else _("Refused."), "success")
    return redirect(url_for("family.invites"))


@bp.route("/family/students/<int:student_id>/unlink/<int:guardian_id>", methods=["POST"])
@login_required
def unlink(student_id: int, guardian_id: int):
    student = db.session.get(User, student_id)
    guardian = db.session.get(User, guardian_id)
    if student is None or guardian is None:
        abort(404)
    try:
        with uow.savepoint():
            service.unlink(actor=current_user, guardian=guardian, student=student)
    except ServiceError:
        abort(404)
    flash(_("The link is removed."), "success")
    return redirect(url_for("family.student", student_id=student_id))


def children_panel_links(guardian: User, children: list[User]) -> dict[str, Any]:
    """For the home page's "my children" panel (``elearn.children_panel``): each child's view,
    and redeeming an invite code."""
    return {
        "links": {child.id: url_for("family.child", child_id=child.id) for child in children},
        "actions": [(_("Link a child with an invite code"), url_for("family.link"))],
    }
