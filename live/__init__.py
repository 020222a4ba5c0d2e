"""The `live` feature package: live lectures (在线教育), see ARCHITECTURE.md."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from flask import Flask

from elearn.config import ConfigError


def _origins() -> list[str] | None:
    """Origins allowed to open a Socket.IO connection; None means the page's own origin only."""
    raw = os.environ.get("ELEARN_LIVE_ORIGINS", "").strip()
    if not raw:
        return None
    origins = [origin.strip().rstrip("/") for origin in raw.split(",") if origin.strip()]
    for origin in origins:
        if not origin.startswith(("http://", "https://")):
            raise ConfigError(
                "ELEARN_LIVE_ORIGINS must be a comma-separated list of origins such as "
                "https://elearn.example.org."
            )
    return origins


def _share(name: str = "LIVE_TRAINING_SHARE") -> float:
    """A share of a lecture's length (ELEARN_LIVE_TRAINING_SHARE, ELEARN_LIVE_LESSON_SHARE)."""
    raw = os.environ.get(f"ELEARN_{name}", "").strip()
    if not raw:
        return 0.8
    try:
        share = float(raw)
    except ValueError:
        raise ConfigError(f"ELEARN_{name} must be a number such as 0.8.") from None
    if not 0 < share <= 1:
        raise ConfigError(f"ELEARN_{name} must lie in (0, 1].")
    return share


def _number(name: str, default: float) -> float:
    raw = os.environ.get(f"ELEARN_{name}", "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"ELEARN_{name} must be a number.") from None
    if value <= 0:
        raise ConfigError(f"ELEARN_{name} must be above 0.")
    return value


@dataclass
class LiveState:
    """This process's Socket.IO helpers (stored in ``app.extensions["live"]``)."""

    presence: Any
    throttle: Any
    summaries: Any


def init_app(app: Flask) -> None:
    """Register the API, pages, Socket.IO namespace, permission rule, panels, seeder and signal."""
    from elearn import cli, permissions, signals, web
    from elearn.extensions import socketio
    from elearn.routes.home import HOME_PANELS
    from live import (  # noqa: F401 - register the video events and tasks
        api,
        demo,
        events,
        presence,
        routes,
        service,
        studio_events,
        summaries,
        tasks,
        throttle,
    )
    from live.models import Lecture

    app.config.setdefault("LIVE_TRAINING_SHARE", _share())
    app.config.setdefault("LIVE_LESSON_SHARE", _share("LIVE_LESSON_SHARE"))
    app.config.setdefault("LIVE_ORIGINS", _origins())
    app.config.setdefault("LIVE_RATE_PER_SECOND", _number("LIVE_RATE_PER_SECOND", 1.0))
    app.config.setdefault("LIVE_RATE_BURST", int(_number("LIVE_RATE_BURST", 5)))
    # the audience's reminder goes out this long before the start (beat task live.send_reminders)
    app.config.setdefault("LIVE_REMINDER_MINUTES", _number("LIVE_REMINDER_MINUTES", 30))
    schedule = {"live.send_reminders": {"task": "live.send_reminders", "schedule": 60.0}}
    app.config.setdefault("CELERY", {}).setdefault("beat_schedule", {}).update(schedule)
    celery_app = app.extensions.get("celery")
    if celery_app is not None:
        celery_app.conf.beat_schedule = {**(celery_app.conf.beat_schedule or {}), **schedule}
    # the lecture's video (live/studio_events.py, live/service/broadcast.py)
    app.config.setdefault("LIVE_VIDEO_HEIGHT", int(_number("LIVE_VIDEO_HEIGHT", 480)))
    app.config.setdefault("LIVE_VIDEO_BITRATE", int(_number("LIVE_VIDEO_BITRATE", 900_000)))
    app.config.setdefault(
        "LIVE_MEDIA_MAX_CHUNK_BYTES", int(_number("LIVE_MEDIA_MAX_CHUNK_BYTES", 512 * 1024))
    )
    app.config.setdefault(
        "LIVE_MEDIA_CHUNKS_PER_SECOND", _number("LIVE_MEDIA_CHUNKS_PER_SECOND", 4.0)
    )
    app.config.setdefault("LIVE_MEDIA_CHUNK_BURST", int(_number("LIVE_MEDIA_CHUNK_BURST", 12)))
    # The carrier checks the same origin by default; a live room may name more origins, and must refuse
    # cross-site sockets riding on the session cookie, so same-origin unless configured.
    if socketio.server is not None:
        socketio.server.eio.cors_allowed_origins = app.config["LIVE_ORIGINS"]
    app.extensions["live"] = LiveState(
        presence=presence.from_app(app),
        throttle=throttle.from_app(app),
        summaries=summaries.PollSummaries(app),
    )
    permissions.register_rule(Lecture, service.lecture_rule)
    api.init_app(app)
    app.register_blueprint(routes.bp)
    if routes.home_panel not in HOME_PANELS:
        HOME_PANELS.append(routes.home_panel)
    if routes.nav_items not in web.NAV_PROVIDERS:
        web.NAV_PROVIDERS.append(routes.nav_items)
    if demo.seed_demo_lecture not in cli.DEMO_SEEDERS:
        cli.DEMO_SEEDERS.append(demo.seed_demo_lecture)
    signals.user_logged_out.connect(events.on_logout, sender=app, weak=False)
    signals.password_changed.connect(events.on_password_changed, sender=app, weak=False)
