"""Quick quizzes during a lecture: question-bank questions graded by the assessment package.

While a quiz is open the audience sees the questions (no keys) and how many have answered;
the hosts also see the tallies. Keys, tallies and each person's own result reach the audience
only after the host closes it.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from elearn.extensions import db
from elearn.models import User
from elearn.service.errors import NotFound, ServiceError
from live.models import (
    Lecture,
    LectureMessage,
    LectureQuiz,
    LectureQuizAnswer,
    LectureQuizItem,
    LectureStatus,
    MessageKind,
)
from live.service.base import MAX_TITLE, _now, _of_lecture
from live.service.room import _require_host
from quizzes import service as quiz_service

#: types whose answers are one option id or a list of them: hosts see how many chose each
_CHOICE_TYPES = frozenset({"single_choice", "multiple_choice", "true_false"})


#: a fully right answer (three options worth 0.333333 each add up to 0.999999)
FULL_MARK = 0.999


def _choice_key(value: Any) -> str:
    """An option id, or "true"/"false" for a true/false question."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def start_quiz(
    *, actor: User, lecture: Lecture, question_ids: Any, title: Any = None
) -> LectureQuiz:
    """Open a quick quiz of question-bank questions (closing any open one); hosts only."""
    _require_host(actor, lecture)
    if lecture.status == LectureStatus.ENDED:
        raise ServiceError(_("This lecture has ended."), status=409)
    versions = quiz_service.quick_questions(actor=actor, question_ids=question_ids)
    name = title.strip()[:MAX_TITLE] if isinstance(title, str) and title.strip() else ""
    now = _now()
    for open_quiz in db.session.scalars(
        select(LectureQuiz).filter_by(lecture_id=lecture.id, is_open=True)
    ):
        open_quiz.is_open = False
        open_quiz.closed_at = now
    quiz = LectureQuiz(
        lecture_id=lecture.id,
        title=name or _("Quick quiz"),
        is_open=True,
        created_by_id=actor.id,
        items=[
            LectureQuizItem(position=n, question_version_id=v.id, version=v)
            for n, v in enumerate(versions)
        ],
    )
    db.session.add(quiz)
    db.session.flush()
    db.session.add(
        LectureMessage(
            lecture_id=lecture.id,
            kind=MessageKind.QUIZ.value,
            author_id=actor.id,
            text=quiz.title,
            quiz_id=quiz.id,
            is_deleted=False,
            upvotes=0,
        )
    )
    db.session.flush()
    return quiz


def current_quiz(lecture: Lecture) -> LectureQuiz | None:
    return db.session.scalar(
        select(LectureQuiz)
        .filter_by(lecture_id=lecture.id, is_open=True)
        .order_by(LectureQuiz.id.desc())
    )


def quiz_of(lecture: Lecture, quiz_id: Any) -> LectureQuiz:
    return _of_lecture(LectureQuiz, lecture.id, quiz_id, _("No such quiz."))


def end_quiz(*, actor: User, lecture: Lecture, quiz: LectureQuiz) -> LectureQuiz:
    """Close the quiz: from now on keys, tallies and results may be shown."""
    _require_host(actor, lecture)
    if quiz.is_open:
        quiz.is_open = False
        quiz.closed_at = _now()
        db.session.flush()
    return quiz


def answer_quiz(
    *, actor: User, lecture: Lecture, quiz: LectureQuiz, position: Any, answer: Any
) -> LectureQuizAnswer:
    """One answer per person per question while the quiz is open, graded as it arrives."""
    if not quiz.is_open:
        raise ServiceError(_("This quiz is closed."), status=409)
    item = next(
        (i for i in quiz.items if isinstance(position, int) and i.position == position), None
    )
    if item is None or isinstance(position, bool):
        raise NotFound(_("No such question in this quiz."))
    fraction = quiz_service.grade_answer(item.version, answer)
    row = LectureQuizAnswer(
        quiz_id=quiz.id, item_id=item.id, user_id=actor.id, answer=answer, fraction=fraction
    )
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        earlier = db.session.scalar(
            select(LectureQuizAnswer).where(
                LectureQuizAnswer.item_id == item.id, LectureQuizAnswer.user_id == actor.id
            )
        )
        if earlier is not None and earlier.answer == answer:
            return earlier  # the same answer sent again (a resend after a dropped connection)
        raise ServiceError(_("You have already answered this question."), status=409) from None
    return row


