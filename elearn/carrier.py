"""The carrier's own declaration under the feature contract (``elearn.features``): its pages,
permission rules, audit vocabulary, periodic tasks and settings, registered first, as any
feature package's are."""

from __future__ import annotations

from elearn import permissions
from elearn.config import CARRIER_SETTINGS
from elearn.features import Feature
from elearn.routes import admin, auth, dashboard, home, notifications, ops, rosters, slips
from elearn.service import audit

#: read notices are purged daily (``elearn.tasks.purge_read_notifications``)
PURGE_SECONDS = 24 * 3600
#: notices due at once go out by e-mail and SMS within this (``elearn.tasks.deliver_notifications``)
DELIVER_SECONDS = 30.0


def feature() -> Feature:
    return Feature(
        name="elearn",
        blueprints=(
            auth.bp,
            home.bp,
            admin.bp,
            dashboard.bp,
            ops.bp,
            rosters.bp,
            notifications.bp,
            slips.bp,
        ),
        rules=permissions.CARRIER_RULES,
        audit_actions=audit.ACTIONS,
        audit_targets=audit.TARGETS,
        beat={
            "elearn-purge-read-notifications": {
                "task": "elearn.purge_read_notifications",
                "schedule": PURGE_SECONDS,
            },
            "elearn-deliver-notifications": {
                "task": "elearn.deliver_notifications",
                "schedule": DELIVER_SECONDS,
            },
            "elearn-notification-digests": {
                "task": "elearn.send_notification_digests",
                "schedule": 3600.0,
            },
        },
        settings=CARRIER_SETTINGS,
    )
