"""The media JSON API under /api/v1/media (documented in /api/v1/openapi.json)."""

from __future__ import annotations

from flask import Blueprint, Flask, jsonify
from flask_login import current_user, login_required

from elearn import permissions
from elearn.api import protect_cookie_sessions
from elearn.api.helpers import json_body
from elearn.extensions import csrf, db
from media import service, tasks
from media.models import Asset, AssetStatus

bp = Blueprint("media_api", __name__, url_prefix="/api/v1/media")

# bearer-token clients carry no ambient credentials; calls riding on the session cookie need CSRF
bp.before_request(protect_cookie_sessions)

COMPONENTS = {
    "MediaUpload": {
        "type": "object",
        "properties": {
            "method": {"type": "string", "enum": ["multipart"]},
            "part_size": {"type": "integer"},
            "size": {"type": "integer"},
            "expires_in": {"type": "integer", "description": "seconds the part URLs stay valid"},
            "headers": {"type": "object", "description": "headers to send with each part PUT"},
            "parts": {
                "type": "array",
                "description": "parts still to send: PUT bytes [offset, offset+size) to url",
                "items": {
                    "type": "object",
                    "properties": {
                        "number": {"type": "integer"},
                        "offset": {"type": "integer"},
                        "size": {"type": "integer"},
                        "url": {"type": "string"},
                    },
                },
            },
            "received": {"type": "array", "items": {"type": "integer"}},
        },
    },
    "MediaAsset": {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "kind": {"type": "string", "enum": ["video", "audio", "document", "image"]},
            "status": {"type": "string", "enum": ["uploading", "processing", "ready", "failed"]},
            "progress": {"type": "integer", "minimum": 0, "maximum": 100},
            "reason": {"type": "string", "nullable": True},
            "filename": {"type": "string"},
            "duration": {"type": "number", "nullable": True},
            "width": {"type": "integer", "nullable": True},
            "height": {"type": "integer", "nullable": True},
            "page_count": {"type": "integer", "nullable": True},
            "renditions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "bandwidth": {"type": "integer"},
                        "kind": {"type": "string", "enum": ["audio", "video"]},
                    },
                },
            },
            "playlist_url": {
                "type": "string",
                "nullable": True,
                "description": "signed, expires in minutes",
            },
        },
    },
}


def init_app(app: Flask) -> None:
    from elearn.api.openapi import EXTRA_COMPONENTS

    EXTRA_COMPONENTS.update(COMPONENTS)
    csrf.exempt(bp)
    app.register_blueprint(bp)


def _upload_response(asset: Asset, status: int = 200):  # type: ignore[no-untyped-def]
    return jsonify(asset_id=asset.id, upload=service.upload_plan(asset)), status


@bp.route("/uploads", methods=["POST"])
@login_required
def upload_create():
    """Announce an upload; the size and type are checked before any byte is accepted.
    ---
    post:
      tags: [media]
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [filename, size, content_type]
              properties:
                filename: {type: string, description: shown to people only; never a storage key}
                size: {type: integer, description: bytes}
                content_type: {type: string, example: video/mp4}
      responses:
        201:
          description: the asset and where to send its parts
          content:
            application/json:
              schema:
                type: object
                properties:
                  asset_id: {type: string}
                  upload: {$ref: '#/components/schemas/MediaUpload'}
        403: {description: this role cannot upload}
        413: {description: larger than this role's limit}
        415: {description: type not accepted}
    """
    body = json_body()
    asset = service.create_upload(
        actor=current_user,
        filename=str(body.get("filename") or ""),
        size=body.get("size"),  # type: ignore[arg-type]  # the service checks it
        content_type=str(body.get("content_type") or ""),
    )
    db.session.commit()
    return _upload_response(asset, 201)


@bp.route("/uploads/<asset_id>")
@login_required
def upload_status(asset_id: str):
    """Where an upload stands: the parts still to send (fresh URLs), to resume after a drop.
    ---
    get:
      tags: [media]
      parameters:
        - {name: asset_id, in: path, required: true, schema: {type: string}}
      responses:
        200:
          description: the parts still missing
          content:
            application/json:
              schema:
                type: object
                properties:
                  asset_id: {type: string}
                  upload: {$ref: '#/components/schemas/MediaUpload'}
        404: {description: no such asset of yours}
    """
    asset = permissions.get_or_404(Asset, asset_id, current_user, "manage")
    return _upload_response(asset)


@bp.route("/uploads/<asset_id>/complete", methods=["POST"])
@login_required
def upload_complete(asset_id: str):
    """Finish an upload: size verified, magic bytes sniffed, processing queued.
    ---
    post:
      tags: [media]
      parameters:
        - {name: asset_id, in: path, required: true, schema: {type: string}}
      responses:
        202:
          description: accepted for processing (or failed, with the reason)
          content:
            application/json:
              schema: {$ref: '#/components/schemas/MediaAsset'}
        404: {description: no such asset of yours}
        409: {description: already complete}
    """
    asset = permissions.get_or_404(Asset, asset_id, current_user, "manage")
    service.complete_upload(actor=current_user, asset=asset)
    db.session.commit()
    body = service.asset_json(asset, current_user)
    if asset.status == AssetStatus.PROCESSING:
        tasks.process_asset.delay(asset_id)  # after the commit: the worker must see the row
    return jsonify(body), 202


@bp.route("/uploads/<asset_id>", methods=["DELETE"])
@login_required
def upload_abort(asset_id: str):
    """Give up an upload in progress.
    ---
    delete:
      tags: [media]
      parameters:
        - {name: asset_id, in: path, required: true, schema: {type: string}}
      responses:
        204: {description: aborted}
        404: {description: no such asset of yours}
        409: {description: already complete}
    """
    asset = permissions.get_or_404(Asset, asset_id, current_user, "manage")
    service.abort_upload(actor=current_user, asset=asset)
    db.session.commit()
    return "", 204


@bp.route("/assets/<asset_id>")
@login_required
def asset_detail(asset_id: str):
    """An asset's processing state, renditions and (when ready) a signed playlist URL.
    ---
    get:
      tags: [media]
      parameters:
        - {name: asset_id, in: path, required: true, schema: {type: string}}
      responses:
        200:
          description: the asset
          content:
            application/json:
              schema: {$ref: '#/components/schemas/MediaAsset'}
        404: {description: no such asset within the caller's scope}
    """
    asset = permissions.get_or_404(Asset, asset_id, current_user, "view")
    return jsonify(service.asset_json(asset, current_user))
