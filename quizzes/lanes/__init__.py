"""The exam lanes: attempt starts and answer saves group-committed in front of Flask.

An exam starts for thousands of students in the same minute and then autosaves every answer.
Two WSGI middlewares answer those requests before Flask sees them (PostgreSQL only): the start
lane (``start``: ``plans``, ``start_batch``) and the autosave lane (``save``: ``save_batch``),
each carrying every request waiting at a moment in one statement and one commit
(``groupcommit``), on the frame ``base`` gives them. Their contract, *faster, never different*,
is in ``README.md`` here; the rules they restate in SQL are ``quizzes.rules``.
"""

from __future__ import annotations

from flask import Flask

from elearn.metrics import EXAM_SAVES, EXAM_STARTS, count_answers
from quizzes.lanes.base import install, warm_up
from quizzes.lanes.save import SaveLane
from quizzes.lanes.start import StartLane

__all__ = ["SaveLane", "StartLane", "init_app", "warm_up"]


def init_app(app: Flask) -> None:
    """The autosave lane in front of the app, then the start lane in front of it; the answers
    the Flask routes give (without a lane, or for what a lane passes on) are counted too."""
    count_answers("quizzes_api.save_answer", 200, EXAM_SAVES.labels(via="app"))
    install(app, SaveLane, "QUIZ_SAVE_LANE")
    count_answers("quizzes_api.start_attempt", 201, EXAM_STARTS.labels(via="app"))
    install(app, StartLane, "QUIZ_START_LANE")
