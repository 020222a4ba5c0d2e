"""The `parents` feature package: families and community (guardians and their children,
messaging, announcements, letters, outreach, care files; see docs/architecture.md). Its
applications arrive as sub-packages: ``parents.interaction`` (messages) so far."""

from flask import Flask
from flask_babel import lazy_gettext as _l
from limits import parse_many

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
        blueprints=(routes.bp, announcements.bp, family.bp),
        api=(api.bp, office_api.bp, announcements_api.bp, family_api.bp),
        nav=lambda user: routes.nav_items(user) + family.nav_items(user),
        rules={
            models.Conversation: rules.conversation_rule,
            models.Message: rules.message_rule,
            rules.Contact: rules.contact_rule,
        },
        audit_actions={
            "parents": _l("Families and community (all)"),
            "parents.keywords_changed": _l("Message keyword list changed"),
            "parents.conversation_exported": _l("Conversation record exported"),
            "parents.guardian_unlinked": _l("Guardian unlinked from a student"),
            "parents.guardian_link_confirmed": _l("Guardian link confirmed"),
            "parents.guardian_link_refused": _l("Guardian link refused"),
        },
        settings=(
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
        ),
        beat={
            "parents.deliver_waiting_messages": {
                "task": "parents.deliver_waiting_messages",
                "schedule": tasks.WAITING_SECONDS,
            },
            "parents.family_weekly_digest": {
                "task": "parents.family_weekly_digest",
                "schedule": family_tasks.WEEKLY,
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
        setup=events.setup,
    )


def _limit(raw: str) -> str:
    """A Flask-Limiter limit ("10 per hour", "5/minute"), checked at start-up."""
    parse_many(raw)  # raises ValueError with what is wrong
    return raw


def init_app(app: Flask) -> None:
    """Register families and community through the feature contract."""
    features.register(app, feature())
