"""The `media` feature package (see ARCHITECTURE.md)."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register this package's blueprints, namespaces, CLI and signal receivers."""
    from media import models  # noqa: F401 - the tables register with the metadata
