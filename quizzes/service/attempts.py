"""Attempts decided by the server: its clock, its deadline, its grading.

The browser only ever sends answers with a per-question sequence number. The deadline is
min(start + time limit, close). As in Moodle, answers are saved until the deadline and a few
seconds of network slack at most (``rules.save_slack``, for a save sent in time and still on its
way); the longer grace after it (``rules.grace``) is only for submitting what was saved, and a late
submission closes and grades the attempt from what was saved in time.
Finishing is one conditional UPDATE (in_progress → finished), so of any number of parallel
"finish" requests exactly one grades.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import make_transient_to_detached

from elearn.extensions import db
from elearn.models import User
from elearn.models._types import aware
from elearn.service import audit
from elearn.service.errors import ServiceError
from elearn.service.sql import insert_on_conflict
from quizzes import analysis, figures, rules
from quizzes.dispatch.service.coverage import record_exam_coverage
from quizzes.models import AttemptSlot, AttemptState, Quiz, QuizAttempt
from quizzes.qtypes import get_type
from quizzes.service import lessons
from quizzes.service.draws import attempt_questions, draw_sources


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def start_attempt(*, actor: User, quiz: Quiz, now: datetime | None = None) -> QuizAttempt:
    """Start (or resume) the actor's attempt; the clock starts now, on the server."""
    now = _now(now)
    if not rules.may_start(actor, quiz):
        raise rules.not_open_to_you()
    if quiz.is_anonymous:
        # an attempt row names its person: anonymous surveys run in quizzes.service.surveys
        raise ServiceError(_("An anonymous survey is answered without an attempt."), status=409)
    # one query for the resume, the attempts used and the next number
    mine = db.session.scalars(
        select(QuizAttempt).where(QuizAttempt.quiz_id == quiz.id, QuizAttempt.user_id == actor.id)
    ).all()
    current = next((a for a in mine if a.state == AttemptState.IN_PROGRESS), None)
    if current is not None:
        deadline = aware(current.deadline_at)
        if deadline is None or now <= deadline + rules.grace():
            return current  # resume where they were
        finish_attempt(attempt=current, now=now, reason="expired")
    refusal = rules.window_refusal(quiz.opens_at, quiz.closes_at, now)
    if refusal is not None:
        raise refusal
    if rules.attempts_used_up(quiz.attempts_allowed, len(mine)):
        raise rules.no_attempts_left()
    seed = secrets.randbelow(2**31)
    drawn = attempt_questions(quiz, seed, draw_sources(quiz))
    if not drawn:
        raise ServiceError(_("This quiz has no questions yet."), status=409)
    values = {
        "quiz_id": quiz.id,
        "user_id": actor.id,
        "number": 1 + max((a.number for a in mine), default=0),
        "state": AttemptState.IN_PROGRESS,
        "seed": seed,
        "started_at": now,
        "deadline_at": rules.deadline_of(quiz.closes_at, quiz.time_limit_seconds, now),
        "max_score": max_score(drawn),
        "needs_manual_grading": False,
    }
    return _insert_attempt(values, quiz, actor, drawn)


def _insert_attempt(
    values: dict[str, Any], quiz: Quiz, actor: User, drawn: list[tuple[Any, float]]
) -> QuizAttempt:
    """The attempt and its slots, in two statements; a second tab starting at the same moment
    meets the unique (quiz, user, number) and resumes the attempt the first one started."""
    attempt_id = db.session.execute(
        insert_on_conflict(QuizAttempt)
        .values(values)
        .on_conflict_do_nothing(index_elements=["quiz_id", "user_id", "number"])
        .returning(QuizAttempt.id)
    ).scalar()
    if attempt_id is None:
        existing = db.session.scalar(
            select(QuizAttempt).where(
                QuizAttempt.quiz_id == quiz.id,
                QuizAttempt.user_id == actor.id,
                QuizAttempt.state == AttemptState.IN_PROGRESS,
            )
        )
        if existing is None:
            raise rules.no_attempts_left()
        return existing
    slots = [
        {
            "attempt_id": attempt_id,
            "position": position,
            "question_id": question.id,
            "version_id": question.current_version_id,
            "mark": mark,
            "seq": 0,
        }
        for position, (question, mark) in enumerate(drawn, start=1)
    ]
    slot_ids = db.session.scalars(
        insert(AttemptSlot).returning(AttemptSlot.id, sort_by_parameter_order=True), slots
    ).all()
    return _as_loaded(values, attempt_id, slots, slot_ids, quiz, actor, drawn)


def _as_loaded(
    values: dict[str, Any],
    attempt_id: int,
    slots: list[dict[str, Any]],
    slot_ids: Sequence[int],
    quiz: Quiz,
    actor: User,
    drawn: list[tuple[Any, float]],
) -> QuizAttempt:
    """The rows just inserted as objects of the session, as if loaded: two INSERT statements
    write an attempt of any length, where the unit of work spent more than the whole request
    on bookkeeping (5,000 students start an exam at once)."""
    attempt = QuizAttempt(
        id=attempt_id,
        **values,
        finished_at=None,
        closed_reason=None,
        score=None,
        passed=None,
        quiz=quiz,
        user=actor,
    )
    attempt.slots = [
        AttemptSlot(
            id=slot_id,
            **row,
            answer=None,
            saved_at=None,
            fraction=None,
            graded_by_id=None,
            version=question.current_version,  # loaded with the question: no query per slot
        )
        for slot_id, row, (question, _mark) in zip(slot_ids, slots, drawn, strict=True)
    ]
    for slot in attempt.slots:
        make_transient_to_detached(slot)
    make_transient_to_detached(attempt)
    db.session.add(attempt)
    return attempt


