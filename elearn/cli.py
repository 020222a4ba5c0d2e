"""``flask --app app elearn …``: seed data, create an admin."""

from __future__ import annotations

import os

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from elearn import features, uow
from elearn.extensions import db, socketio
from elearn.models import Unit
from elearn.seed import demo
from elearn.seed import scale as scale_seed
from elearn.service import accounts

group = AppGroup("elearn", help="Platform administration commands.")


@group.command("seed")
@click.option(
    "--scale",
    type=click.Choice(["demo", "county", "prefecture"]),
    default="demo",
    show_default=True,
)
def seed(scale: str) -> None:
    """Seed data: the demo prefecture with its logins, or county/prefecture-scale bulk data."""
    if scale == "demo":
        with uow.unit():
            logins = demo.seed_demo()
            for seeder in features.registry().seeders:
                seeder()
        click.echo("Demo data ready. Sign in with any of these (password demo1234):")
        for username, description in logins:
            click.echo(f"  {username:<14} {description}")
        return
    with uow.unit():  # committed once, all of it or none
        report = scale_seed.seed_scale(scale, echo=click.echo)
    click.echo(report)


@group.command("create-admin")
@click.option("--username", required=True)
@click.option("--name", "display_name", required=True)
@click.option("--unit", "unit_id", type=int, required=True, help="id of the prefecture or county")
@click.password_option()
def create_admin(username: str, display_name: str, unit_id: int, password: str) -> None:
    """Create a prefecture or county admin account."""
    unit = db.session.get(Unit, unit_id)
    if unit is None or unit.type not in {"prefecture", "county"}:
        raise click.BadParameter("give the id of a prefecture or county", param_hint="--unit")
    accounts.check_new_password(password)
    role = "prefecture_admin" if unit.type == "prefecture" else "county_admin"
    with uow.unit():
        user = accounts.create_user(username=username, display_name=display_name, password=password)
        accounts.assign_role(actor=None, user=user, role=role, unit=unit)
    click.echo(f"created {username} as {role} of {unit.name}")


@group.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, type=int, show_default=True)
def serve(host: str, port: int) -> None:
    """Serve the app with Socket.IO in one process (the embedded default; not for production)."""
    # Flask's CLI sets this so that app.run() inside a command is ignored; in threading mode
    # socketio.run() is app.run(), and the server would exit at once without serving.
    os.environ.pop("FLASK_RUN_FROM_CLI", None)
    socketio.run(
        current_app._get_current_object(),  # type: ignore[attr-defined]  # current_app is typed as Flask, not as the LocalProxy it is
        host=host,
        port=port,
        allow_unsafe_werkzeug=True,
        use_reloader=False,
    )


def init_app(app: Flask) -> None:
    app.cli.add_command(group)
