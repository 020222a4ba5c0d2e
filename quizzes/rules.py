"""The rules of taking a quiz, each stated once.

The services check them in Python; the exam lanes (``quizzes.lanes``) and the autosave's one
statement restate them in SQL, to decide thousands of requests in one statement. Both halves of
each rule stand here side by side, with the refusal a caller hears when it is not met, so a
change to a rule is a change in one place and the two doors (the route, the lane) cannot drift
apart (``tests/quizzes/test_rules_both_doors.py`` sends every refusal through both).

- **published, audience**: a quiz is started by the people its audience names, once it is
  published (``may_start`` / ``published_sql``, ``in_audience_sql``);
- **window**: it opens at ``opens_at`` and closes at ``closes_at`` (``window_refusal`` /
  ``window_open_sql``); an attempt's deadline is the earlier of the close and the time limit
  from its start (``deadline_of`` / ``deadline_sql``);
- **attempts left**: at most ``attempts_allowed`` attempts, none or 0 meaning no limit
  (``attempts_used_up`` / ``attempts_left_sql``);
- **owner, state, deadline and save slack**: an answer is saved to one's own attempt in progress,
  until its deadline and the network's slack (``past_saving`` / ``open_attempt_sql``); the longer
  ``grace`` only takes a submission;
- **sequence**: a save is stored only when its sequence number is newer than the stored one
  (``seq_valid``, ``seq_newer`` / ``slot_takes_sql``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, TypeGuard

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Exists, Table, and_, bindparam, case, func, or_, select
from sqlalchemy.orm import aliased

from elearn.models import RoleAssignment, Unit
from elearn.models._types import INT_MAX, aware
from elearn.service.errors import NotFound, ServiceError
from quizzes.access import may_take
from quizzes.models import AttemptState, Quiz, QuizAttempt, QuizAudience, ReviewPolicy

# --- refusals: what a caller hears, through either door ------------------------------------


class TimeUp(ServiceError):
    """A save that came after the deadline and its slack: refused, the attempt still open for
    its submission (the grace)."""

    status = 409


def not_open_to_you() -> ServiceError:
    """Unpublished, or the caller is not in its audience: as if there were no such quiz."""
    return NotFound(_("This quiz does not exist, or is not open to you."))


def not_yet_open() -> ServiceError:
    return ServiceError(_("This quiz has not opened yet."), status=409)


def closed() -> ServiceError:
    return ServiceError(_("This quiz has closed."), status=409)


def no_attempts_left() -> ServiceError:
    return ServiceError(_("You have no attempts left at this quiz."), status=409)


def not_yours() -> ServiceError:
    """Another person's attempt (or none): as if there were no such page."""
    return NotFound(_("This page does not exist, or is not within your scope."))


def submitted() -> ServiceError:
    return ServiceError(_("This attempt has been submitted; it can't be changed."), status=409)


def time_up() -> ServiceError:
    return TimeUp(_("Time is up: answers can no longer be saved."))


def bad_seq() -> ServiceError:
    return ServiceError(_("seq must be a positive whole number."), field="seq")


def stale_seq() -> ServiceError:
    return ServiceError(
        _(
            "A newer answer to this question is already saved (from another tab or a repeated click)."
        ),
        status=409,
    )


# --- published and audience -----------------------------------------------------------------


#: published, and the actor in its audience (``not_open_to_you`` otherwise; the API and the
#: pages ask it as the "take" permission, and answer their 404 first)
may_start = may_take


def published_sql() -> ColumnElement[bool]:
    return Quiz.is_published.is_(True)


def in_audience_sql(user_id: Any, quiz_id: Any) -> Exists:
    """``quizzes.access.in_audience`` in SQL: a role the audience names, held at or below its
    unit. The audience is read once (a materialised CTE), then the user's own roles (joined the
    other way round, the planner walked a whole class's roles for each start)."""
    audience_unit = aliased(Unit)
    audience = (
        select(QuizAudience.role, audience_unit.path)
        .join(audience_unit, audience_unit.id == QuizAudience.unit_id)
        .where(QuizAudience.quiz_id == quiz_id)
        .cte("audience")
        .prefix_with("MATERIALIZED")
    )
    member = aliased(Unit)
    return (
        select(RoleAssignment.id)
        .join(member, member.id == RoleAssignment.unit_id)
        .join(
            audience,
            and_(
                audience.c.role == RoleAssignment.role,
                func.starts_with(member.path, audience.c.path),
            ),
        )
        .where(RoleAssignment.user_id == user_id)
        .exists()
    )


# --- the window and the deadline ------------------------------------------------------------


def has_closed(closes_at: datetime | None, now: datetime) -> bool:
    closes_at = aware(closes_at)
    return closes_at is not None and now >= closes_at


def window_refusal(
    opens_at: datetime | None, closes_at: datetime | None, now: datetime
) -> ServiceError | None:
    """Why a quiz with this window cannot be started ``now``; None when it is open."""
    opens_at = aware(opens_at)
    if opens_at is not None and now < opens_at:
        return not_yet_open()
    if has_closed(closes_at, now):
        return closed()
    return None


