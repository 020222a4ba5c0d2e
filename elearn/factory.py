"""The composition root: builds the app and wires every feature package in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from flask.typing import ResponseReturnValue
from sqlalchemy import event

import courses
import live
import media
import parents
import quizzes
from elearn import (
    api,
    auth,
    carrier,
    cli,
    features,
    logging_setup,
    observability,
    realtime,
    static_files,
    uow,
    web,
)
from elearn import config as config_module
from elearn.celery_app import celery_init_app
from elearn.converters import BigRowId, RowId
from elearn.extensions import babel, cache, csrf, db, limiter, login_manager, migrate, socketio

PACKAGES = ("elearn", "media", "courses", "quizzes", "live", "parents")


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create the Flask app from the environment (and ``test_config`` overrides)."""
    app = App("elearn", instance_path=str(Path.cwd() / "instance"))
    app.url_map.converters["int"] = RowId
    app.url_map.converters["bigid"] = BigRowId
    app.config.from_mapping(config_module.load(Path(app.instance_path)))
    if test_config:
        celery_overrides = test_config.pop("CELERY", None)
        app.config.from_mapping(test_config)
        if celery_overrides:
            app.config["CELERY"] = {**app.config["CELERY"], **celery_overrides}

    logging_setup.configure(app.config["LOG_JSON"])
    # first: its middleware sits innermost and its hook runs before every other
    observability.init_app(app)

    _init_extensions(app)

    web.init_app(app)
    static_files.init_app(app)
    api.init_app(app)
    features.register(app, carrier.feature())
    cli.init_app(app)

    for package in (media, courses, quizzes, live, parents):
        package.init_app(app)
    static_files.serve_static_folders(app)
    return app


def _init_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"))
    auth.init_app(app, login_manager)
    csrf.init_app(app)
    babel.init_app(
        app,
        locale_selector=auth.select_locale,
        # one catalog per package, merged by Flask-Babel
        default_translation_directories=";".join(
            str(Path(__file__).parent.parent / package / "translations") for package in PACKAGES
        ),
    )
    limiter.init_app(app)
    cache.init_app(app)
    socketio.init_app(
        app,
        **realtime.client_manager(app.config["REDIS_URL"]),
        async_mode=app.config["SOCKETIO_ASYNC_MODE"],
        # None: same origin only (an empty list would switch python-engineio's check off)
        cors_allowed_origins=app.config.get("SOCKETIO_ORIGINS"),
        max_http_buffer_size=app.config.get("SOCKETIO_MAX_BYTES", 1_000_000),
        logger=False,
        engineio_logger=False,
    )
    celery_init_app(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        _tune_sqlite(app)


def _tune_sqlite(app: Flask) -> None:
    """WAL mode lets the embedded worker write while the web process reads."""
    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


class App(Flask):
    """Flask with one unit of work per request (``elearn.uow``): the view's work is committed
    when it returns, then the effects it queued run; a view that raises is rolled back by the
    error handlers (``elearn.web``) and its effects never run. The commit comes before the
    response leaves, so a commit that fails is answered as the error it is."""

    def dispatch_request(self) -> ResponseReturnValue:
        response = super().dispatch_request()
        uow.commit()
        return response
