"""The `quizzes` feature package (see ARCHITECTURE.md): assessment (调度考核)."""

from __future__ import annotations

import os

from flask import Flask

from elearn.config import ConfigError

#: how often the beat closes expired and abandoned attempts
SWEEP_SECONDS = 60.0


def _save_slack(app: Flask) -> int:
    """``ELEARN_QUIZ_SAVE_SLACK_SECONDS``: how late after the deadline an answer is still saved
    (a save sent in time, still on its way), a few seconds; at most the submission grace."""
    raw = os.environ.get("ELEARN_QUIZ_SAVE_SLACK_SECONDS", "").strip() or "5"
    grace = int(app.config["QUIZ_SUBMIT_GRACE_SECONDS"])
    if not raw.isdigit() or int(raw) > grace:
        raise ConfigError(
            f"ELEARN_QUIZ_SAVE_SLACK_SECONDS must be a whole number of seconds from 0 to the "
            f"submission grace (ELEARN_QUIZ_GRACE_SECONDS, {grace}); it is {raw!r}."
        )
    return int(raw)


def init_app(app: Flask) -> None:
    """Register this package's blueprints, permission rules, beat schedule and demo content."""
    from elearn import permissions, web
    from elearn.cli import DEMO_SEEDERS
    from elearn.routes.home import HOME_PANELS
    from quizzes import (  # noqa: F401
        access,
        api,
        audit,
        models,
        routes,
        save_lane,
        start_lane,
        survey_api,
        survey_store,
        tasks,
    )
    from quizzes.service.campaigns import campaign_rule

    app.config.setdefault(
        "QUIZ_SUBMIT_GRACE_SECONDS", int(os.environ.get("ELEARN_QUIZ_GRACE_SECONDS", "30"))
    )
    app.config.setdefault(
        "QUIZ_ABANDON_HOURS", int(os.environ.get("ELEARN_QUIZ_ABANDON_HOURS", "24"))
    )
    app.config.setdefault("QUIZ_SAVE_SLACK_SECONDS", _save_slack(app))
    permissions.register_rule(models.QuestionBank, access.bank_rule)
    permissions.register_rule(models.Quiz, access.quiz_rule)
    permissions.register_rule(models.QuizAttempt, access.attempt_rule)
    permissions.register_rule(models.Campaign, campaign_rule)
    audit.register()

    app.config.setdefault(
        "QUIZ_KEY_PREFIX", os.environ.get("ELEARN_QUIZ_KEY_PREFIX", "elearn-quiz")
    )
    survey_store.init_app(app)
    schedule = {
        "quizzes-close-expired-attempts": {
            "task": "quizzes.close_expired_attempts",
            "schedule": SWEEP_SECONDS,
        },
        "quizzes-release-survey-responses": {
            "task": "quizzes.release_survey_responses",
            "schedule": SWEEP_SECONDS,
        },
    }
    app.config["CELERY"].setdefault("beat_schedule", {}).update(schedule)
    celery_app = app.extensions.get("celery")
    if celery_app is not None:
        celery_app.conf.beat_schedule = {**(celery_app.conf.beat_schedule or {}), **schedule}

    from courses.service import LESSON_COMPLETION_CHECKS
    from quizzes.service.lessons import lesson_quiz_passed

    if lesson_quiz_passed not in LESSON_COMPLETION_CHECKS:
        LESSON_COMPLETION_CHECKS.append(lesson_quiz_passed)

    api.init_app(app)
    app.register_blueprint(routes.bp)
    if routes.nav_items not in web.NAV_PROVIDERS:
        web.NAV_PROVIDERS.append(routes.nav_items)
    if routes.home_panel not in HOME_PANELS:
        HOME_PANELS.append(routes.home_panel)

    for setting in ("QUIZ_SAVE_LANE", "QUIZ_START_LANE"):
        app.config.setdefault(setting, os.environ.get(f"ELEARN_{setting}", "1").strip() != "0")
    save_lane.init_app(app)
    start_lane.init_app(app)

    from quizzes.seed import seed_demo_quiz

    if seed_demo_quiz not in DEMO_SEEDERS:
        DEMO_SEEDERS.append(seed_demo_quiz)
