"""The carrier's HTML pages."""

from flask import Flask


def init_app(app: Flask) -> None:
    from elearn.routes import admin, auth, home, notifications, ops, rosters

    for blueprint in (auth.bp, home.bp, admin.bp, ops.bp, rosters.bp, notifications.bp):
        app.register_blueprint(blueprint)