def max_score(drawn: Sequence[tuple[Any, float]]) -> float:
    """What an attempt of the drawn questions is marked out of (the scored types' marks)."""
    return sum(
        mark
        for question, mark in drawn
        if question.current_version is not None and get_type(question.current_version.type).scored
    )


@dataclass
class FinishResult:
    attempt: QuizAttempt
    #: True when the submission came after the deadline and its grace
    late: bool = False


def finish_attempt(*, attempt: QuizAttempt, now: datetime | None = None, reason: str) -> bool:
    """Close and grade an attempt once; False when someone else closed it first."""
    now = _now(now)
    closed = db.session.execute(
        update(QuizAttempt)
        .where(QuizAttempt.id == attempt.id, QuizAttempt.state == AttemptState.IN_PROGRESS)
        .values(state=AttemptState.FINISHED, finished_at=now, closed_reason=reason)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]  # an UPDATE's CursorResult; typed as Result
    db.session.refresh(attempt)
    if not closed:
        return False
    _grade(attempt)
    _after_grading(attempt)
    audit.record(
        "quiz.attempt_graded",
        actor=None,
        unit_id=attempt.quiz.unit_id,
        target_type="attempt",
        target_id=attempt.id,
        reason=reason,
        score=attempt.score,
    )
    return True


def _grade(attempt: QuizAttempt) -> None:
    # what a save could store: until the deadline and its slack (the grace saves nothing)
    deadline = aware(attempt.deadline_at)
    limit = deadline + rules.save_slack() if deadline else None
    score, manual = 0.0, False
    for slot in attempt.slots:
        question_type = get_type(slot.version.type)
        if not question_type.scored:
            slot.fraction = None
            continue
        saved_at = aware(slot.saved_at)
        saved_in_time = saved_at is not None and (limit is None or saved_at <= limit)
        answer = slot.answer if saved_in_time else None
        if not question_type.auto_graded:
            manual = manual or answer is not None
            slot.fraction = None if answer is not None else 0.0
            continue
        slot.fraction = question_type.grade(slot.version.data, slot.version.grading, answer) or 0.0
        score += slot.fraction * slot.mark
    attempt.score = round(score, 4)
    attempt.needs_manual_grading = manual
    attempt.passed = None if manual else _passed(attempt)
    db.session.flush()


def _after_grading(attempt: QuizAttempt) -> None:
    """What a graded attempt means elsewhere: the quiz's results, lesson completion (and, for
    exams, coverage)."""
    analysis.results_changed(attempt.quiz_id)
    record_exam_coverage(attempt)
    if attempt.passed:
        lessons.quiz_passed(user=attempt.user, quiz_id=attempt.quiz_id)


def _passed(attempt: QuizAttempt) -> bool:
    if not attempt.max_score:
        return False
    return (attempt.score or 0) * 100 >= attempt.quiz.pass_mark * attempt.max_score - 1e-9


def submit_attempt(*, actor: User, attempt_id: int, now: datetime | None = None) -> FinishResult:
    """The student's "submit": refused (but the attempt closed and graded) after the grace."""
    now = _now(now)
    attempt = db.session.scalar(select(QuizAttempt).where(QuizAttempt.id == attempt_id))
    if attempt is None or attempt.user_id != actor.id:
        raise rules.not_yours()
    deadline = aware(attempt.deadline_at)
    late = deadline is not None and now > deadline + rules.grace()
    if not finish_attempt(attempt=attempt, now=now, reason="late" if late else "submitted"):
        raise ServiceError(_("This attempt has already been submitted."), status=409)
    return FinishResult(attempt=attempt, late=late)


def grade_slot(*, actor: User, slot: AttemptSlot, points: float) -> QuizAttempt:
    """A teacher's points (0 to the question's mark) for a hand-graded answer, kept as the share
    of the mark the slot stores; the attempt's score follows."""
    if not (math.isfinite(points) and 0 <= points <= slot.mark):
        raise ServiceError(
            _("Give 0 to %(m)s points.", m=figures.score_text(slot.mark)),
            field=f"points_{slot.question_id}",
        )
    attempt = slot.attempt
    if attempt.state != AttemptState.FINISHED:
        raise ServiceError(_("The attempt is still in progress."), status=409)
    slot.fraction = points / slot.mark
    slot.graded_by_id = actor.id
    attempt.score = round(sum((s.fraction or 0) * s.mark for s in attempt.slots), 4)
    attempt.needs_manual_grading = any(s.fraction is None for s in attempt.slots)
    attempt.passed = None if attempt.needs_manual_grading else _passed(attempt)
    db.session.flush()
    _after_grading(attempt)
    return attempt


def close_expired_attempts(*, now: datetime | None = None) -> int:
    """Close attempts past their deadline (and grace), and abandoned ones without a deadline."""
    now = _now(now)
    abandoned_before = now - timedelta(hours=int(current_app.config.get("QUIZ_ABANDON_HOURS", 24)))
    last_save = (
        select(func.max(AttemptSlot.saved_at))
        .where(AttemptSlot.attempt_id == QuizAttempt.id)
        .scalar_subquery()
    )
    expired = db.session.scalars(
        select(QuizAttempt).where(
            QuizAttempt.state == AttemptState.IN_PROGRESS,
            (QuizAttempt.deadline_at < now - rules.grace())
            | (
                QuizAttempt.deadline_at.is_(None)
                & (func.coalesce(last_save, QuizAttempt.started_at) < abandoned_before)
            ),
        )
    ).all()
    closed = 0
    for attempt in expired:
        reason = "expired" if attempt.deadline_at is not None else "abandoned"
        closed += finish_attempt(attempt=attempt, now=now, reason=reason)
    return closed
