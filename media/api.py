"""The media JSON API under /api/v1/media (documented in /api/v1/openapi.json)."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import ValidationError, fields, validate

from elearn import permissions, uow
from elearn.api import ApiBlueprint, protect_cookie_sessions, refuses
from elearn.api.schemas import Body, Choice, Out, Text
from media import service, tasks
from media.models import Asset, AssetStatus

bp = ApiBlueprint("media_api", __name__, url_prefix="/api/v1/media", description="media uploads")

# bearer-token clients carry no ambient credentials; calls riding on the session cookie need CSRF
bp.before_request(protect_cookie_sessions)

#: the largest size a file may declare (the asset's BIGINT column; each role's limit is lower)
MAX_BYTES = 2**63 - 1


def _not_empty(size: int) -> None:
    if size < 1:
        raise ValidationError(_("The file is empty."))


class UploadRequest(Body):
    filename = Text(
        1000,
        min_length=1,
        required=True,
        metadata={"description": "shown to people only; never a storage key"},
    )
    size = fields.Integer(
        strict=True,
        required=True,
        validate=[_not_empty, validate.Range(max=MAX_BYTES)],
        metadata={"description": "bytes", "minimum": 1},
    )
    content_type = Text(255, required=True, metadata={"example": "video/mp4"})
    purpose = Choice(
        ["media", "attachment"],
        load_default="media",
        metadata={
            "description": "attachment: a message's picture, PDF/EPUB file or voice recording "
            "(every role, smaller limits: ELEARN_MEDIA_ATTACHMENT_LIMIT_FAMILY for guardians and "
            "students, ..._STAFF for staff; no video)"
        },
    )


class UploadPart(Out):
    number = fields.Integer()
    offset = fields.Integer()
    size = fields.Integer()
    url = fields.String()


class MediaUpload(Out):
    method = Choice(["multipart"])
    part_size = fields.Integer()
    size = fields.Integer()
    expires_in = fields.Integer(metadata={"description": "seconds the part URLs stay valid"})
    headers = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        metadata={"description": "headers to send with each part PUT"},
    )
    parts = fields.List(
        fields.Nested(UploadPart),
        metadata={"description": "parts still to send: PUT bytes [offset, offset+size) to url"},
    )
    received = fields.List(fields.Integer())


class UploadStatus(Out):
    asset_id = fields.String()
    upload = fields.Nested(MediaUpload)


class Rendition(Out):
    name = fields.String()
    bandwidth = fields.Integer()
    kind = Choice(["audio", "video"])


class MediaAsset(Out):
    id = fields.String()
    kind = Choice(["video", "audio", "document", "image"])
    status = Choice(["uploading", "processing", "ready", "failed"])
    progress = fields.Integer(validate=validate.Range(min=0, max=100))
    reason = fields.String(allow_none=True)
    filename = fields.String()
    duration = fields.Float(allow_none=True)
    width = fields.Integer(allow_none=True)
    height = fields.Integer(allow_none=True)
    page_count = fields.Integer(allow_none=True)
    renditions = fields.List(fields.Nested(Rendition))
    playlist_url = fields.String(
        allow_none=True, metadata={"description": "signed, expires in minutes"}
    )


def _upload_status(asset: Asset) -> dict[str, Any]:
    return {"asset_id": asset.id, "upload": service.upload_plan(asset)}


@bp.route("/uploads", methods=["POST"], tags=["media"])
@login_required
@bp.arguments(UploadRequest)
@bp.response(201, UploadStatus)
@refuses(401, 403, 413, 415, 503)
def upload_create(body: dict[str, Any]) -> dict[str, Any]:
    """Announce an upload; the size and type are checked before any byte is accepted.

    403: this role cannot upload; 413: larger than this role's limit; 415: type not accepted.
    """
    asset = service.create_upload(
        actor=current_user,
        filename=body["filename"],
        size=body["size"],
        content_type=body["content_type"],
        purpose=body["purpose"],
    )
    return _upload_status(asset)


@bp.route("/uploads/<asset_id>", tags=["media"])
@login_required
@bp.response(200, UploadStatus)
@refuses(401, 404, 503)
def upload_status(asset_id: str) -> dict[str, Any]:
    """Where an upload stands: the parts still to send (fresh URLs), to resume after a drop."""
    asset = permissions.get_or_404(Asset, asset_id, current_user, "manage")
    return _upload_status(asset)


@bp.route("/uploads/<asset_id>/complete", methods=["POST"], tags=["media"])
@login_required
@bp.response(202, MediaAsset, description="accepted for processing (or failed, with the reason)")
@refuses(401, 404, 409, 503)
def upload_complete(asset_id: str) -> dict[str, Any]:
    """Finish an upload: size verified, magic bytes sniffed, processing queued.

    409: already complete.
    """
    asset = permissions.get_or_404(Asset, asset_id, current_user, "manage")
    service.complete_upload(actor=current_user, asset=asset)
    if asset.status == AssetStatus.PROCESSING:
        uow.send_task(
            tasks.process_asset, asset_id
        )  # after the commit: the worker must see the row
    return service.asset_json(asset, current_user)


@bp.route("/uploads/<asset_id>", methods=["DELETE"], tags=["media"])
@login_required
@bp.response(204, description="aborted")
@refuses(401, 404, 409)
def upload_abort(asset_id: str) -> Response:
    """Give up an upload in progress.

    409: already complete.
    """
    asset = permissions.get_or_404(Asset, asset_id, current_user, "manage")
    service.abort_upload(actor=current_user, asset=asset)
    return Response(status=204)


@bp.route("/assets/<asset_id>", tags=["media"])
@login_required
@bp.response(200, MediaAsset)
@refuses(401, 404)
def asset_detail(asset_id: str) -> dict[str, Any]:
    """An asset's processing state, renditions and (when ready) a signed playlist URL."""
    asset = permissions.get_or_404(Asset, asset_id, current_user, "view")
    return service.asset_json(asset, current_user)
