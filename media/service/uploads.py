"""Uploads: who may upload what (reasons, limits, the asset rule), announcing an upload, its
parts, completing it (size and magic bytes checked) and its processing state. Flush, never commit."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from elearn import permissions
from elearn.extensions import db
from elearn.models import Role, Unit, User
from elearn.models.accounts import ADMIN_ROLES
from elearn.service.errors import Forbidden, ServiceError
from media.containers import ACCEPTED_TYPES, SNIFF_BYTES, sniff
from media.models import Asset, AssetKind, AssetStatus
from media.settings import setting
from media.storage import Storage, StorageError, get_storage

#: reason codes (stored on the asset) → what the uploader reads
REASONS: dict[str, Any] = {
    "empty_file": _l("The file is empty."),
    "unsupported_format": _l(
        "This file type is not supported. Upload MP4, WebM, MP3, M4A, WAV, OGG, PNG, JPEG, WebP, PDF or EPUB."
    ),
    "type_mismatch": _l("The file's contents do not match its declared type."),
    "size_mismatch": _l("The uploaded file is not the size that was announced. Upload it again."),
    "incomplete_upload": _l("The upload is incomplete. Upload the file again."),
    "abandoned_upload": _l(
        "The upload was not finished within %(hours)s hours and was cancelled. Upload the file again."
    ),
    "corrupt_media": _l("The file is damaged or incomplete and cannot be played."),
    "corrupt_document": _l("The document is damaged or not a valid PDF or EPUB."),
    "no_media_streams": _l("The file contains no video or audio."),
    "too_long": _l("The recording is longer than the limit of %(limit_minutes)s minutes."),
    "dimensions_too_large": _l("The picture is too large (%(width)s×%(height)s)."),
    "limit_exceeded": _l("The file exceeds a processing limit (%(what)s)."),
    "archive_bomb": _l("The archive expands to an unreasonable size and was refused."),
    "processing_timeout": _l("Processing took too long and was stopped."),
    "processing_failed": _l("Processing failed several times. Try a different file."),
}


#: what a "limit_exceeded" reason names
LIMITS: dict[str, Any] = {
    "streams": _l("number of streams"),
    "frame_rate": _l("frame rate"),
    "output_size": _l("size of the processed files"),
    "index": _l("size of the file index"),
}


def reason_text(asset: Asset) -> str | None:
    """The failure reason in the current user's language."""
    if not asset.reason:
        return None
    message = REASONS.get(asset.reason, REASONS["processing_failed"])
    params = dict(asset.reason_params or {})
    if "what" in params:
        params["what"] = str(LIMITS.get(str(params["what"]), params["what"]))
    try:
        return str(message) % params if params else str(message)
    except (KeyError, TypeError, ValueError):
        return str(REASONS["processing_failed"])


# --- permissions ------------------------------------------------------------------------------


def asset_rule(actor: User, action: str, asset: Asset) -> bool:
    """Owner and admins of the owner's unit manage; playback goes through ``playback_token``."""
    if action not in {"view", "manage", "delete"}:
        return False
    if asset.owner_id == actor.id:
        return True
    if asset.unit is None:
        return False
    return any(asset.unit.path.startswith(path) for path in permissions.admin_paths(actor))


def upload_limit(actor: User) -> int | None:
    """The largest file this actor may upload, or None when they may not upload."""
    limits = []
    if actor.has_role(*ADMIN_ROLES):
        limits.append(int(setting("MEDIA_UPLOAD_LIMIT_ADMIN")))
    if actor.has_role(Role.EXPERT):
        limits.append(int(setting("MEDIA_UPLOAD_LIMIT_EXPERT")))
    if actor.has_role(Role.TEACHER):
        limits.append(int(setting("MEDIA_UPLOAD_LIMIT_TEACHER")))
    return max(limits) if limits else None


#: what an attachment (``purpose="attachment"``: a message's picture, file or voice) may be
ATTACHMENT_KINDS = (AssetKind.IMAGE, AssetKind.DOCUMENT, AssetKind.AUDIO)
PURPOSES = ("media", "attachment")


