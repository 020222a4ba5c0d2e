"""Dispatch pages (调度): the campaigns one follows, sending one, following one under a unit (and
reminding those who have not taken it), a survey's results, and taking an anonymous survey."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from elearn import localtime, permissions, uow
from elearn.models import Role, Unit, User
from elearn.models.accounts import ADMIN_ROLES
from elearn.request_args import row_id
from elearn.service.errors import ServiceError
from quizzes import queries as quiz_queries
from quizzes.access import results_scope
from quizzes.dispatch import queries
from quizzes.dispatch.api import session_urls
from quizzes.dispatch.forms import CampaignForm
from quizzes.dispatch.service import campaigns as campaign_service
from quizzes.dispatch.service import participation, survey_results, surveys
from quizzes.models import Campaign

bp = Blueprint("dispatch", __name__, template_folder="templates")


def follows_campaigns(user: User) -> bool:
    """Admins and teachers follow the campaigns of their units."""
    return any(a.role in ADMIN_ROLES or a.role == Role.TEACHER for a in user.roles)


def nav_items(user: User) -> list[tuple[str, str]]:
    return [("dispatch.campaigns", _("Campaigns"))] if follows_campaigns(user) else []


@bp.route("/quizzes/campaigns")
@login_required
def campaigns():
    """Term exams and surveys sent to the user's units (调度)."""
    if not follows_campaigns(current_user):
        abort(403)
    return render_template(
        "dispatch/campaigns.html",
        campaigns=queries.campaigns_for(current_user),
        can_send=bool(campaign_service.dispatch_units(current_user)),
    )


def _followed(campaign: Campaign) -> Unit:
    """The unit the page follows ``campaign`` under (``?unit=``, or the caller's own); a unit
    the caller does not follow it under is a 404."""
    unit_id = row_id("unit", request.args)
    unit = (
        permissions.get_or_404(Unit, unit_id, current_user)
        if unit_id
        else queries.followed_unit(current_user, campaign)
    )
    if not campaign_service.may_follow(current_user, campaign, unit):
        abort(404)
    return unit


@bp.route("/quizzes/campaigns/<int:campaign_id>", methods=["GET", "POST"])
@login_required
def campaign_detail(campaign_id: int):
    """Participation under a unit, per child unit, who has not taken it; send a reminder."""
    campaign = permissions.get_or_404(Campaign, campaign_id, current_user)
    unit_id = row_id("unit")
    unit = (
        permissions.get_or_404(Unit, unit_id, current_user)
        if unit_id
        else queries.followed_unit(current_user, campaign)
    )
    if not campaign_service.may_follow(current_user, campaign, unit):
        abort(404)
    if request.method == "POST":
        count = participation.send_reminder(actor=current_user, campaign=campaign, unit=unit)
        flash(_("Reminder sent to %(n)s people.", n=count), "success")
        return redirect(url_for("dispatch.campaign_detail", campaign_id=campaign.id, unit=unit.id))
    result = participation.participation(campaign, unit)
    anonymous = campaign.quiz.is_anonymous
    # the scores behind the rates, for the part of the audience the caller follows here
    shows_scores = not anonymous and results_scope(current_user, campaign.quiz).narrowed_to(unit)
    return render_template(
        "dispatch/campaign.html",
        campaign=campaign,
        unit=unit,
        total=result.total,
        children=result.children,
        not_taken=result.not_taken,
        not_taken_count=result.not_taken_count,
        anonymous=anonymous,
        results_url=url_for("quizzes.results", quiz_id=campaign.quiz_id, unit=unit.id)
        if shows_scores
        else None,
    )


def _campaign_form(senders: list[Unit]) -> tuple[CampaignForm, list[tuple[Unit, list[Unit]]]]:
    """The sending form with its choices: the senders, the survey templates and the caller's
    quizzes, the grade levels and the counties with their schools."""
    form = CampaignForm()
    form.unit_id.choices = [SelectChoice(u.id, u.name) for u in senders]
    form.source.choices = [
        SelectChoice("template:knowledge", _("Survey template: drug knowledge (知晓率)")),
        SelectChoice("template:satisfaction", _("Survey template: satisfaction (满意率)")),
    ] + [
        SelectChoice(f"quiz:{q.id}", f"{q.title} · {q.unit.name}")
        for q in quiz_queries.quizzes_managed_by(current_user)
    ]
    levels, groups = queries.dispatch_targets(senders)
    form.grade_levels.choices = [SelectChoice(n, _("Grade %(n)s", n=n)) for n in levels]
    form.unit_ids.choices = [
        SelectChoice(u.id, u.name) for county, schools in groups for u in [county, *schools]
    ]
    return form, groups


@bp.route("/quizzes/campaigns/new", methods=["GET", "POST"])
@login_required
def campaign_new():
    """A prefecture or county admin sends a term exam or a survey (调度)."""
    senders = campaign_service.dispatch_units(current_user)
    if not senders:
        abort(403)
    form, groups = _campaign_form(senders)
    if form.validate_on_submit():
        sender = permissions.get_or_404(Unit, form.unit_id.data, current_user)
        targets = [permissions.get_or_404(Unit, i, current_user) for i in form.unit_ids.data or []]
        try:
            with uow.savepoint():
                campaign = campaign_service.send_campaign(
                    actor=current_user,
                    sender=sender,
                    source=form.source.data or "",
                    title=form.title.data or "",
                    kind=form.kind.data or "",
                    unit_targets=targets,
                    grade_levels=list(form.grade_levels.data or []),
                    roles=list(form.roles.data or []),
                    opens_at=localtime.from_local(form.opens_at.data),
                    closes_at=localtime.from_local(form.closes_at.data),
                    time_limit_seconds=form.time_limit_minutes.data * 60
                    if form.time_limit_minutes.data
                    else None,
                    pass_mark=form.pass_mark.data or 0,
                    excellent_mark=form.excellent_mark.data or 0,
                    anonymous=bool(form.anonymous.data),
                )
        except ServiceError as error:
            flash(error.message, "error")
        else:
            flash(_("Campaign sent."), "success")
            return redirect(url_for("dispatch.campaign_detail", campaign_id=campaign.id))
    status = 400 if request.method == "POST" else 200
    return render_template("dispatch/campaign_form.html", form=form, groups=groups), status


@bp.route("/quizzes/campaigns/<int:campaign_id>/survey")
@login_required
def survey_report(campaign_id: int):
    """A survey's results: 知晓率, 满意率, each question's answers; groups under five hidden."""
    campaign = permissions.get_or_404(Campaign, campaign_id, current_user)
    if campaign.quiz.kind != "survey":
        abort(404)
    unit = _followed(campaign)
    report = survey_results.survey_report(campaign, unit)
    return render_template(
        "dispatch/survey_report.html", campaign=campaign, unit=unit, report=report
    )


@bp.route("/quizzes/surveys/<token>")
@login_required
def survey_page(token: str):
    """An anonymous survey in progress: the attempt page, saving to the session's own API."""
    session = surveys.load_survey(actor=current_user, token=token)
    return render_template(
        "quizzes/attempt.html",
        view=surveys.survey_view(session),
        urls=session_urls(token),
    )
