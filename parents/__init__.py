"""The `parents` feature package: families and community (guardians and their children,
messaging, announcements, letters, outreach, care files; see docs/architecture.md). Its
applications arrive as sub-packages: ``parents.interaction`` (messages) so far."""

from flask import Flask
from flask_babel import lazy_gettext as _l

from elearn import features, signals
from elearn.config import Setting
from elearn.features import Feature


def feature() -> Feature:
    """What families and community add to the carrier: interaction (messages) and
    announcements."""
    # the sub-packages' rooms load when the package is registered, not when it is imported (as
    # live's): the migrations and the composition root import parents without registering it
    from parents.announcements import api as announcements_api
    from parents.announcements import routes as announcements
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
        blueprints=(routes.bp, announcements.bp),
        api=(api.bp, office_api.bp, announcements_api.bp),
        nav=routes.nav_items,
        rules={
            models.Conversation: rules.conversation_rule,
            models.Message: rules.message_rule,
            rules.Contact: rules.contact_rule,
        },
        audit_actions={
            "parents": _l("Families and community (all)"),
            "parents.keywords_changed": _l("Message keyword list changed"),
            "parents.conversation_exported": _l("Conversation record exported"),
        },
        settings=(
            Setting(
                "MESSAGES_QUIET_HOURS",
                (quiet.DEFAULT.starts, quiet.DEFAULT.ends),
                "staff's quiet hours unless they set their own: HH:MM-HH:MM local, or off",
                quiet.parse_default,
            ),
        ),
        beat={
            "parents.deliver_waiting_messages": {
                "task": "parents.deliver_waiting_messages",
                "schedule": tasks.WAITING_SECONDS,
            },
        },
        signals=(
            (signals.user_logged_out, events.on_logout),
            (signals.password_changed, events.on_password_changed),
        ),
        setup=events.setup,
    )


def init_app(app: Flask) -> None:
    """Register families and community through the feature contract."""
    features.register(app, feature())
