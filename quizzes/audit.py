"""What the carrier's audit log shows of assessment: its action codes by name, and its quizzes,
banks, questions, campaigns and attempts by name, linked where the viewer may open them."""

from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l

from elearn import permissions
from elearn.models import User
from elearn.service import audit
from quizzes.models import Campaign, Question, QuestionBank, Quiz, QuizAttempt
from quizzes.richtext import plain

ACTIONS = {
    "quiz": _l("Quizzes and campaigns (all)"),
    "quiz.created": _l("Quiz created"),
    "quiz.settings_changed": _l("Quiz settings changed"),
    "quiz.deleted": _l("Quiz deleted"),
    "quiz.attempt_graded": _l("Answers graded"),
    "quiz.results_exported": _l("Results exported"),
    "quiz.bank_created": _l("Question bank created"),
    "quiz.question_edited": _l("Question edited"),
    "quiz.question_archived": _l("Question archived"),
    "quiz.question_restored": _l("Question restored"),
    "quiz.questions_imported": _l("Questions imported"),
    "quiz.questions_exported": _l("Questions exported"),
    "quiz.campaign_sent": _l("Campaign sent"),
    "quiz.campaign_reminder": _l("Campaign reminder sent"),
}

#: a question named by its text is cut to this many characters in the log
QUESTION_CHARS = 40


def _quizzes(viewer: User, ids: list[str]) -> dict[str, tuple[str, str | None]]:
    rows = audit.load_targets(Quiz, ids)
    return {
        ident: (
            quiz.title,
            url_for("quizzes.results", quiz_id=quiz.id)
            if permissions.can(viewer, "view", quiz) and permissions.can(viewer, "results", quiz)
            else None,
        )
        for ident, quiz in rows
    }


def _banks(viewer: User, ids: list[str]) -> dict[str, tuple[str, str | None]]:
    rows = audit.load_targets(QuestionBank, ids)
    return {
        ident: (
            bank.name,
            url_for("quizzes.bank_detail", bank_id=bank.id)
            if permissions.can(viewer, "use", bank)
            else None,
        )
        for ident, bank in rows
    }


def _questions(viewer: User, ids: list[str]) -> dict[str, tuple[str, str | None]]:
    rows = audit.load_targets(Question, ids)
    found = {}
    for ident, question in rows:
        version = question.current_version
        text = (version.name or plain(version.stem)) if version is not None else ""
        if len(text) > QUESTION_CHARS:
            text = text[: QUESTION_CHARS - 1] + "…"
        url = (
            url_for("quizzes.question_edit", question_id=question.id)
            if permissions.can(viewer, "use", question.bank)
            else None
        )
        found[ident] = (text or f"#{question.id}", url)
    return found


def _campaigns(viewer: User, ids: list[str]) -> dict[str, tuple[str, str | None]]:
    rows = audit.load_targets(Campaign, ids)
    return {
        ident: (
            campaign.title,
            url_for("dispatch.campaign_detail", campaign_id=campaign.id)
            if permissions.can(viewer, "view", campaign)
            else None,
        )
        for ident, campaign in rows
    }


def _attempts(viewer: User, ids: list[str]) -> dict[str, tuple[str, str | None]]:
    rows = audit.load_targets(QuizAttempt, ids)
    return {
        ident: (
            f"{attempt.user.display_name} · {attempt.quiz.title}",
            url_for("quizzes.grade", attempt_id=attempt.id)
            if permissions.can(viewer, "grade", attempt)
            else None,
        )
        for ident, attempt in rows
    }


#: this package's target types, for the carrier's audit log (the package's Feature declares them)
TARGETS = {
    "quiz": (_l("Quiz"), _quizzes),
    "bank": (_l("Question bank"), _banks),
    "question": (_l("Question"), _questions),
    "campaign": (_l("Campaign"), _campaigns),
    "attempt": (_l("Attempt"), _attempts),
}
