"""Anonymous surveys: no database row ever links a response, or its answers, to a person.

* While someone answers, the session (who, which questions, the answers so far) lives only in
  the survey store (Redis), keyed by a random token and expiring with the survey's window.
* On submit the session is claimed (deleted) and a participation row records *that* the person
  took part (for the "not yet taken" list and the rates); what they said goes to the release pool.
* The pool reaches the database in shuffled batches of at least ``MIN_GROUP`` responses of one
  school, each dated to the day, with a random id, and no user, attempt or time of day; once the
  survey closes, what is left is released with the county instead of the school. So neither a
  row's order, its transaction (``xmin``) nor its date lines up with one participation row.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from elearn import uow
from elearn.extensions import db
from elearn.models import Unit, User
from elearn.service.errors import NotFound, ServiceError
from quizzes import richtext, rules
from quizzes.dispatch.survey_store import survey_store
from quizzes.models import QuestionVersion, Quiz, SurveyParticipation, SurveyResponse
from quizzes.qtypes import get_type
from quizzes.service.attachments import question_media
from quizzes.service.attempt_views import attempt_payload, option_rng, question_view
from quizzes.service.draws import attempt_questions, draw_sources
from quizzes.service.quizzes import AUDIENCE_ROLES

#: responses reach the database in batches of at least this many (one school, shuffled)
MIN_GROUP = 5


@dataclass
class SurveySession:
    """An anonymous survey being answered (held in the survey store, never in the database)."""

    token: str
    quiz: Quiz
    user_id: int
    school_id: int | None
    seed: int
    started_at: datetime
    deadline_at: datetime | None
    #: [question id, version id, mark] in the order served
    slots: list[list[Any]]
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)


def _owner(quiz_id: int, user_id: int) -> str:
    return f"{quiz_id}:{user_id}"


def _school_of(actor: User) -> int | None:
    unit = next((a.unit for a in actor.roles if a.role in AUDIENCE_ROLES), None)
    return unit.school_id if unit is not None else None


def has_taken(quiz: Quiz, user: User) -> bool:
    return (
        db.session.scalar(
            select(SurveyParticipation.user_id).where(
                SurveyParticipation.quiz_id == quiz.id, SurveyParticipation.user_id == user.id
            )
        )
        is not None
    )


def in_progress_token(quiz: Quiz, user: User) -> str | None:
    """The token of the user's unfinished session of this survey, if any."""
    return survey_store().token_of(_owner(quiz.id, user.id))


def _session(token: str, quiz: Quiz, meta: dict[str, Any], answers: dict[str, Any]):
    return SurveySession(
        token=token,
        quiz=quiz,
        user_id=int(meta["user_id"]),
        school_id=meta.get("school_id"),
        seed=int(meta["seed"]),
        started_at=datetime.fromisoformat(meta["started_at"]),
        deadline_at=datetime.fromisoformat(meta["deadline"]) if meta.get("deadline") else None,
        slots=meta["slots"],
        answers=answers,
    )


def start_survey(*, actor: User, quiz: Quiz, now: datetime | None = None) -> SurveySession:
    """Start (or resume) the actor's anonymous survey session; nothing is written to the database."""
    now = now or datetime.now(UTC)
    if not quiz.is_anonymous or not rules.may_start(actor, quiz):
        raise rules.not_open_to_you()
    store = survey_store()
    token = store.token_of(_owner(quiz.id, actor.id))
    if token is not None:
        found = store.load(token)
        if found is not None:
            return _session(token, quiz, *found)
    if has_taken(quiz, actor):
        raise ServiceError(_("You have already taken this survey."), status=409)
    refusal = rules.window_refusal(quiz.opens_at, quiz.closes_at, now)
    if refusal is not None:
        raise refusal
    deadline = rules.deadline_of(quiz.closes_at, quiz.time_limit_seconds, now)
    seed = secrets.randbelow(2**31)
    drawn = attempt_questions(quiz, seed, draw_sources(quiz))
    if not drawn:
        raise ServiceError(_("This quiz has no questions yet."), status=409)
    meta = {
        "quiz_id": quiz.id,
        "user_id": actor.id,
        "school_id": _school_of(actor),
        "seed": seed,
        "started_at": now.isoformat(),
        "deadline": deadline.isoformat() if deadline else None,
        "slots": [[q.id, q.current_version_id, mark] for q, mark in drawn],
    }
    # the session ends with the survey's window (or the attempt's time limit), plus the grace
    if deadline is not None:
        ttl = int((deadline - now + rules.grace()).total_seconds()) + 60
    else:
        ttl = int(current_app.config.get("QUIZ_ABANDON_HOURS", 24)) * 3600
    token = store.create(secrets.token_urlsafe(24), _owner(quiz.id, actor.id), meta, ttl)
    loaded = store.load(token)
    if loaded is None:  # pragma: no cover - expired between two calls
        raise ServiceError(_("This quiz has closed."), status=409)
    return _session(token, quiz, *loaded)


