"""A message's attachment: a picture, a PDF/EPUB file or a voice recording the sender uploaded
through media (``purpose`` "attachment"), checked before it is sent, and shown to a viewer as
short-lived signed URLs.

The check (``check_attachment``) refuses, each with a clear 4xx and nothing written: another
person's upload or an unknown id (422), a failed upload such as a hostile file (422, media's
reason), one still uploading or processing (409: the page waits until it is ready, then sends),
a kind messages do not carry (415: a video), one over the sender's role limit (413: media's
``attachment_limit``, families smaller than staff), and one already sent in another message (409).
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from elearn.extensions import db
from elearn.models import User
from elearn.service.errors import ServiceError
from media import service as media_service
from media.models import Asset, AssetStatus
from parents.interaction.models import Message

FIELD = "asset_id"


def find(asset_id: str | None) -> Asset | None:
    """The asset an API or socket client names (None when it names none); unknown ids are
    refused as another person's are, so nothing tells them apart."""
    if not asset_id:
        return None
    asset = db.session.get(Asset, str(asset_id)[:32])
    if asset is None:
        raise ServiceError(_("No such file among your uploads."), status=422, field=FIELD)
    return asset


def check_attachment(actor: User, asset: Asset) -> Asset:
    """The asset, if the actor may send it in a message now; ServiceError otherwise."""
    if asset.owner_id != actor.id:
        raise ServiceError(_("No such file among your uploads."), status=422, field=FIELD)
    if asset.status == AssetStatus.FAILED:
        reason = media_service.reason_text(asset) or _("This file cannot be sent.")
        raise ServiceError(reason, status=422, field=FIELD)
    if asset.status != AssetStatus.READY:
        raise ServiceError(
            _("The file is still being processed; send it when it is ready."),
            status=409,
            field=FIELD,
        )
    if asset.kind not in media_service.ATTACHMENT_KINDS:
        raise ServiceError(
            _("A message can carry a picture, a PDF or EPUB file, or a voice recording."),
            status=415,
            field=FIELD,
        )
    limit = media_service.attachment_limit(actor)
    if limit is None or (asset.size or asset.declared_size) > limit:
        raise ServiceError(
            _(
                "The file is too large: the limit for your role is %(mb)s MB.",
                mb=(limit or 0) // (1024 * 1024),
            ),
            status=413,
            field=FIELD,
        )
    # two sends of one asset at once: the second waits here, then finds the first's message
    db.session.refresh(asset, with_for_update=True)
    used = db.session.scalar(select(Message.id).where(Message.asset_id == asset.id).limit(1))
    if used is not None:
        raise ServiceError(_("This file was already sent."), status=409, field=FIELD)
    return asset


def view(asset: Asset | None) -> dict[str, Any] | None:
    """What a viewer who may see the message gets: kind, name and a short-lived signed URL (call
    only after that check: the URL is the permission from then on)."""
    if asset is None or not asset.is_ready:
        return None
    shown: dict[str, Any] = {"kind": asset.kind, "name": asset.original_filename, "url": None}
    if asset.kind == "image":
        shown.update(url=media_service.image_url(asset), width=asset.width, height=asset.height)
    elif asset.kind == "audio":
        shown.update(url=media_service.audio_url(asset), duration=asset.duration_seconds)
    elif asset.kind == "document":
        shown.update(url=media_service.document_download_url(asset), pages=asset.page_count)
    return shown
