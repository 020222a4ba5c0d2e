"""The feature contract (elearn.features): each package declares what it adds once, the carrier
reads it from the app's registry, and a declaration that cannot work stops the start with every
problem named."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from flask import Blueprint, Flask

from elearn import features
from elearn.config import ConfigError, Setting
from elearn.factory import PACKAGES

ROOT = Path(__file__).resolve().parents[2]


def test_every_package_declares_itself_once(app):
    registered = [feature.name for feature in features.registry(app).features]
    assert registered == list(PACKAGES)
    for name in PACKAGES[1:]:
        package = importlib.import_module(name)
        assert package.feature().name == name


def test_the_registry_holds_what_the_packages_declare(app):
    found = features.registry(app)
    from courses.models import Course
    from live.models import Lecture
    from media.models import Asset
    from parents.interaction.models import Conversation, Message
    from quizzes.models import Quiz

    assert {Course, Lecture, Asset, Quiz, Conversation, Message} <= set(found.rules)
    assert "storage" in found.readiness
    assert {"media.requeue_stale", "live.send_reminders", "elearn-purge-read-notifications"} <= set(
        found.beat
    )
    # one schedule: the Celery app beat reads is the registry's
    assert set(found.beat) <= set(app.extensions["celery"].conf.beat_schedule)
    assert len(found.seeders) == 3 and len(found.nav) == 5 and len(found.home_panels) == 3
    assert found.hooks["courses.lesson_completion"]  # quizzes' check, through the hook


def test_a_declaration_that_cannot_work_names_every_problem():
    app = Flask("probe")

    def rule(actor, action, obj):  # noqa: ANN001, ANN202
        return False

    features.register(
        app,
        features.Feature(
            name="first",
            rules={Flask: rule},
            beat={"sweep": {"task": "x", "schedule": 1}},
            settings=(Setting.integer("PROBE_SIZE", 3, "a size", minimum=1),),
        ),
    )
    with pytest.raises(ConfigError) as refused:
        features.register(
            app,
            features.Feature(
                name="first",
                rules={Flask: rule},
                beat={"sweep": {"task": "y", "schedule": 2}},
                settings=(
                    Setting.integer("PROBE_SIZE", 3, "again", minimum=1),
                    Setting.integer("PROBE_COUNT", 3, "a count", minimum=1),
                ),
                hooks={"nowhere.to_be_found": (print,)},
            ),
            environ={"ELEARN_PROBE_COUNT": "0"},
        )
    message = str(refused.value)
    for problem in (
        "a feature named first is registered already",
        "Flask has a permission rule already",
        "a periodic task named sweep exists already",
        "the setting PROBE_SIZE is declared by another feature",
        "it contributes to nowhere.to_be_found, which no package declares",
        "ELEARN_PROBE_COUNT must be at least 1",
    ):
        assert problem in message, message
    # nothing of the refused declaration was wired in
    assert [f.name for f in features.registry(app).features] == ["first"]


@pytest.mark.parametrize(
    ("setting", "raw", "expected"),
    [
        (Setting.integer("N", 5, "n", minimum=1), "7", 7),
        (Setting.number("S", 0.9, "s", above=0, maximum=1), "0.5", 0.5),
        (Setting.flag("F", True, "f"), "0", False),
        (Setting.flag("F", False, "f"), "yes", True),
        (Setting.text("T", "x", "t"), "y", "y"),
    ],
)
def test_settings_read_their_variable(setting, raw, expected):
    assert setting.read({setting.variable: raw}) == expected
    assert setting.read({}) == setting.default


@pytest.mark.parametrize(
    ("setting", "raw", "says"),
    [
        (Setting.integer("N", 5, "n", minimum=1), "five", "a whole number"),
        (Setting.integer("N", 5, "n", minimum=1), "0", "at least 1"),
        (Setting.number("S", 0.9, "s", above=0, maximum=1), "1.5", "at most 1"),
        (Setting.number("S", 0.9, "s", above=0, maximum=1), "nan", "a number"),
        (Setting.flag("F", True, "f"), "maybe", "1 or 0 (on or off)"),
    ],
)
def test_a_bad_value_is_refused_with_what_the_variable_takes(setting, raw, says):
    config: dict = {}
    problems = features.read_settings([setting], config, {setting.variable: raw})
    assert problems == [f"{setting.variable} must be {says}."]


def test_a_value_given_in_the_config_is_checked_too():
    setting = Setting.integer("N", 5, "n", minimum=1)
    config = {"N": "0"}
    assert features.read_settings([setting], config, {}) == ["ELEARN_N must be at least 1."]


def test_the_readme_documents_every_setting(app):
    readme = (ROOT / "README.md").read_text()
    missing = [
        setting.variable
        for setting in features.registry(app).settings.values()
        if setting.variable not in readme
    ]
    assert not missing, "add these to the README's configuration table: " + ", ".join(missing)


def test_blueprints_and_api_come_through_the_contract_only():
    """No package's init_app does anything but hand its declaration to the carrier."""
    for name in PACKAGES[1:]:
        source = (ROOT / name / "__init__.py").read_text()
        body = source.split("def init_app", 1)[1]
        assert "register_blueprint" not in body and "NAV_PROVIDERS" not in body, name
        assert "features.register(app, feature())" in body, name
    assert isinstance(importlib.import_module("media").feature().blueprints[0], Blueprint)
