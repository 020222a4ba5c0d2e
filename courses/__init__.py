"""The `courses` feature package: the network classroom (网络课堂), see docs/architecture.md."""

from __future__ import annotations

from flask import Flask

from courses import audit, demo, models, routes  # noqa: F401 - models register the tables
from courses.service.access import RULES
from elearn import features
from elearn.config import Setting
from elearn.features import Feature

SETTINGS = (
    Setting.number(
        "COURSES_COMPLETION_SHARE",
        0.9,
        "share of a lesson's length a learner must have watched (server-credited) to complete it",
        above=0,
        maximum=1,
        env="ELEARN_COMPLETION_SHARE",
    ),
)


def feature() -> Feature:
    """What the network classroom adds to the carrier."""
    # here, not at the top: the API imports elearn.api, which imports elearn.factory, the
    # composition root that imports this package (a cycle with elearn)
    from courses import api

    return Feature(
        name="courses",
        blueprints=(routes.bp,),
        api=(api.bp,),
        nav=routes.nav_items,
        home_panel=routes.home_panel,
        seeders=(demo.seed_demo_courses,),
        rules=RULES,
        audit_actions=audit.ACTIONS,
        audit_targets=audit.TARGETS,
        template_globals={"course_label": routes.course_label},
        settings=SETTINGS,
    )


def init_app(app: Flask) -> None:
    """Register the network classroom through the feature contract."""
    features.register(app, feature())
