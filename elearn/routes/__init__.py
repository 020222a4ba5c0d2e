"""The carrier's HTML pages."""

from flask import Flask


def init_app(app: Flask) -> None:
    from elearn.routes import admin, auth, home, notifications, ops, rosters, slips

    for blueprint in (auth.bp, home.bp, admin.bp, ops.bp, rosters.bp, notifications.bp, slips.bp):
        app.register_blueprint(blueprint)
