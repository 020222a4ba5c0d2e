"""The `parents` feature package: families and community (guardians and their children,
messaging, announcements, letters, outreach, care files; see docs/architecture.md). Its
applications arrive as sub-packages; until then it declares itself, with nothing to add."""

from flask import Flask

from elearn import features
from elearn.features import Feature


def feature() -> Feature:
    """What families and community add to the carrier (nothing yet)."""
    return Feature(name="parents")


def init_app(app: Flask) -> None:
    """Register families and community through the feature contract."""
    features.register(app, feature())
