"""Polls and quick quizzes, tallied on the server."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from elearn.extensions import db
from elearn.models import User
from elearn.service.errors import ServiceError
from live.models import (
    Lecture,
    LectureMessage,
    LectureStatus,
    MessageKind,
    Poll,
    PollVote,
)
from live.service.base import MAX_POLL_CHOICES, _now, _of_lecture
from live.service.room import _clean_text, _require_host

# --- polls --------------------------------------------------------------------------------------


def current_poll(lecture: Lecture) -> Poll | None:
    return db.session.scalar(
        select(Poll).filter_by(lecture_id=lecture.id, is_open=True).order_by(Poll.id.desc())
    )


def start_poll(*, actor: User, lecture: Lecture, question: Any, choices: Any) -> Poll:
    """Open a poll (closing any open one); hosts only."""
    _require_host(actor, lecture)
    if lecture.status == LectureStatus.ENDED:
        raise ServiceError(_("This lecture has ended."), status=409)
    question = _clean_text(question)
    if (
        not isinstance(choices, list)
        or not 2 <= len(choices) <= MAX_POLL_CHOICES
        or not all(isinstance(c, str) and c.strip() for c in choices)
    ):
        raise ServiceError(_("A poll needs 2 to %(n)d non-empty choices.", n=MAX_POLL_CHOICES))
    now = _now()
    for poll in db.session.scalars(select(Poll).filter_by(lecture_id=lecture.id, is_open=True)):
        poll.is_open = False
        poll.closed_at = now
    poll = Poll(
        lecture_id=lecture.id,
        question=question,
        choices=[c.strip()[:200] for c in choices],
        is_open=True,
        created_by_id=actor.id,
    )
    db.session.add(poll)
    db.session.flush()
    db.session.add(
        LectureMessage(
            lecture_id=lecture.id,
            kind=MessageKind.POLL.value,
            author_id=actor.id,
            text=question,
            poll_id=poll.id,
            is_deleted=False,
            upvotes=0,
        )
    )
    db.session.flush()
    return poll


def poll_of(lecture: Lecture, poll_id: Any) -> Poll:
    return _of_lecture(Poll, lecture.id, poll_id, _("No such poll."))


def end_poll(*, actor: User, lecture: Lecture, poll: Poll) -> Poll:
    _require_host(actor, lecture)
    if poll.is_open:
        poll.is_open = False
        poll.closed_at = _now()
        db.session.flush()
    return poll


def vote(*, actor: User, lecture: Lecture, poll: Poll, choice: Any) -> PollVote:
    """One vote per person per poll, while it is open."""
    if not poll.is_open:
        raise ServiceError(_("This poll is closed."), status=409)
    if (
        not isinstance(choice, int)
        or isinstance(choice, bool)
        or not 0 <= choice < len(poll.choices)
    ):
        raise ServiceError(_("Choose one of the poll's answers."))
    exists = db.session.scalar(select(PollVote.id).filter_by(poll_id=poll.id, user_id=actor.id))
    if exists is not None:
        raise ServiceError(_("You have already answered this poll."), status=409)
    row = PollVote(poll_id=poll.id, user_id=actor.id, choice=choice)
    db.session.add(row)
    db.session.flush()
    return row


def poll_summary(poll: Poll) -> dict[str, Any]:
    """The server's tally of a poll."""
    counts = dict(
        db.session.execute(
            select(PollVote.choice, func.count())
            .where(PollVote.poll_id == poll.id)
            .group_by(PollVote.choice)
        ).all()
    )
    tally = [int(counts.get(i, 0)) for i in range(len(poll.choices))]
    return {**poll.as_dict(), "counts": tally, "total": sum(tally)}