def load_survey(*, actor: User, token: str) -> SurveySession:
    """The actor's own session; anyone else's (or an expired one) is a 404."""
    found = survey_store().load(token)
    if found is None or int(found[0]["user_id"]) != actor.id:
        raise NotFound(_("This page does not exist, or is not within your scope."))
    quiz = db.session.get(Quiz, int(found[0]["quiz_id"]))
    if quiz is None:
        raise NotFound(_("This page does not exist, or is not within your scope."))
    return _session(token, quiz, *found)


def _versions(session: SurveySession) -> dict[int, Any]:
    ids = [int(slot[1]) for slot in session.slots]
    return {
        v.id: v
        for v in db.session.scalars(select(QuestionVersion).where(QuestionVersion.id.in_(ids)))
    }


def survey_view(session: SurveySession, *, now: datetime | None = None) -> dict[str, Any]:
    """The same shape as an attempt's view (the attempt page renders both); no answers, no grading."""
    now = now or datetime.now(UTC)
    quiz = session.quiz
    versions = _versions(session)
    questions = []
    for position, (question_id, version_id, mark) in enumerate(session.slots, start=1):
        version = versions[int(version_id)]
        view = question_view(
            question_id,
            position,
            mark,
            version,
            richtext.clean(version.stem),
            option_rng(session.seed, quiz, question_id, version.type),
        )
        if version.media_asset_id:
            viewer = db.session.get(User, session.user_id)
            view["media"] = question_media(version.media_asset_id, viewer) if viewer else None
        questions.append(view)
    payload = attempt_payload(
        quiz,
        attempt_id=session.token,
        state="in_progress",
        started_at=session.started_at,
        deadline=session.deadline_at,
        now=now,
        questions=questions,
        answers=session.answers,
    )
    return {**payload, "anonymous": True}


def save_survey_answer(
    *,
    actor: User,
    token: str,
    question_id: int,
    answer: Any,
    seq: Any,
    now: datetime | None = None,
) -> int:
    """Keep one answer in the session if its sequence number is newer; returns the seq."""
    now = now or datetime.now(UTC)
    session = load_survey(actor=actor, token=token)
    if rules.past_saving(session.deadline_at, now, rules.save_slack()):
        raise rules.time_up()
    if not rules.seq_valid(seq):
        raise rules.bad_seq()
    slot = next((s for s in session.slots if int(s[0]) == question_id), None)
    if slot is None:
        raise NotFound(_("This question is not part of the attempt."))
    version = _versions(session)[int(slot[1])]
    if not get_type(version.type).accepts(version.data, answer):
        raise ServiceError(_("This answer does not fit the question."), field="answer")
    saved = survey_store().save(token, question_id, answer, seq)
    if saved < 0:
        raise rules.submitted()
    if saved == 0:
        raise rules.stale_seq()
    return seq


@dataclass
class PendingResponse:
    """A submitted response on its way to the release pool (deposited after the commit)."""

    quiz_id: int
    school_id: int | None
    answers: dict[str, Any]
    submitted_on: date


