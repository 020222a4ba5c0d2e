"""Admin pages: the org tree within one's scope, its people, terms and the audit log."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from elearn import permissions, queries
from elearn.extensions import db
from elearn.forms import ConfirmForm, PasswordResetForm, RoleForm, TermForm, UnitForm
from elearn.models import RoleAssignment, Term, Unit, User
from elearn.models.org import CHILD_TYPE, UnitType
from elearn.request_args import page_number, search_text
from elearn.service import accounts, coverage, org
from elearn.service.accounts import ROLE_UNIT_TYPES
from elearn.service.errors import ServiceError

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def _admins_only():
    if not accounts.is_admin(current_user):
        abort(403)


def _page() -> int:
    return page_number()


@bp.route("/units")
def units():
    roots = sorted(
        {
            a.unit
            for a in current_user.roles
            if permissions.can(current_user, "view_members", a.unit)
        },
        key=lambda unit: (len(unit.path), unit.name),
    )
    if len(roots) == 1:
        return redirect(url_for("admin.unit_detail", unit_id=roots[0].id))
    return render_template("elearn/admin/units.html", roots=roots)


@bp.route("/units/<int:unit_id>")
def unit_detail(unit_id: int):
    unit = permissions.get_or_404(Unit, unit_id, current_user, "view_members")
    term = org.current_term()
    children = queries.children_of(unit)
    return render_template(
        "elearn/admin/unit.html",
        unit=unit,
        children=children,
        grandchildren=queries.child_counts(unit),
        breadcrumbs=[
            u
            for u in (db.session.get(Unit, i) for i in unit.ancestor_ids)
            if u is not None and permissions.can(current_user, "view", u)
        ],
        metrics=coverage.coverage(unit, term) if term else None,
        child_metrics=coverage.coverage_many(children, term) if term and children else {},
        term=term,
        child_type=CHILD_TYPE[UnitType(unit.type)],
        can_edit=permissions.can(current_user, "edit", unit),
        can_delete=permissions.can(current_user, "delete", unit) and not children,
        can_import=permissions.can(current_user, "import_roster", unit),
        confirm_form=ConfirmForm(),
    )


@bp.route("/units/<int:unit_id>/edit", methods=["GET", "POST"])
def unit_edit(unit_id: int):
    unit = permissions.get_or_404(Unit, unit_id, current_user, "edit")
    form = UnitForm(obj=unit)
    if form.validate_on_submit():
        org.update_unit(
            actor=current_user,
            unit=unit,
            name=form.name.data,
            code=form.code.data,
            school_kind=form.school_kind.data,
            is_rural=form.is_rural.data,
            grade_level=form.grade_level.data,
        )
        db.session.commit()
        flash(_("Saved."), "success")
        return redirect(url_for("admin.unit_detail", unit_id=unit.id))
    return render_template(
        "elearn/admin/unit_form.html", form=form, unit=unit, parent=unit.parent, unit_type=unit.type
    ), 400 if request.method == "POST" else 200


@bp.route("/units/<int:unit_id>/children/new", methods=["GET", "POST"])
def unit_new_child(unit_id: int):
    parent = permissions.get_or_404(Unit, unit_id, current_user, "create_child")
    child_type = CHILD_TYPE[UnitType(parent.type)]
    if child_type is None:
        abort(404)
    form = UnitForm()
    if form.validate_on_submit():
        unit = org.create_unit(
            actor=current_user,
            parent=parent,
            name=form.name.data,
            code=form.code.data,
            school_kind=form.school_kind.data,
            is_rural=form.is_rural.data,
            grade_level=form.grade_level.data,
        )
        db.session.commit()
        flash(_("Created."), "success")
        return redirect(url_for("admin.unit_detail", unit_id=unit.id))
    return render_template(
        "elearn/admin/unit_form.html",
        form=form,
        unit=None,
        parent=parent,
        unit_type=child_type.value,
    ), 400 if request.method == "POST" else 200


@bp.route("/units/<int:unit_id>/delete", methods=["POST"])
def unit_delete(unit_id: int):
    unit = permissions.get_or_404(Unit, unit_id, current_user, "delete")
    ConfirmForm().validate_on_submit() or abort(400)
    parent_id = unit.parent_id
    org.delete_unit(actor=current_user, unit=unit)
    db.session.commit()
    flash(_("Deleted."), "success")
    return redirect(url_for("admin.unit_detail", unit_id=parent_id))


@bp.route("/units/<int:unit_id>/members")
def unit_members(unit_id: int):
    unit = permissions.get_or_404(Unit, unit_id, current_user, "view_members")
    role = request.args.get("role") or None
    if role is not None and role not in ROLE_UNIT_TYPES:
        role = None
    q = search_text("q", 64)
    pagination = queries.paginate(
        queries.members_of(unit, role=role, q=q),
        page=_page(),
        per_page=current_app.config["PAGE_SIZE"],
    )
    return render_template(
        "elearn/admin/members.html",
        unit=unit,
        pagination=pagination,
        role=role,
        q=q or "",
        roles=list(ROLE_UNIT_TYPES),
    )


@bp.route("/users/<int:user_id>")
def user_detail(user_id: int):
    user = permissions.get_or_404(User, user_id, current_user, "view")
    form = RoleForm()
    form.role.choices = [SelectChoice(r) for r in ROLE_UNIT_TYPES]
    return render_template(
        "elearn/admin/user.html",
        user=user,
        reset_form=PasswordResetForm(),
        role_form=form,
        confirm_form=ConfirmForm(),
        can_reset=permissions.can(current_user, "reset_password", user),
        can_manage_roles=permissions.can(current_user, "manage_roles", user),
    )


@bp.route("/users/<int:user_id>/reset-password", methods=["POST"])
def user_reset_password(user_id: int):
    user = permissions.get_or_404(User, user_id, current_user, "reset_password")
    form = PasswordResetForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        accounts.reset_password(
            actor=current_user,
            user=user,
            new=form.new_password.data,
            unit_id=user.roles[0].unit_id if user.roles else None,
        )
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("admin.user_detail", user_id=user.id))
    db.session.commit()
    flash(_("The password has been reset; the user must change it at the next sign-in."), "success")
    return redirect(url_for("admin.user_detail", user_id=user.id))


@bp.route("/users/<int:user_id>/roles", methods=["POST"])
def user_add_role(user_id: int):
    user = permissions.get_or_404(User, user_id, current_user, "manage_roles")
    form = RoleForm()
    form.role.choices = [SelectChoice(r) for r in ROLE_UNIT_TYPES]
    if not form.validate_on_submit():
        abort(400)
    unit = permissions.get_or_404(Unit, form.unit_id.data, current_user, "manage_members")
    accounts.assign_role(actor=current_user, user=user, role=form.role.data, unit=unit)
    db.session.commit()
    flash(_("Role added."), "success")
    return redirect(url_for("admin.user_detail", user_id=user.id))


@bp.route("/users/<int:user_id>/roles/<int:assignment_id>/delete", methods=["POST"])
def user_remove_role(user_id: int, assignment_id: int):
    user = permissions.get_or_404(User, user_id, current_user, "manage_roles")
    assignment = db.session.get(RoleAssignment, assignment_id)
    if assignment is None or assignment.user_id != user.id:
        abort(404)
    ConfirmForm().validate_on_submit() or abort(400)
    accounts.revoke_role(actor=current_user, assignment=assignment)
    db.session.commit()
    flash(_("Role removed."), "success")
    return redirect(url_for("admin.user_detail", user_id=user.id))


@bp.route("/terms", methods=["GET", "POST"])
def terms():
    form = TermForm()
    can_create = current_user.has_role("prefecture_admin")
    if request.method == "POST":
        if not can_create:
            abort(403)
        if form.validate_on_submit():
            org.create_term(
                actor=current_user,
                name=form.name.data,
                starts_on=form.starts_on.data,
                ends_on=form.ends_on.data,
            )
            db.session.commit()
            flash(_("Created."), "success")
            return redirect(url_for("admin.terms"))
    all_terms = db.session.scalars(select(Term).order_by(Term.starts_on.desc())).all()
    return render_template(
        "elearn/admin/terms.html",
        terms=all_terms,
        form=form,
        can_create=can_create,
        current=org.current_term(),
    ), 400 if request.method == "POST" else 200


@bp.route("/audit")
def audit_log():
    action = search_text("action", 48)
    query = queries.audit_page(permissions.audit_events_visible(current_user), action=action)
    pagination = queries.paginate(query, page=_page(), per_page=current_app.config["PAGE_SIZE"])
    return render_template("elearn/admin/audit.html", pagination=pagination, action=action or "")
