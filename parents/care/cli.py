"""``flask care rotate-keys``: re-encrypt every care file's text with the current key."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from elearn import uow
from parents.care import service

group = AppGroup("care", help="Care files (关爱帮教档案).")


@group.command("rotate-keys")
def rotate_keys() -> None:
    """Re-encrypt every token with the first key of ELEARN_CARE_KEYS; then the old keys may go."""
    with uow.unit():
        count = service.rotate()
    click.echo(f"re-encrypted {count} texts with the current key")