def review_allowed(attempt: QuizAttempt, now: datetime) -> bool:
    """Whether a finished attempt's review (answers, and for a guardian its score) may be shown
    ``now``, by its quiz's review policy."""
    if attempt.state != AttemptState.FINISHED:
        return False
    policy = attempt.quiz.review_policy
    if policy == ReviewPolicy.IMMEDIATELY:
        return True
    if policy == ReviewPolicy.AFTER_CLOSE:
        return has_closed(attempt.quiz.closes_at, now)
    return False


def not_closed_sql(now: Any) -> ColumnElement[bool]:
    """``has_closed`` is false."""
    return or_(Quiz.closes_at.is_(None), Quiz.closes_at > now)


def window_open_sql(now: Any) -> list[ColumnElement[bool]]:
    """``window_refusal`` is None: opened by ``now``, not yet closed."""
    return [or_(Quiz.opens_at.is_(None), Quiz.opens_at <= now), not_closed_sql(now)]


def deadline_of(
    closes_at: datetime | None, time_limit_seconds: int | None, now: datetime
) -> datetime | None:
    """The deadline of an attempt started ``now``: the earlier of the close and the time limit."""
    deadlines = [d for d in (aware(closes_at),) if d]
    if time_limit_seconds:
        deadlines.append(now + timedelta(seconds=time_limit_seconds))
    return min(deadlines) if deadlines else None


def deadline_sql(now: Any) -> ColumnElement[Any]:
    """``deadline_of`` in SQL (LEAST ignores a null)."""
    return func.least(
        Quiz.closes_at,
        case(
            (
                Quiz.time_limit_seconds > 0,
                now + func.make_interval(0, 0, 0, 0, 0, 0, Quiz.time_limit_seconds),
            )
        ),
    )


# --- attempts left --------------------------------------------------------------------------


def attempts_used_up(allowed: int | None, used: int) -> bool:
    """No attempt left (``no_attempts_left``); ``allowed`` none or 0 is no limit."""
    return bool(allowed) and used >= (allowed or 0)


def attempts_left_sql(allowed: Any, used: Any) -> ColumnElement[bool]:
    """``attempts_used_up`` is false."""
    return or_(allowed.is_(None), allowed <= 0, used < allowed)


# --- the grace, the save slack, the attempt a save may write to ------------------------------


def grace() -> timedelta:
    """How late after the deadline a submission is still taken (it saves nothing new)."""
    return timedelta(seconds=int(current_app.config.get("QUIZ_SUBMIT_GRACE_SECONDS", 30)))


def save_slack_of(config: Mapping[str, Any]) -> timedelta:
    """How late after the deadline an answer is still saved, under ``config`` (the app's): the
    network's slack for a save sent in time, never more than the grace."""
    slack = int(config.get("QUIZ_SAVE_SLACK_SECONDS", 5))
    return timedelta(seconds=min(slack, int(config.get("QUIZ_SUBMIT_GRACE_SECONDS", 30))))


def save_slack() -> timedelta:
    """``save_slack_of`` the current app."""
    return save_slack_of(current_app.config)


def past_saving(deadline: datetime | None, now: datetime, slack: timedelta) -> bool:
    """An answer sent ``now`` comes too late (``time_up``)."""
    deadline = aware(deadline)
    return deadline is not None and now > deadline + slack


def open_attempt_sql(attempt_id: Any, owned: Any) -> list[Any]:
    """The rule a save must meet, besides its slot's: the caller owns the attempt (``owned``,
    ``not_yours``), it is in progress (``submitted``), and its deadline plus the save slack has
    not passed (``past_saving``: the parameter ``deadline_after`` is now − slack)."""
    return [
        QuizAttempt.id == attempt_id,
        owned,
        QuizAttempt.state == AttemptState.IN_PROGRESS,
        or_(
            QuizAttempt.deadline_at.is_(None),
            QuizAttempt.deadline_at >= bindparam("deadline_after"),
        ),
    ]


# --- the sequence number --------------------------------------------------------------------


def seq_valid(seq: Any) -> TypeGuard[int]:
    """A sequence number a save may carry: a whole number from 1 (``bad_seq``)."""
    return not isinstance(seq, bool) and isinstance(seq, int) and 1 <= seq <= INT_MAX


def seq_newer(stored: int, sent: int) -> bool:
    """A save is stored only when newer than the stored one (``stale_seq``)."""
    return sent > stored


def slot_takes_sql(
    slots: Table, attempt: Any, question: Any, seq: Any, fitting: Callable[[Any], Any]
) -> list[Any]:
    """The slot's rule: the attempt's question, ``seq_newer``, a version the answer fits."""
    return [
        slots.c.attempt_id == attempt,
        slots.c.question_id == question,
        slots.c.seq < seq,
        fitting(slots.c.version_id),
    ]
