"""The `media` feature package (see ARCHITECTURE.md)."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register this package's blueprints, permission rule, readiness check and periodic sweep."""
    from elearn import permissions
    from elearn.routes.ops import READINESS_CHECKS
    from media import api, routes, service, storage
    from media.models import Asset

    routes.init_app(app)
    api.init_app(app)

    permissions.register_rule(Asset, service.asset_rule)
    READINESS_CHECKS["storage"] = storage.readiness_check
    celery = app.extensions.get("celery")
    if celery is not None:
        # a worker killed mid-transcode leaves a lease that runs out; the sweep queues it again
        celery.conf.beat_schedule["media.requeue_stale"] = {
            "task": "media.requeue_stale",
            "schedule": 60.0,
        }
        # uploads nobody finished: abort them, fail their assets, leave no parts behind
        celery.conf.beat_schedule["media.abandon_uploads"] = {
            "task": "media.abandon_uploads",
            "schedule": 3600.0,
        }
    from media import tasks  # noqa: F401 - registers the Celery tasks
