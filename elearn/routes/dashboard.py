"""The coverage dashboards (四个全覆盖), phone first: a unit's coverages, its child units (the
most behind first, urban and rural apart) on an ECharts bar chart and a sortable table, the trend
by term and by week, a reminder to the units behind, and at a class its pupils (for its teachers
and its school's admins). Rules and figures live in ``elearn.service.dashboard``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from elearn import permissions
from elearn.extensions import db
from elearn.forms import ConfirmForm
from elearn.models import Term, Unit
from elearn.service import coverage, dashboard, org
from elearn.service.coverage import Metric

bp = Blueprint("dashboard", __name__)

SETTINGS = ("", "urban", "rural")


@bp.route("/dashboard")
@login_required
def home():
    unit = dashboard.home_unit(current_user)
    if unit is None:
        abort(404)
    return redirect(url_for("dashboard.unit", unit_id=unit.id))


def _term() -> Term:
    term_id = request.args.get("term", type=int)
    term = db.session.get(Term, term_id) if term_id else org.current_term()
    if term is None:
        abort(404)
    return term


def _figures(metrics: dict[str, Metric]) -> dict[str, Any]:
    return {key: m.as_dict() for key, m in metrics.items()}


@bp.route("/dashboard/<int:unit_id>")
@login_required
def unit(unit_id: int):
    found = permissions.get_or_404(Unit, unit_id, current_user, "view_coverage")
    term = _term()
    setting = request.args.get("setting", "")
    if setting not in SETTINGS:
        setting = ""
    rows = dashboard.children(found, term)
    if setting and found.type == "county":
        rows = [r for r in rows if bool(r.unit.is_rural) == (setting == "rural")]
    metrics = coverage.shown_metrics(found, coverage.coverage(found, term))
    split = dashboard.urban_rural(found, term) if found.type in ("prefecture", "county") else None
    pupils = None
    if found.type == "class" and dashboard.may_see_pupils(current_user, found):
        pupils = dashboard.pupils(found, term)
    chart = {
        "labels": dashboard.metric_labels(),
        "children": [
            {"id": r.unit.id, "name": r.unit.name, "metrics": _figures(r.metrics)} for r in rows
        ],
        "terms": [
            {"name": t.name, "metrics": _figures(m)}
            for t, m in dashboard.trend_by_term(found, upto=term)
        ],
        "weeks": [
            {"week": w.isoformat(), "metrics": _figures(m)}
            for w, m in dashboard.trend_by_week(found, term)
        ],
    }
    return render_template(
        "elearn/dashboard.html",
        unit=found,
        term=term,
        terms=list(db.session.scalars(select(Term).order_by(Term.starts_on.desc()))),
        metrics=metrics,
        split=split,
        rows=rows,
        setting=setting,
        labels=dashboard.metric_labels(),
        chart=chart,
        pupils=pupils,
        names_hidden=found.type == "class" and pupils is None,
        breadcrumbs=[
            u
            for u in (db.session.get(Unit, i) for i in found.ancestor_ids)
            if u is not None and permissions.can(current_user, "view_coverage", u)
        ],
        may_remind=any(r.behind for r in rows) and found.type != "class",
        confirm_form=ConfirmForm(),
    )


@bp.route("/dashboard/<int:unit_id>/remind", methods=["POST"])
@login_required
def remind(unit_id: int):
    """Remind the admins of every child unit below target (audited)."""
    found = permissions.get_or_404(Unit, unit_id, current_user, "view_coverage")
    if not ConfirmForm().validate_on_submit() or found.type == "class":
        abort(400)
    term = _term()
    told = dashboard.remind_behind(
        actor=current_user, unit=found, term=term, ip=request.remote_addr
    )
    flash(_("Reminded %(count)d people of the units behind.", count=told), "success")
    return redirect(url_for("dashboard.unit", unit_id=found.id, term=term.id))
