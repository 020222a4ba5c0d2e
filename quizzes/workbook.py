"""A quiz's results as an Excel workbook, in the reader's language: every member of the audience
the reader may see, those who took it with their best attempt (scores rounded as the pages show
them, times on the installation's clock) and the others with where they are (未参加 / 进行中);
the item analysis with each question's type in words; the distribution. Rows are streamed from
the database and to disk: a prefecture's term exam has 700,000 pupils."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from openpyxl import Workbook
from sqlalchemy import exists, select

from elearn import localtime
from elearn.extensions import db
from elearn.models import User
from elearn.service import audit
from quizzes import figures
from quizzes.access import ResultsScope
from quizzes.analysis import Places, QuizResults, results, student_rows
from quizzes.models import AttemptState, Quiz, QuizAttempt
from quizzes.qtypes import get_type
from quizzes.queries import audience_people


def absent_rows(quiz: Quiz, scope: ResultsScope | None = None) -> Iterator[dict[str, Any]]:
    """The audience members (of those ``scope`` shows) without a finished attempt, class by
    class and by name, each with whether an attempt is in progress; read in batches."""
    paths = [a.unit.path for a in quiz.audiences] if scope is None or scope.whole else scope.paths
    if not paths:
        return
    people = audience_people(quiz, paths)
    attempts = (QuizAttempt.quiz_id == quiz.id, QuizAttempt.user_id == people.c.user_id)
    finished = exists().where(*attempts, QuizAttempt.state == AttemptState.FINISHED)
    started = exists().where(*attempts, QuizAttempt.state == AttemptState.IN_PROGRESS)
    query = (
        select(people.c.user_id, people.c.path, User.display_name, started.label("started"))
        .join(User, User.id == people.c.user_id)
        .where(~finished)
        .order_by(people.c.path, User.display_name, people.c.user_id)
    )
    places = Places()
    for batch in db.session.execute(query.execution_options(yield_per=2000)).partitions():
        places.load(row.path for row in batch)
        for row in batch:
            class_name, school = places.names(row.path)
            yield {
                "name": row.display_name,
                "class": class_name,
                "school": school,
                "user_id": row.user_id,
                "in_progress": bool(row.started),
            }


def local_text(moment: datetime | None) -> str:
    """A stored (UTC) time as the installation's clock reads it, to the minute."""
    local = localtime.wall_clock(moment)
    return local.strftime("%Y-%m-%d %H:%M") if local else ""


def results_workbook(quiz: Quiz, data: QuizResults, scope: ResultsScope | None = None) -> bytes:
    """The results as an .xlsx in the reader's language: every student ``scope`` shows, those
    who took it best first, then the rest of the audience with where they are (streamed); the
    items; the distribution. Scores rounded as the pages show them, times local."""
    book = Workbook(write_only=True)  # rows go to disk as they come: a prefecture has 700,000
    _scores_sheet(book, quiz, scope)
    _items_sheet(book, data)
    spread = book.create_sheet(_("Score distribution"))
    spread.append([_("Score band"), _("Number of students")])
    for index, count in enumerate(data.distribution):
        spread.append([f"{index * 10}–{index * 10 + 9 if index < 9 else 100}%", count])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _scores_sheet(book: Workbook, quiz: Quiz, scope: ResultsScope | None) -> None:
    """Every student ``scope`` shows: those who took it best first, then the rest."""
    yes, no = _("Yes"), _("No")
    finished, pending = _("Finished"), _("Pending grading")
    sheet = book.create_sheet(_("Scores"))
    sheet.append(
        [
            _("Student name"),
            _("School"),
            _("Class"),
            _("Status"),
            _("Score"),
            _("Full marks"),
            _("Percentage"),
            _("Passed?"),
            _("Submitted at"),
        ]
    )
    for row in student_rows(quiz, scope):
        waiting = bool(row["needs_grading"])
        passed = "" if waiting or row["passed"] is None else (yes if row["passed"] else no)
        sheet.append(
            [
                row["name"],
                row["school"],
                row["class"],
                pending if waiting else finished,
                figures.score(row["score"]),
                figures.score(row["max_score"]),
                figures.score(row["percent"]),
                passed,
                local_text(row["finished_at"]),
            ]
        )
    started, absent = _("In progress"), _("Not taken")
    for row in absent_rows(quiz, scope):
        status = started if row["in_progress"] else absent
        sheet.append([row["name"], row["school"], row["class"], status])


def _items_sheet(book: Workbook, data: QuizResults) -> None:
    """Each question's facility and discrimination, and its facility in each county."""
    items = book.create_sheet(_("Item analysis"))
    counties = sorted({c for item in data.items for c in item.by_county})
    items.append(
        [
            _("Question"),
            _("Question type"),
            _("Answered"),
            _("Facility (share of the marks earned)"),
            _("Discrimination"),
            *counties,
        ]
    )
    for item in data.items:
        items.append(
            [
                item.name,
                str(get_type(item.type).label),
                item.answered,
                item.facility,
                item.discrimination,
                *[item.by_county.get(c) for c in counties],
            ]
        )


def export_results(*, actor: User, quiz: Quiz, scope: ResultsScope | None = None) -> bytes:
    """The quiz's results (the part ``scope`` shows) as an Excel workbook; the export is
    audited (it holds pupils' scores)."""
    content = results_workbook(quiz, results(quiz, scope=scope), scope)
    audit.record(
        "quiz.results_exported",
        actor=actor,
        unit_id=quiz.unit_id,
        target_type="quiz",
        target_id=quiz.id,
    )
    return content
