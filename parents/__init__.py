"""The `parents` feature package: families and community (guardians and their children,
messaging, announcements, letters, outreach, care files; see docs/architecture.md). Its
applications arrive as sub-packages: ``parents.interaction`` (messages) so far."""

from flask import Flask
from flask_babel import lazy_gettext as _l

from elearn import features, signals
from elearn.config import Setting
from elearn.features import Feature


def feature() -> Feature:
    """What families and community add to the carrier: interaction (messages), announcements
    and care files."""
    # the sub-packages' rooms load when the package is registered, not when it is imported (as
    # live's): the migrations and the composition root import parents without registering it
    from parents.announcements import api as announcements_api
    from parents.announcements import routes as announcements
    from parents.care import api as care_api
    from parents.care import crypto as care_crypto
    from parents.care import models as care_models
    from parents.care import routes as care
    from parents.care import service as care_service
    from parents.care import tasks as care_tasks
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
        blueprints=(routes.bp, announcements.bp, care.bp),
        api=(api.bp, office_api.bp, announcements_api.bp, care_api.bp),
        nav=lambda user: routes.nav_items(user) + care.nav_items(user),
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
            "parents.care_designated": _l("Designated admin for care files set"),
            "parents.care_export_requested": _l("Care file export requested"),
            "parents.care_export_approved": _l("Care file export approved"),
            "parents.care_exported": _l("Care files exported"),
        },
        settings=(
            Setting(
                "MESSAGES_QUIET_HOURS",
                (quiet.DEFAULT.starts, quiet.DEFAULT.ends),
                "staff's quiet hours unless they set their own: HH:MM-HH:MM local, or off",
                quiet.parse_default,
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
            "parents.purge_care_files": {
                "task": "parents.purge_care_files",
                "schedule": care_tasks.PURGE_SECONDS,
            },
        },
        signals=(
            (signals.user_logged_out, events.on_logout),
            (signals.password_changed, events.on_password_changed),
        ),
        setup=_setup,
    )


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