def attachment_limit(actor: User) -> int | None:
    """The largest attachment this actor may send (staff more than families), or None."""
    if actor.has_role(*ADMIN_ROLES, Role.EXPERT, Role.TEACHER):
        return int(setting("MEDIA_ATTACHMENT_LIMIT_STAFF"))
    if actor.has_role(Role.GUARDIAN, Role.STUDENT):
        return int(setting("MEDIA_ATTACHMENT_LIMIT_FAMILY"))
    return None


def _home_unit(actor: User) -> Unit | None:
    order = [Role.PREFECTURE_ADMIN, Role.COUNTY_ADMIN, Role.SCHOOL_ADMIN, Role.EXPERT, Role.TEACHER]
    for role in order:
        units = actor.units_for(role)
        if units:
            unit = units[0]
            if role == Role.TEACHER and unit.type in {"grade", "class"}:
                # a teacher's uploads belong to the school, where its admins can see them
                return db.session.get(Unit, unit.school_id or unit.id)
            return unit
    return None


# --- uploads ----------------------------------------------------------------------------------


def _part_size(size: int) -> int:
    part = int(setting("MEDIA_PART_SIZE"))
    # S3 allows 10,000 parts; grow the part size for very large files
    while size / part > 10_000:
        part *= 2
    return part


def check_declared(*, actor: User, filename: str, size: int, content_type: str,
                   purpose: str = "media") -> tuple[str, str]:  # fmt: skip
    """The declared name, size and type against the actor's limit: (clean name, asset kind).

    ``purpose`` "attachment" (a message's picture, file or voice) has its own, smaller limits
    that families have too, and takes no video."""
    attachment = purpose == "attachment"
    limit = attachment_limit(actor) if attachment else upload_limit(actor)
    if limit is None:
        raise Forbidden(_("Your role cannot upload media."))
    filename = (filename or "").strip().replace("\\", "/").rsplit("/", 1)[-1][:255]
    if not filename:
        raise ServiceError(_("Give the file's name."), status=422, field="filename")
    if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
        raise ServiceError(_("The file is empty."), status=422, field="size")
    if size > limit:
        raise ServiceError(
            _(
                "The file is too large: the limit for your role is %(mb)s MB.",
                mb=limit // (1024 * 1024),
            ),
            status=413,
            field="size",
        )
    content_type = (content_type or "").split(";")[0].strip().lower()
    kind = ACCEPTED_TYPES.get(content_type)
    if kind is None:
        raise ServiceError(str(REASONS["unsupported_format"]), status=415, field="content_type")
    if attachment and kind not in ATTACHMENT_KINDS:
        raise ServiceError(
            _("Send a picture, a PDF or EPUB file, or a voice recording."),
            status=415,
            field="content_type",
        )
    return filename, kind


def new_asset(*, actor: User, filename: str, size: int, content_type: str,
              purpose: str = "media") -> Asset:  # fmt: skip
    """An asset row for a file about to arrive (status uploading), after the declared checks."""
    filename, kind = check_declared(actor=actor, filename=filename, size=size,
                                    content_type=content_type, purpose=purpose)  # fmt: skip
    unit = _home_unit(actor)
    asset = Asset(
        owner_id=actor.id,
        unit_id=unit.id if unit else None,
        kind=kind,
        status=AssetStatus.UPLOADING,
        original_filename=filename,
        declared_size=size,
        declared_type=(content_type or "").split(";")[0].strip().lower(),
        part_size=_part_size(size),
        max_attempts=int(setting("MEDIA_MAX_ATTEMPTS")),
        renditions=[],
        meta={},
        reason_params={},
    )
    db.session.add(asset)
    db.session.flush()
    return asset


def create_upload(*, actor: User, filename: str, size: int, content_type: str,
                  storage: Storage | None = None, purpose: str = "media") -> Asset:  # fmt: skip
    """Check the declared size and type against the actor's limit, open a multipart upload."""
    asset = new_asset(actor=actor, filename=filename, size=size, content_type=content_type,
                      purpose=purpose)  # fmt: skip
    storage = storage or get_storage()
    try:
        asset.upload_id = storage.create_multipart(asset.source_key, "application/octet-stream")
    except StorageError as error:
        raise ServiceError(_("Storage is unavailable. Try again later."), status=503) from error
    db.session.flush()
    return asset


