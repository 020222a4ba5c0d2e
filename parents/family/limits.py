"""The rate limit of redeeming invite codes (the page and the API share it)."""

from __future__ import annotations

from flask import current_app
from flask_login import current_user


def redeem_limit() -> str:
    """Redeeming is rate-limited per account (``ELEARN_FAMILY_REDEEM_LIMIT``): a code and a
    child's name are not to be guessed."""
    return str(current_app.config["FAMILY_REDEEM_LIMIT"])


def redeem_key() -> str:
    return f"family-redeem:{current_user.id}"
