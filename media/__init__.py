"""The `media` feature package (see docs/architecture.md): assets, storage, transcoding."""

from flask import Flask

from elearn import features
from elearn.features import Feature
from media import routes, service, settings, storage
from media import tasks as _tasks  # noqa: F401 - registers the Celery tasks
from media.models import Asset


def feature() -> Feature:
    """What media adds to the carrier."""
    # here, not at the top: the API imports elearn.api, which imports elearn.factory, the
    # composition root that imports this package (a cycle with elearn)
    from media import api

    return Feature(
        name="media",
        blueprints=(routes.bp,),
        api=(api.bp,),
        nav=routes.nav_items,
        rules={Asset: service.asset_rule},
        readiness={"storage": storage.readiness_check},
        beat={
            # a worker killed mid-transcode leaves a lease that runs out; the sweep queues it again
            "media.requeue_stale": {"task": "media.requeue_stale", "schedule": 60.0},
            # uploads nobody finished: abort them, fail their assets, leave no parts behind
            "media.abandon_uploads": {"task": "media.abandon_uploads", "schedule": 3600.0},
        },
        settings=settings.SETTINGS,
    )


def init_app(app: Flask) -> None:
    """Register media through the feature contract."""
    features.register(app, feature())