def submit_survey(*, actor: User, token: str, now: datetime | None = None) -> PendingResponse:
    """Claim the session, record that the actor took part; the answers wait for ``deposit``."""
    now = now or datetime.now(UTC)
    session = load_survey(actor=actor, token=token)
    claimed = survey_store().claim(token)
    if claimed is None:  # a parallel submit got there first
        raise ServiceError(_("This attempt has already been submitted."), status=409)
    meta, answers = claimed
    by_question = {int(s[0]): int(s[1]) for s in meta["slots"]}
    try:
        with db.session.begin_nested():
            db.session.add(SurveyParticipation(quiz_id=session.quiz.id, user_id=actor.id))
            db.session.flush()
    except IntegrityError:
        raise ServiceError(_("You have already taken this survey."), status=409) from None
    # keyed by question version: the rates need the version's options and grading
    return PendingResponse(
        quiz_id=session.quiz.id,
        school_id=meta.get("school_id"),
        answers={
            str(by_question[int(q)]): saved["answer"]
            for q, saved in answers.items()
            if int(q) in by_question and saved.get("answer") is not None
        },
        submitted_on=now.date(),
    )


def _pool(quiz_id: int, unit_id: int | None) -> str:
    return f"{quiz_id}:{unit_id or 0}"


def deposit(pending: PendingResponse) -> int:
    """After the participation's commit: pool the response, release the school's batch when full.

    Returns how many responses reached the database (0 while the batch is filling).
    """
    store = survey_store()
    pool = _pool(pending.quiz_id, pending.school_id)
    size = store.pool_add(
        pool,
        {
            "quiz_id": pending.quiz_id,
            "unit_id": pending.school_id,
            "answers": pending.answers,
            "on": pending.submitted_on.isoformat(),
        },
    )
    if size < MIN_GROUP:
        return 0
    return _release(store.pool_take(pool))


def _release(responses: list[dict[str, Any]], unit_id: Any = False) -> int:
    """Write a batch in a random order, in a unit of work of its own.

    Unlike other services this settles its write (``uow.unit``): the batch was taken out of the
    pool, and goes back into it if the write fails, so the write must be settled here. It runs
    after the submission's commit (an after-commit effect) or as a step of the release task.
    """
    if not responses:
        return 0
    random.SystemRandom().shuffle(responses)
    try:
        with uow.unit():
            for item in responses:
                db.session.add(
                    SurveyResponse(
                        quiz_id=item["quiz_id"],
                        unit_id=item["unit_id"] if unit_id is False else unit_id,
                        answers=item["answers"],
                        submitted_on=date.fromisoformat(item["on"]),
                    )
                )
    except Exception:
        store = survey_store()
        for item in responses:  # back into the pool: nothing submitted is lost
            store.pool_add(_pool(item["quiz_id"], item["unit_id"]), item)
        raise
    return len(responses)


def pending_count(quiz: Quiz, unit: Unit | None = None) -> int:
    """Responses submitted but not yet released (their batch is still filling), under ``unit``."""
    store = survey_store()
    total = 0
    for pool in store.pools():
        quiz_id, school_id = pool.split(":")
        if quiz_id != str(quiz.id):
            continue
        if unit is not None:
            school = db.session.get(Unit, int(school_id)) if school_id != "0" else None
            if school is None or not school.path.startswith(unit.path):
                continue
        total += store.pool_size(pool)
    return total


def release_closed(*, now: datetime | None = None) -> int:
    """Release what is left in the pools of closed surveys, dated and placed by county only."""
    now = now or datetime.now(UTC)
    store = survey_store()
    by_quiz: dict[int, list[str]] = {}
    for pool in store.pools():
        by_quiz.setdefault(int(pool.split(":")[0]), []).append(pool)
    released = 0
    for quiz_id, pools in by_quiz.items():
        quiz = db.session.get(Quiz, quiz_id)
        closes_at = quiz.closes_at if quiz else None
        if quiz is not None and (closes_at is None or closes_at + rules.grace() > now):
            continue
        leftovers = [item for pool in pools for item in store.pool_take(pool)]
        if quiz is None:
            continue
        by_county: dict[int | None, list[dict[str, Any]]] = {}
        for item in leftovers:
            school = db.session.get(Unit, item["unit_id"]) if item["unit_id"] else None
            county = school.ancestor_ids[1] if school and len(school.ancestor_ids) > 1 else None
            by_county.setdefault(county, []).append(item)
        for county, items in by_county.items():
            released += _release(items, unit_id=county)
    return released
