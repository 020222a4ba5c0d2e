"""Admin pages: the org tree within one's scope, its people, terms and the audit log."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from elearn import permissions, queries, signals, uow
from elearn.extensions import db
from elearn.forms import ConfirmForm, RoleForm, TermForm, UnitForm
from elearn.models import RoleAssignment, Term, Unit, User
from elearn.models.org import CHILD_TYPE, UnitType
from elearn.request_args import page_number, search_text
from elearn.routes.slips import slip_page
from elearn.service import accounts, audit, coverage, org, slips
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
    per_child = coverage.coverage_many(children, term) if term and children else {}
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
        metrics=coverage.shown_metrics(unit, coverage.coverage(unit, term)) if term else None,
        child_metrics={
            child.id: coverage.shown_metrics(child, per_child[child.id])
            for child in children
            if child.id in per_child
        },
        term=term,
        child_type=CHILD_TYPE[UnitType(unit.type)],
        can_edit=permissions.can(current_user, "edit", unit),
        can_delete=permissions.can(current_user, "delete", unit) and not children,
        can_import=permissions.can(current_user, "import_roster", unit),
        can_reset_passwords=permissions.can(current_user, "reset_passwords", unit),
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


def _role_form(user: User) -> RoleForm:
    """The role form: the units around ``user`` where the actor may give some role, each with
    its full name, and the roles the actor may give at one of them."""
    form = RoleForm()
    units = [
        unit
        for unit in queries.units_around(user)
        if any(
            unit.type in types and permissions.may_grant(current_user, role, unit)
            for role, types in ROLE_UNIT_TYPES.items()
        )
    ]
    names = queries.full_names(units)
    # the unit's own name first (a phone shows the start of the choice), then where it lies
    form.unit_id.choices = [
        SelectChoice(
            unit.id,
            unit.name
            if unit.parent_id is None
            else f"{unit.name} · {names[unit.id].rsplit(' / ', 1)[0]}",
        )
        for unit in sorted(units, key=lambda u: names[u.id])
    ]
    form.role.choices = [
        SelectChoice(role)
        for role, types in ROLE_UNIT_TYPES.items()
        if any(u.type in types and permissions.may_grant(current_user, role, u) for u in units)
    ]
    return form


def _user_page(user: User, role_form: RoleForm | None = None, status: int = 200):
    can_manage_roles = permissions.can(current_user, "manage_roles", user)
    return render_template(
        "elearn/admin/user.html",
        user=user,
        role_form=role_form or (_role_form(user) if can_manage_roles else None),
        confirm_form=ConfirmForm(),
        can_reset=permissions.can(current_user, "reset_password", user),
        can_manage_roles=can_manage_roles,
        removable={
            a.id
            for a in user.roles
            if can_manage_roles and permissions.may_grant(current_user, a.role, a.unit)
        },
    ), status


@bp.route("/users/<int:user_id>")
def user_detail(user_id: int):
    user = permissions.get_or_404(User, user_id, current_user, "view")
    return _user_page(user)


@bp.route("/users/<int:user_id>/reset-password", methods=["POST"])
def user_reset_password(user_id: int):
    """A new random initial password, shown once on the user's account slip (print page)."""
    user = permissions.get_or_404(User, user_id, current_user, "reset_password")
    ConfirmForm().validate_on_submit() or abort(400)
    issued = slips.reset_user(actor=current_user, user=user)
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # current_app is typed as Flask, not as the LocalProxy it is
    uow.after_commit(signals.password_changed.send, app, user=user, kept_key=None)
    return slip_page(issued)


@bp.route("/users/<int:user_id>/roles", methods=["POST"])
def user_add_role(user_id: int):
    user = permissions.get_or_404(User, user_id, current_user, "manage_roles")
    form = _role_form(user)
    if not form.validate_on_submit():
        if form.unit_id.errors:
            form.unit_id.errors = [_("Choose one of the units in the list.")]
        if form.role.errors:
            form.role.errors = [_("Choose one of the roles in the list.")]
        return _user_page(user, form, 400)
    unit = db.session.get(Unit, form.unit_id.data)
    assert unit is not None  # one of the choices
    try:
        with uow.savepoint():
            accounts.assign_role(actor=current_user, user=user, role=form.role.data, unit=unit)
    except ServiceError as error:
        form.unit_id.errors = [error.message]
        return _user_page(user, form, error.status)
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
    """The audit log under the admin's units: actions by name, targets by name, newest first."""
    action = search_text("action", 48)
    query = queries.audit_page(permissions.audit_events_visible(current_user), action=action)
    pagination = queries.paginate(query, page=_page(), per_page=current_app.config["PAGE_SIZE"])
    actors = {event.actor for event in pagination.items if event.actor is not None}
    return render_template(
        "elearn/admin/audit.html",
        pagination=pagination,
        action=action or "",
        actions=audit.action_choices(),
        action_label=audit.action_label,
        targets=audit.describe_targets(current_user, list(pagination.items)),
        actor_urls={
            actor.id: url_for("admin.user_detail", user_id=actor.id)
            for actor in actors
            if permissions.can(current_user, "view", actor)
        },
    )
