"""What an attempt shows: its questions without their answers, its clock, and its review.

The attempt page and the API send ``attempt_view``; the start lane builds the same payload
from its plan of the quiz (``attempt_payload``, ``question_view``, ``option_rng``), and a
survey's session too. The review (``review_view``) shows answers and feedback only as the
quiz's review policy allows.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any, Protocol

from flask_babel import gettext as _

from elearn.models._types import aware
from quizzes import richtext
from quizzes.models import QuizAttempt, QuizMode
from quizzes.qtypes import get_type
from quizzes.rules import review_allowed
from quizzes.service.attachments import question_media


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


class ViewSettings(Protocol):
    """What an attempt's view shows of its quiz: a ``Quiz``, or the start lane's plan."""

    @property
    def id(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def one_per_page(self) -> bool: ...
    @property
    def shuffle_options(self) -> bool: ...
    @property
    def mode(self) -> str: ...


def option_rng(seed: int, quiz: ViewSettings, question_id: int, kind: str) -> random.Random | None:
    """What shuffles the options of one question of the attempt with ``seed`` (the same every
    time it is shown); None when the quiz keeps them in order or the type has none to shuffle
    (seeding costs more than the rest of a question's view)."""
    if not quiz.shuffle_options or quiz.mode != QuizMode.SELF_PACED or not get_type(kind).shuffles:
        return None
    return random.Random(f"{seed}:{question_id}")


def attempt_view(attempt: QuizAttempt, *, now: datetime | None = None) -> dict[str, Any]:
    """What the attempt page and the API send: questions without answers, the saved answers."""
    quiz = attempt.quiz
    questions = []
    for slot in attempt.slots:
        version = slot.version
        view = question_view(
            slot.question_id,
            slot.position,
            slot.mark,
            version,
            richtext.clean(version.stem),
            option_rng(attempt.seed, quiz, slot.question_id, version.type),
        )
        if version.media_asset_id:  # a picture or recording: a short-lived signed URL only
            view["media"] = question_media(version.media_asset_id, attempt.user)
        questions.append(view)
    return attempt_payload(
        quiz,
        attempt_id=attempt.id,
        state=attempt.state,
        started_at=aware(attempt.started_at),
        deadline=aware(attempt.deadline_at),
        now=_now(now),
        questions=questions,
        answers={
            str(slot.question_id): {"answer": slot.answer, "seq": slot.seq}
            for slot in attempt.slots
            if slot.seq
        },
    )


def question_view(
    question_id: int,
    position: int,
    mark: float,
    version: Any,
    stem: str,
    rng: random.Random | None,
) -> dict[str, Any]:
    """One question as an attempt shows it: ``version`` (type, data) without its grading data,
    ``stem`` already made safe, the options shuffled by ``rng``."""
    view = {
        "id": question_id,
        "position": position,
        "type": version.type,
        "stem": stem,
        "mark": mark,
    }
    view.update(get_type(version.type).public_view(version.data, rng))
    return view


def attempt_payload(
    quiz: ViewSettings,
    *,
    attempt_id: int | str,
    state: str,
    started_at: datetime | None,
    deadline: datetime | None,
    now: datetime,
    questions: list[dict[str, Any]],
    answers: dict[str, Any],
) -> dict[str, Any]:
    """An attempt's payload (``attempt_view``'s, and the start lane's for an attempt it started)."""
    return {
        "attempt_id": attempt_id,
        "quiz_id": quiz.id,
        "title": quiz.title,
        "state": state,
        "started_at": started_at.isoformat() if started_at else None,
        **clock_fields(deadline, now),
        "one_per_page": quiz.one_per_page,
        "questions": questions,
        "answers": answers,
    }


def clock_fields(deadline: datetime | None, now: datetime) -> dict[str, Any]:
    """The countdown's facts, all from the server's clock: the page counts ``seconds_left``
    down on the device's monotonic clock, and sets it again from every answer it gets."""
    return {
        "deadline": deadline.isoformat() if deadline else None,
        "server_now": now.isoformat(),
        "seconds_left": max(0, int((deadline - now).total_seconds())) if deadline else None,
    }


def attempt_clock(attempt: QuizAttempt, *, now: datetime | None = None) -> dict[str, Any]:
    """The attempt's state and time left (the page asks now and then: a quiz closed early
    ends the attempts in progress sooner)."""
    return {"state": attempt.state, **clock_fields(aware(attempt.deadline_at), _now(now))}


def review_view(attempt: QuizAttempt, *, now: datetime | None = None) -> dict[str, Any]:
    """The result; answers and feedback only as the quiz's review policy allows."""
    now = _now(now)
    result: dict[str, Any] = {
        "attempt_id": attempt.id,
        "state": attempt.state,
        "score": attempt.score,
        "max_score": attempt.max_score,
        "passed": attempt.passed,
        "needs_manual_grading": attempt.needs_manual_grading,
        "closed_reason": attempt.closed_reason,
        "review": None,
    }
    if not review_allowed(attempt, now):
        return result
    items = []
    for slot in attempt.slots:
        version = slot.version
        question_type = get_type(version.type)
        items.append(
            {
                "id": slot.question_id,
                "position": slot.position,
                "type": version.type,
                "stem": richtext.clean(version.stem),
                **question_type.public_view(
                    version.data,
                    option_rng(attempt.seed, attempt.quiz, slot.question_id, version.type),
                ),
                "your_answer": slot.answer,
                "correct_answer": question_type.correct_answer(version.data, version.grading),
                "fraction": slot.fraction,
                "mark": slot.mark,
                "feedback": richtext.clean(version.general_feedback),
            }
        )
    result["review"] = items
    return result


def answer_text(item: dict[str, Any], answer: Any) -> str:
    """An answer in words, for the review page (option ids become their texts)."""
    if answer is None or answer == [] or answer == {}:
        return "—"
    texts = {
        o["id"]: richtext.plain(o["text"])
        for key in ("options", "items", "choices", "prompts")
        for o in item.get(key, [])
    }
    kind = item["type"]
    if kind == "true_false":
        return _("True") if answer else _("False")
    if kind in {"single_choice"}:
        return texts.get(answer, "—")
    if kind in {"multiple_choice", "ordering"}:
        separator = "、" if kind == "multiple_choice" else " → "
        return separator.join(texts.get(a, "?") for a in answer)
    if kind == "matching":
        return "；".join(f"{texts.get(k, '?')} → {texts.get(v, '—')}" for k, v in answer.items())
    if isinstance(answer, list):
        return " / ".join(str(a or "—") for a in answer)
    return str(answer)


def review_rows(review: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The review items with both answers put into words."""
    return [
        {
            **item,
            "your_text": answer_text(item, item["your_answer"]),
            "correct_text": answer_text(item, item["correct_answer"]),
        }
        for item in review
    ]