def upload_plan(asset: Asset, storage: Storage | None = None) -> dict[str, Any]:
    """The part URLs still to send (offset and length each), and those already received."""
    storage = storage or get_storage()
    if asset.status != AssetStatus.UPLOADING or not asset.upload_id or not asset.part_size:
        return {"method": "multipart", "parts": [], "received": []}
    try:
        received = {p.number for p in storage.list_parts(asset.source_key, asset.upload_id)}
    except StorageError as error:  # the page waits and asks again
        raise ServiceError(_("Storage is unavailable. Try again later."), status=503) from error
    expires = timedelta(minutes=int(setting("MEDIA_UPLOAD_URL_MINUTES")))
    parts = []
    count = max(1, -(-asset.declared_size // asset.part_size))
    for number in range(1, count + 1):
        offset = (number - 1) * asset.part_size
        if number in received:
            continue
        parts.append({
            "number": number,
            "offset": offset,
            "size": min(asset.part_size, asset.declared_size - offset),
            "url": storage.part_url(asset.source_key, asset.upload_id, number, expires),
        })  # fmt: skip
    return {
        "method": "multipart",
        "part_size": asset.part_size,
        "size": asset.declared_size,
        "expires_in": int(expires.total_seconds()),
        "headers": {"Content-Type": "application/octet-stream"},
        "parts": parts,
        "received": sorted(received),
    }


def fail(asset: Asset, code: str, **params: Any) -> None:
    """Mark an asset failed with a reason code; clear its lock."""
    asset.status = AssetStatus.FAILED
    asset.reason = code
    asset.reason_params = {k: v for k, v in params.items() if isinstance(v, str | int | float)}
    asset.locked_until = None
    asset.lock_owner = None
    db.session.flush()


def complete_upload(*, actor: User, asset: Asset, storage: Storage | None = None) -> Asset:
    """Join the parts, check the size and the magic bytes, and mark the asset for processing.

    The caller queues ``media.process_asset`` with ``uow.send_task`` (sent once the boundary
    commits); a refused file ends failed.
    """
    storage = storage or get_storage()
    # the abandoned-uploads sweep takes the same row lock: one of the two wins, cleanly
    db.session.refresh(asset, with_for_update=True)
    if asset.status != AssetStatus.UPLOADING:
        raise ServiceError(_("This upload is already complete."), status=409)
    assert asset.upload_id
    try:
        parts = storage.list_parts(asset.source_key, asset.upload_id)
        received = sum(p.size for p in parts)
        if received != asset.declared_size:
            storage.abort_multipart(asset.source_key, asset.upload_id)
            asset.upload_id = None
            asset.size = received
            fail(asset, "empty_file" if received == 0 else "size_mismatch")
            return asset
        info = storage.complete_multipart(asset.source_key, asset.upload_id)
        head = storage.read_range(asset.source_key, 0, SNIFF_BYTES)
    except StorageError as error:
        raise ServiceError(_("Storage is unavailable. Try again later."), status=503) from error
    asset.upload_id = None
    return accept_source(asset, size=info.size, head=head)


def accept_source(asset: Asset, *, size: int, head: bytes) -> Asset:
    """The stored source's size and magic bytes decide: processing, or failed with a reason."""
    asset.size = size
    if size != asset.declared_size:
        fail(asset, "size_mismatch")
        return asset
    found = sniff(head)
    if found is None:
        fail(asset, "unsupported_format")
        return asset
    declared = ACCEPTED_TYPES.get(asset.declared_type)
    media_kinds = {AssetKind.VIDEO, AssetKind.AUDIO}
    if found.kind != declared and not (found.kind in media_kinds and declared in media_kinds):
        fail(asset, "type_mismatch")
        return asset
    asset.sniffed_type = found.fmt
    asset.kind = found.kind
    asset.status = AssetStatus.PROCESSING
    asset.progress = 0
    asset.attempts = 0
    db.session.flush()
    return asset


def abort_upload(*, actor: User, asset: Asset, storage: Storage | None = None) -> None:
    """Give up an upload in progress."""
    storage = storage or get_storage()
    if asset.status != AssetStatus.UPLOADING:
        raise ServiceError(_("This upload is already complete."), status=409)
    if asset.upload_id:
        with contextlib.suppress(StorageError):  # nothing left to clean up
            storage.abort_multipart(asset.source_key, asset.upload_id)
    asset.upload_id = None
    fail(asset, "incomplete_upload")