def quiz_json(quiz: LectureQuiz) -> dict[str, Any]:
    """What everyone sees of a quiz: the questions, never the keys."""
    return {
        "id": quiz.id,
        "title": quiz.title,
        "is_open": quiz.is_open,
        "questions": [
            {"position": item.position, **quiz_service.public_question(item.version)}
            for item in quiz.items
        ],
    }


def answered_by(actor: User, quiz: LectureQuiz) -> list[int]:
    """The positions this person has answered (what a reconnecting page needs)."""
    positions = {item.id: item.position for item in quiz.items}
    rows = db.session.scalars(
        select(LectureQuizAnswer.item_id).filter_by(quiz_id=quiz.id, user_id=actor.id)
    )
    return sorted(positions[item_id] for item_id in rows)


def quiz_summary(quiz: LectureQuiz, *, for_hosts: bool = False) -> dict[str, Any]:
    """The server's tally. The audience gets how many answered each question while the quiz is
    open; the hosts (and everyone once it is closed) also get the right answers' share, the
    mean score and, for choice questions, how many chose each option; the keys only once closed.
    """
    rows = db.session.execute(
        select(
            LectureQuizAnswer.item_id,
            LectureQuizAnswer.user_id,
            LectureQuizAnswer.answer,
            LectureQuizAnswer.fraction,
        ).where(LectureQuizAnswer.quiz_id == quiz.id)
    ).all()
    detailed = for_hosts or not quiz.is_open
    by_item: dict[int, list[Any]] = {item.id: [] for item in quiz.items}
    for row in rows:
        by_item.setdefault(row.item_id, []).append(row)
    questions = []
    for item in quiz.items:
        answers = by_item[item.id]
        entry: dict[str, Any] = {"position": item.position, "answered": len(answers)}
        if detailed:
            entry["correct"] = sum(1 for a in answers if a.fraction >= FULL_MARK)
            entry["mean"] = (
                round(sum(a.fraction for a in answers) / len(answers), 3) if answers else None
            )
            if item.version.type in _CHOICE_TYPES:
                chosen: Counter[str] = Counter()
                for a in answers:
                    values = a.answer if isinstance(a.answer, list) else [a.answer]
                    chosen.update(_choice_key(value) for value in values)
                entry["chosen"] = dict(chosen)
        if not quiz.is_open:
            entry["key"] = quiz_service.answer_key(item.version)
        questions.append(entry)
    return {
        "id": quiz.id,
        "title": quiz.title,
        "is_open": quiz.is_open,
        "people": len({row.user_id for row in rows}),
        "questions": questions,
    }


def quiz_result(*, actor: User, quiz: LectureQuiz) -> dict[str, Any]:
    """One person's answers, marks and the keys, once the quiz is closed."""
    if quiz.is_open:
        raise ServiceError(_("Results are shown when the host closes the quiz."), status=409)
    mine = {
        row.item_id: row
        for row in db.session.scalars(
            select(LectureQuizAnswer).filter_by(quiz_id=quiz.id, user_id=actor.id)
        )
    }
    questions = []
    for item in quiz.items:
        row = mine.get(item.id)
        questions.append(
            {
                "position": item.position,
                "answer": row.answer if row else None,
                "fraction": row.fraction if row else 0.0,
                "key": quiz_service.answer_key(item.version),
            }
        )
    return {
        "id": quiz.id,
        "score": round(sum(q["fraction"] for q in questions), 3),
        "max": len(questions),
        "questions": questions,
    }
