"""Learners' pages: the library, my courses, a course and the lesson player."""

from __future__ import annotations

from flask import abort, render_template, request
from flask_login import current_user, login_required

from courses import queries, service
from courses.forms import ReviewForm
from courses.models import Audience, Course, CourseStatus, Lesson, LessonKind
from courses.routes.blueprint import bp
from courses.service import access, playback
from elearn import permissions
from elearn.request_args import page_number


@bp.route("/courses")
@login_required
def library():
    filters = queries.LibraryFilters.from_args(request.args)
    page = page_number()
    result = queries.library(current_user, filters, page=page)
    return render_template(
        "courses/library.html",
        result=result,
        filters=filters,
        page=page,
        has_next=page * 24 < result.total,
        can_author=service.can_author(current_user),
        can_review=service.can_review_any(current_user),
    )


@bp.route("/courses/mine")
@login_required
def mine():
    return render_template("courses/mine.html", rows=queries.my_courses(current_user))


@bp.route("/courses/<int:course_id>")
@login_required
def course_detail(course_id: int):
    course = permissions.get_or_404(Course, course_id, current_user, "view")
    can_edit = permissions.can(current_user, "edit", course)
    authoring = can_edit and (not course.is_live or request.args.get("draft") == "1")
    # a guardian sees their child's progress (read-only): ?learner=<id>, or by default on a
    # course of the students' track
    learners = (
        [] if authoring or not course.is_live else access.learners_shown(current_user, course)
    )
    learner = None
    wanted = request.args.get("learner", type=int)
    if wanted is not None:
        learner = next((person for person in learners if person.id == wanted), None)
        if learner is None:
            abort(404)
    elif learners and course.audience == Audience.STUDENT:
        learner = learners[0]
    units = queries.outline(course, user=learner or current_user, authoring=authoring)
    return render_template(
        "courses/course.html",
        course=course,
        units=units,
        learner=learner,
        learners=learners,
        next_lesson=None if authoring or learner else queries.next_lesson(units),
        can_archive=permissions.can(current_user, "archive", course)
        and course.status != CourseStatus.ARCHIVED,
        archive_form=ReviewForm(),
        authoring=authoring,
        can_edit=can_edit,
        progress=queries.progress_of(learner or current_user, course) if course.is_live else None,
    )


@bp.route("/lessons/<int:lesson_id>")
@login_required
def lesson_player(lesson_id: int):
    lesson = permissions.get_or_404(Lesson, lesson_id, current_user, "view")
    preview = request.args.get("preview") == "1" or not lesson.is_live
    if preview and not permissions.can(current_user, "edit", lesson):
        preview = False
    revision = lesson.working_revision if preview else lesson.published_revision
    if revision is None:
        abort(404)
    learning = not preview and permissions.can(current_user, "learn", lesson)
    progress = queries.lesson_progress(current_user, lesson) if learning else None
    completed = bool(progress and progress.completed_at)
    return render_template(
        "courses/lesson.html",
        lesson=lesson,
        course=lesson.course,
        revision=revision,
        preview=preview,
        learning=learning and revision.is_playable,
        progress=progress,
        resume_at=progress.last_position if progress and not completed else 0,
        # shown once the lesson ends (or at once when it is done, or nothing is counted)
        next_lesson=None if preview else queries.lesson_after(lesson),
        next_shown=completed or not (learning and revision.is_playable),
        player=playback.player(revision, current_user) if revision.is_playable else None,
        document=playback.document(revision, current_user) if revision.is_playable else None,
        is_media=revision.kind in {LessonKind.VIDEO, LessonKind.AUDIO},
    )
