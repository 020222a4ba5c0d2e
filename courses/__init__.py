"""The `courses` feature package: the network classroom (网络课堂), see ARCHITECTURE.md."""

from __future__ import annotations

import os

from flask import Flask

from elearn.config import ConfigError


def _completion_share() -> float:
    raw = os.environ.get("ELEARN_COMPLETION_SHARE", "").strip()
    if not raw:
        return 0.9
    try:
        share = float(raw)
    except ValueError:
        raise ConfigError("ELEARN_COMPLETION_SHARE must be a number such as 0.9.") from None
    if not 0 < share <= 1:
        raise ConfigError("ELEARN_COMPLETION_SHARE must lie in (0, 1].")
    return share


def init_app(app: Flask) -> None:
    """Register the blueprints, permission rules, home panel, menu item and demo seeder."""
    from courses import api, audit, demo, models, routes  # noqa: F401 - models register the tables
    from courses.service.access import RULES
    from elearn import cli, permissions, web
    from elearn.routes.home import HOME_PANELS

    app.config.setdefault("COURSES_COMPLETION_SHARE", _completion_share())
    for model, rule in RULES.items():
        permissions.register_rule(model, rule)
    app.register_blueprint(routes.bp)
    audit.register()
    app.jinja_env.globals["course_label"] = routes.course_label
    api.init_app(app)
    if routes.home_panel not in HOME_PANELS:
        HOME_PANELS.append(routes.home_panel)
    if routes.nav_items not in web.NAV_PROVIDERS:
        web.NAV_PROVIDERS.append(routes.nav_items)
    if demo.seed_demo_courses not in cli.DEMO_SEEDERS:
        cli.DEMO_SEEDERS.append(demo.seed_demo_courses)
