"""The `live` feature package: live lectures (在线教育), see docs/architecture.md."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask

from elearn import features, signals
from elearn.config import Setting
from elearn.extensions import socketio
from elearn.features import Feature


def _origins(raw: str) -> list[str]:
    """Origins allowed to open a Socket.IO connection besides the page's own."""
    origins = [origin.strip().rstrip("/") for origin in raw.split(",") if origin.strip()]
    if not all(origin.startswith(("http://", "https://")) for origin in origins):
        raise ValueError("a comma-separated list of origins such as https://elearn.example.org")
    return origins


def _share(key: str, help: str) -> Setting:
    return Setting.number(key, 0.8, help, above=0, maximum=1)


SETTINGS = (
    # None: the page's own origin only (an empty list would switch python-engineio's check off)
    Setting("LIVE_ORIGINS", None, "extra origins allowed to open /live sockets", _origins),
    _share("LIVE_TRAINING_SHARE", "share of a training lecture a teacher must watch"),
    _share("LIVE_LESSON_SHARE", "share of a lecture linked to a lesson that completes it"),
    Setting.number("LIVE_RATE_PER_SECOND", 1.0, "chat and questions a second", above=0),
    Setting.integer("LIVE_RATE_BURST", 5, "their burst", minimum=1),
    # the audience's reminder goes out this long before the start (beat task live.send_reminders)
    Setting.number("LIVE_REMINDER_MINUTES", 30, "reminder before a lecture starts", above=0),
    # the lecture's video (live/studio_events.py, live/service/broadcast.py)
    Setting.integer("LIVE_VIDEO_HEIGHT", 480, "the live stream's picture height", minimum=144),
    Setting.integer("LIVE_VIDEO_BITRATE", 900_000, "its bitrate, bits a second", minimum=64_000),
    Setting.integer(
        "LIVE_MEDIA_MAX_CHUNK_BYTES", 512 * 1024, "largest media_chunk event", minimum=1024
    ),
    Setting.number("LIVE_MEDIA_CHUNKS_PER_SECOND", 4.0, "media chunks a second", above=0),
    Setting.integer("LIVE_MEDIA_CHUNK_BURST", 12, "their burst", minimum=1),
    # a web process beats this often (live/heartbeat.py); one silent for the expiry is dead, and
    # the sweep (beat task live.sweep_dead_processes) closes its sockets' attendance
    Setting.number("LIVE_HEARTBEAT_SECONDS", 5.0, "a web process's heartbeat", above=0),
    Setting.number(
        "LIVE_PROCESS_EXPIRY_SECONDS", 30.0, "silence after which a web process is dead", above=0
    ),
)
#: how often beat runs the sweep of dead web processes
SWEEP_SECONDS = 30.0


def _check(config: Mapping[str, Any]) -> list[str]:
    """A process must miss a few beats (a slow beat, a busy moment) before it counts as dead."""
    if config["LIVE_PROCESS_EXPIRY_SECONDS"] < 3 * config["LIVE_HEARTBEAT_SECONDS"]:
        return [
            "ELEARN_LIVE_PROCESS_EXPIRY_SECONDS must be at least three times "
            "ELEARN_LIVE_HEARTBEAT_SECONDS"
        ]
    return []


@dataclass
class LiveState:
    """This process's Socket.IO helpers (stored in ``app.extensions["live"]``)."""

    presence: Any
    throttle: Any
    summaries: Any
    heartbeat: Any


def _setup(app: Flask) -> None:
    """The Socket.IO side: allowed origins, and this process's presence, throttle and summaries."""
    from live import heartbeat, presence, summaries, throttle  # at registration, as in feature()

    # The carrier checks the same origin by default; a live room may name more origins, and must
    # refuse cross-site sockets riding on the session cookie, so same-origin unless configured.
    if socketio.server is not None:
        socketio.server.eio.cors_allowed_origins = app.config["LIVE_ORIGINS"]
    app.extensions["live"] = LiveState(
        presence=presence.from_app(app),
        throttle=throttle.from_app(app),
        summaries=summaries.PollSummaries(app),
        heartbeat=heartbeat.Heartbeat(app),
    )


def feature() -> Feature:
    """What live lectures add to the carrier."""
    # live's own rooms load when the package is registered, not when it is imported: importing
    # live (as the migrations and the composition root do) must not register its pages, events
    # and tasks, and its modules (which import the package first) must not import each other
    # through it
    from live import (  # noqa: F401 - the Socket.IO events and tasks register on import
        api,
        demo,
        events,
        routes,
        service,
        studio_events,
        tasks,
    )
    from live.models import Lecture

    return Feature(
        name="live",
        blueprints=(routes.bp,),
        api=(api.bp,),
        nav=routes.nav_items,
        home_panel=routes.home_panel,
        seeders=(demo.seed_demo_lecture,),
        rules={Lecture: service.lecture_rule},
        beat={
            "live.send_reminders": {"task": "live.send_reminders", "schedule": 60.0},
            "live.sweep_dead_processes": {
                "task": "live.sweep_dead_processes",
                "schedule": SWEEP_SECONDS,
            },
        },
        settings=SETTINGS,
        check=_check,
        signals=(
            (signals.user_logged_out, events.on_logout),
            (signals.password_changed, events.on_password_changed),
        ),
        # what is coming for a person (a guardian's view of their child lists their lectures)
        hooks={"elearn.person_agenda": (service.agenda_items,)},
        setup=_setup,
    )


def init_app(app: Flask) -> None:
    """Register live lectures through the feature contract."""
    features.register(app, feature())
