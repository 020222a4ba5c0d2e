"""Live lecture pages: the list, and the room (viewer and, for hosts, the studio controls)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from elearn import localtime, permissions, uow
from elearn.extensions import db
from elearn.models import Unit, User
from elearn.service.errors import ServiceError
from live import service
from live.forms import LectureForm
from live.models import Lecture, LectureStatus

bp = Blueprint(
    "live",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/live-static",
)


def home_panel(user: User) -> list[tuple[str, dict[str, Any]]]:
    """Upcoming lectures for the user's home page; teacher trainings are marked."""
    lectures = service.upcoming_for(user)
    if not lectures and not service.may_schedule(user):
        return []
    return [("live/_home_panel.html", {"lectures": lectures})]


def nav_items(user: User) -> list[tuple[str, str]]:
    return [("live.lectures", _("Live lectures"))]


@bp.route("/lectures")
@login_required
def lectures():
    rows = list(db.session.scalars(service.visible_lectures(current_user).limit(200)))
    items = [(lecture, service.is_host(current_user, lecture)) for lecture in rows]
    return render_template(
        "live/lectures.html", items=items, may_schedule=service.may_schedule(current_user)
    )


def _audience_choices(actor: User) -> list[tuple[int, str]]:
    """The lecturer's own units and the units one level below them (a county's schools, …)."""
    homes = sorted(
        {a.unit for a in actor.roles if a.role in service.HOST_ROLES}, key=lambda u: u.path
    )
    choices: list[tuple[int, str]] = []
    for home in homes:
        choices.append((home.id, home.name))
        children = db.session.scalars(select(Unit).filter_by(parent_id=home.id).order_by(Unit.name))
        choices.extend((child.id, f"— {child.name}") for child in children)
    return choices


@bp.route("/lectures/new", methods=["GET", "POST"])
@login_required
def new_lecture():
    if not service.may_schedule(current_user):
        abort(403)
    form = LectureForm()
    form.unit_id.choices = _audience_choices(current_user)
    form.lesson_id.choices = [(0, _("No lesson"))] + [
        (lesson.id, f"{lesson.course.title} · {lesson.published_revision.title}")
        for lesson in service.linkable_lessons(current_user)
        if lesson.published_revision
    ]
    status = 200
    if form.validate_on_submit():
        starts_at = form.starts_at.data
        assert starts_at is not None  # the field's DataRequired: a valid form has one
        try:
            with uow.savepoint():
                lecture = service.create_lecture(
                    actor=current_user,
                    title=form.title.data or "",
                    starts_at=localtime.from_local(starts_at),
                    audience=[{"unit_id": form.unit_id.data, "role": form.role.data or None}],
                    is_training=form.is_training.data,
                    lesson_id=form.lesson_id.data or None,
                )
        except ServiceError as error:
            form.title.errors = [error.message]
            status = 400
        else:
            flash(_("The lecture is scheduled."), "success")
            return redirect(url_for("live.room", lecture_id=lecture.id))
    elif form.is_submitted():
        status = 400
    return render_template("live/new.html", form=form), status


def _status_label(status: str) -> str:
    labels = {
        LectureStatus.SCHEDULED: _("Scheduled"),
        LectureStatus.LIVE: _("Live now"),
        LectureStatus.ENDED: _("Ended"),
    }
    return labels.get(LectureStatus(status), status)


def _room_context(lecture: Lecture) -> dict[str, Any]:
    """What the room page shows of the lecture's state; an ended one offers no interaction."""
    return {
        "lecture": lecture,
        "status_label": _status_label(lecture.status),
        "ended": lecture.status == LectureStatus.ENDED,
        "timezone": current_app.config["TIMEZONE"],
    }


@bp.route("/lectures/<int:lecture_id>")
@login_required
def room(lecture_id: int):
    lecture = permissions.get_or_404(Lecture, lecture_id, current_user)
    is_host = service.is_host(current_user, lecture)
    teacher_classes = [unit for unit in current_user.units_for("teacher") if unit.type == "class"]
    return render_template(
        "live/room.html",
        **_room_context(lecture),
        is_host=is_host,
        teacher_classes=teacher_classes,
        studio=False,
        recording_url=url_for("courses.lesson_player", lesson_id=lecture.recording_lesson_id)
        if lecture.recording_lesson_id
        else None,
    )


@bp.route("/lectures/<int:lecture_id>/studio")
@login_required
def studio(lecture_id: int):
    """The lecturer's studio: camera or screen, preview, go live / end, and the room."""
    lecture = permissions.get_or_404(Lecture, lecture_id, current_user)
    if not service.is_host(current_user, lecture):
        abort(403)
    return render_template(
        "live/room.html",
        **_room_context(lecture),
        is_host=True,
        teacher_classes=[],
        studio=True,
        recording_url=None,
    )
