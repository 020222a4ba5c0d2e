"""The `parents` feature package: families and community (guardians and their children,
messaging, announcements, letters, outreach, care files; see docs/architecture.md). Its
applications arrive as sub-packages: ``parents.interaction`` (messages),
``parents.announcements`` and ``parents.appointments`` (约谈) so far."""

import json
from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l
from limits import parse_many

from elearn import features, signals
from elearn.config import Setting
from elearn.features import Feature


def _ice_servers(raw: str) -> list[dict[str, Any]]:
    """The STUN/TURN servers a video appointment's browsers use (RTCPeerConnection's
    ``iceServers``): a JSON list such as
    ``[{"urls": "turn:turn.example.org:3478", "username": "u", "credential": "p"}]``."""
    try:
        servers = json.loads(raw)
    except ValueError:
        servers = None
    if not isinstance(servers, list) or not all(
        isinstance(server, dict)
        and isinstance(server.get("urls"), str | list)
        and set(server) <= {"urls", "username", "credential"}
        for server in servers
    ):
        raise ValueError(
            'a JSON list of {"urls", "username"?, "credential"?} objects '
            "(RTCPeerConnection's iceServers)"
        )
    return servers


SETTINGS = (
    # none by default: browsers on one network (or loopback) connect directly; deploy/ runs coturn
    Setting(
        "APPOINTMENT_ICE_SERVERS",
        [],
        "STUN/TURN servers of video appointments (JSON)",
        _ice_servers,
    ),
    # coturn's --static-auth-secret: each call page gets short-lived TURN credentials signed
    # with it (the TURN REST API), for the servers above that name no username of their own
    Setting("APPOINTMENT_TURN_SECRET", None, "shared secret of the TURN server", str),
    Setting.integer(
        "APPOINTMENT_TURN_TTL", 6 * 3600, "lifetime of TURN credentials, seconds", minimum=60
    ),
)


def _nav(user: Any) -> list[tuple[str, str]]:
    from parents.appointments import routes as appointments
    from parents.care import routes as care
    from parents.family import routes as family
    from parents.interaction import routes as interaction

    return (
        interaction.nav_items(user)
        + appointments.nav_items(user)
        + family.nav_items(user)
        + care.nav_items(user)
    )


def feature() -> Feature:
    """What families and community add to the carrier: interaction (messages), announcements,
    appointments (约谈), the family pages (guardians and their children) and care files."""
    # the sub-packages' rooms load when the package is registered, not when it is imported (as
    # live's): the migrations and the composition root import parents without registering it
    from parents.announcements import api as announcements_api
    from parents.announcements import routes as announcements
    from parents.appointments import api as appointments_api
    from parents.appointments import (  # noqa: F401 - the events and the task register on import
        events as appointments_events,
    )
    from parents.appointments import models as appointments_models  # noqa: F401
    from parents.appointments import routes as appointments
    from parents.appointments import tasks as appointments_tasks  # noqa: F401
    from parents.care import api as care_api
    from parents.care import crypto as care_crypto
    from parents.care import models as care_models
    from parents.care import routes as care
    from parents.care import service as care_service
    from parents.care import tasks as care_tasks
    from parents.family import api as family_api
    from parents.family import queries as family_queries
    from parents.family import routes as family
    from parents.family import tasks as family_tasks
    from parents.interaction import (  # noqa: F401 - the Socket.IO events register on import
        api,
        events,
        models,
        office_api,
        quiet,
        routes,
        rules,
        tasks,
    )

    return Feature(
        name="parents",
        blueprints=(routes.bp, announcements.bp, appointments.bp, family.bp, care.bp),
        api=(
            api.bp,
            office_api.bp,
            announcements_api.bp,
            appointments_api.bp,
            family_api.bp,
            care_api.bp,
        ),
        nav=_nav,
        rules={
            models.Conversation: rules.conversation_rule,
            models.Message: rules.message_rule,
            rules.Contact: rules.contact_rule,
            care_models.CareFile: care_service.file_rule,
        },
        audit_actions={
            "parents": _l("Families and community (all)"),
            "parents.keywords_changed": _l("Message keyword list changed"),
            "parents.conversation_exported": _l("Conversation record exported"),
            "parents.guardian_unlinked": _l("Guardian unlinked from a student"),
            "parents.guardian_link_confirmed": _l("Guardian link confirmed"),
            "parents.guardian_link_refused": _l("Guardian link refused"),
            "parents.care_designated": _l("Designated admin for care files set"),
            "parents.care_export_requested": _l("Care file export requested"),
            "parents.care_export_approved": _l("Care file export approved"),
            "parents.care_exported": _l("Care files exported"),
        },
        settings=(
            *SETTINGS,
            Setting(
                "MESSAGES_QUIET_HOURS",
                (quiet.DEFAULT.starts, quiet.DEFAULT.ends),
                "staff's quiet hours unless they set their own: HH:MM-HH:MM local, or off",
                quiet.parse_default,
            ),
            Setting(
                "FAMILY_REDEEM_LIMIT",
                "10 per hour",
                "invite codes a guardian's account may try to redeem (a Flask-Limiter limit)",
                _limit,
            ),
            Setting(
                "CARE_KEYS",
                (),
                "care files' encryption keys: comma-separated Fernet keys, the current first",
                care_crypto.parse_keys,
            ),
            Setting.integer(
                "CARE_PURGE_DAYS",
                1095,
                "days after closure when a care file is purged",
                minimum=1,
                maximum=36500,
            ),
        ),
        beat={
            "parents.deliver_waiting_messages": {
                "task": "parents.deliver_waiting_messages",
                "schedule": tasks.WAITING_SECONDS,
            },
            "parents.appointment_reminders": {
                "task": "parents.appointment_reminders",
                "schedule": 60.0,
            },
            "parents.family_weekly_digest": {
                "task": "parents.family_weekly_digest",
                "schedule": family_tasks.WEEKLY,
            },
            "parents.purge_care_files": {
                "task": "parents.purge_care_files",
                "schedule": care_tasks.PURGE_SECONDS,
            },
        },
        hooks={
            # a guardian opening their child's course sees the child's progress, read-only
            "courses.progress_viewers": (family_queries.children_for_course,),
            # the home page's "my children" panel links to the child view
            "elearn.children_panel": (family.children_panel_links,),
        },
        signals=(
            (signals.user_logged_out, events.on_logout),
            (signals.password_changed, events.on_password_changed),
        ),
        setup=_setup,
    )


def _limit(raw: str) -> str:
    """A Flask-Limiter limit ("10 per hour", "5/minute"), checked at start-up."""
    parse_many(raw)  # raises ValueError with what is wrong
    return raw


def _setup(app: Flask) -> None:
    from parents.interaction import events

    events.setup(app)
    care_setup(app)


def care_setup(app: Flask) -> None:
    """The embedded demo's care key (generated into its instance folder, as its secret key is)
    when none is configured; the ``flask care rotate-keys`` command."""
    from parents.care import cli, crypto

    if not app.config.get("CARE_KEYS") and app.config.get("ELEARN_DEMO"):
        app.config["CARE_KEYS"] = (crypto.demo_key(app.instance_path),)
    app.cli.add_command(cli.group)


def init_app(app: Flask) -> None:
    """Register families and community through the feature contract."""
    features.register(app, feature())
