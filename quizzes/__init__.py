"""The `quizzes` feature package (see docs/architecture.md): assessment (调度考核)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from flask import Flask

from elearn import features
from elearn.config import Setting
from elearn.features import Feature

if TYPE_CHECKING:
    from elearn.models import User

#: how often the beat closes expired and abandoned attempts
SWEEP_SECONDS = 60.0

SETTINGS = (
    Setting.integer(
        "QUIZ_SUBMIT_GRACE_SECONDS",
        30,
        "how late a quiz submission may arrive after the deadline",
        minimum=0,
        env="ELEARN_QUIZ_GRACE_SECONDS",
    ),
    Setting.integer(
        "QUIZ_SAVE_SLACK_SECONDS",
        5,
        "how late after the deadline an answer is still saved (one on its way), at most the grace",
        minimum=0,
    ),
    Setting.integer(
        "QUIZ_ABANDON_HOURS", 24, "when an untimed attempt left open is closed", minimum=1
    ),
    Setting.text("QUIZ_KEY_PREFIX", "elearn-quiz", "Redis key prefix of anonymous surveys"),
    Setting.flag("QUIZ_SAVE_LANE", True, "the autosave lane (PostgreSQL only)"),
    Setting.flag("QUIZ_START_LANE", True, "the start lane (PostgreSQL only)"),
)


def _check(config: Mapping[str, Any]) -> list[str]:
    grace, slack = config["QUIZ_SUBMIT_GRACE_SECONDS"], config["QUIZ_SAVE_SLACK_SECONDS"]
    if slack > grace:
        return [
            f"ELEARN_QUIZ_SAVE_SLACK_SECONDS must be a whole number of seconds from 0 to the "
            f"submission grace (ELEARN_QUIZ_GRACE_SECONDS, {grace}); it is {slack}."
        ]
    return []


def _setup(app: Flask) -> None:
    """The anonymous surveys' store and the exam lanes (WSGI middleware in front of Flask)."""
    # imported when the app is set up, as in feature() below
    from quizzes import lanes
    from quizzes.dispatch import survey_store

    survey_store.init_app(app)
    lanes.init_app(app)


def feature() -> Feature:
    """What assessment adds to the carrier (dispatch, ``quizzes.dispatch``, included)."""
    # imported when the app registers the package, not with it: every quizzes module runs this
    # file first, and would otherwise load the pages, the API and the tasks with it
    from courses.service import LESSON_COMPLETION
    from quizzes import access, api, audit, models, routes, seed
    from quizzes import tasks as _tasks  # noqa: F401 - registers the Celery tasks
    from quizzes.dispatch import api as dispatch_api
    from quizzes.dispatch import routes as dispatch_routes
    from quizzes.dispatch import tasks as _dispatch_tasks  # noqa: F401 - the same
    from quizzes.dispatch.service.campaigns import campaign_rule
    from quizzes.service.lessons import lesson_quiz_passed

    def nav(user: User) -> list[tuple[str, str]]:
        return routes.nav_items(user) + dispatch_routes.nav_items(user)

    sweep = {"schedule": SWEEP_SECONDS}
    return Feature(
        name="quizzes",
        blueprints=(routes.bp, dispatch_routes.bp),
        api=(api.bp, dispatch_api.bp),
        nav=nav,
        home_panel=routes.home_panel,
        seeders=(seed.seed_demo_quiz,),
        rules={
            models.QuestionBank: access.bank_rule,
            models.Quiz: access.quiz_rule,
            models.QuizAttempt: access.attempt_rule,
            models.Campaign: campaign_rule,
        },
        audit_actions=audit.ACTIONS,
        audit_targets=audit.TARGETS,
        beat={
            "quizzes-close-expired-attempts": {"task": "quizzes.close_expired_attempts", **sweep},
            "quizzes-release-survey-responses": {
                "task": "quizzes.release_survey_responses",
                **sweep,
            },
        },
        settings=SETTINGS,
        check=_check,
        hooks={LESSON_COMPLETION.name: (lesson_quiz_passed,)},
        setup=_setup,
    )


def init_app(app: Flask) -> None:
    """Register assessment through the feature contract."""
    features.register(app, feature())
