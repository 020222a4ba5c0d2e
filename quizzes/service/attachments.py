"""A question's image or audio: a ready ``media`` asset, served through short-lived signed URLs."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from elearn import permissions
from elearn.extensions import db
from elearn.models import User
from elearn.service.errors import ServiceError
from media import service as media_service
from media.models import Asset

#: the kinds a question may carry
KINDS = ("image", "audio")


def attachable(*, actor: User, asset_id: str) -> Asset:
    """The asset the actor may attach to a question: theirs (or their unit's), ready, image or audio."""
    asset = db.session.get(Asset, asset_id)
    if asset is None or not permissions.can(actor, "view", asset):
        raise ServiceError(_("Choose a picture or recording you uploaded."), field="media_asset_id")
    if asset.kind not in KINDS:
        raise ServiceError(
            _("A question can carry a picture or a recording only."), field="media_asset_id"
        )
    if not asset.is_ready:
        raise ServiceError(
            _("The upload is still being processed; try again in a moment."), field="media_asset_id"
        )
    return asset


def question_media(asset_id: str | None, viewer: User) -> dict[str, Any] | None:
    """What the attempt page needs to show a question's media to ``viewer``: signed, short-lived.

    Call only for someone who may see the question (its attempt's owner, an author).
    """
    if not asset_id:
        return None
    asset = db.session.get(Asset, asset_id)
    if asset is None or not asset.is_ready:
        return None
    if asset.kind == "image":
        url = media_service.image_url(asset)
        return {"kind": "image", "url": url} if url else None
    if asset.kind == "audio":
        player = media_service.player_context(asset, viewer)
        if not player["playlist_url"]:
            return None
        return {
            "kind": "audio",
            "url": player["playlist_url"],
            "renew_url": player["renew_url"],
            "duration": asset.duration_seconds,
            "player": player,
        }
    return None
