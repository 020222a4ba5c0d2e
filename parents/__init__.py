"""The `parents` feature package: families and community (guardians and their children,
messaging, announcements, letters, outreach, care files; see docs/architecture.md). Its
applications arrive as sub-packages; until then it declares itself, with nothing to add."""

from flask import Flask

from elearn import features
from elearn.features import Feature


def feature() -> Feature:
    """What families and community add to the carrier: announcements so far."""
    # the rooms load when the package is registered, not when it is imported (as live's do)
    from parents.announcements import api as announcements_api
    from parents.announcements import routes as announcements

    return Feature(
        name="parents",
        blueprints=(announcements.bp,),
        api=(announcements_api.bp,),
    )


def init_app(app: Flask) -> None:
    """Register families and community through the feature contract."""
    features.register(app, feature())
