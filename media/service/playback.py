"""Playback: signed tokens, the player's and the document viewer's context, signed playlists and
an asset's JSON."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from elearn.models import User
from media.models import Asset, AssetKind
from media.service.uploads import reason_text
from media.settings import setting
from media.storage import LocalStorage, Storage, get_storage
from media.storage.secure_link import segment_url
from media.transcode.documents import PAGE_NAME


def _play_signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="elearn.media.play")


def playback_token(asset: Asset, viewer: User, *, minutes: int | None = None) -> str:
    """A short-lived token letting ``viewer`` play ``asset``.

    Call it only after checking that the viewer may see what uses the asset (courses does, for
    its lessons); the token is the permission from then on.
    """
    ttl = int(minutes if minutes is not None else setting("MEDIA_PLAYBACK_MINUTES")) * 60
    return _play_signer().dumps({"a": asset.id, "v": viewer.id, "e": int(time.time()) + ttl})


def read_playback_token(token: str, *, grace_seconds: int = 0) -> dict[str, Any] | None:
    """The payload of a valid (or, with grace, recently expired) playback token, else None."""
    try:
        payload = _play_signer().loads(token)
    except BadSignature:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("e"), int):
        return None
    if payload["e"] + grace_seconds < time.time():
        return None
    return payload


def playlist_url(token: str) -> str:
    return f"/media/play/{token}/master.m3u8"


def player_context(asset: Asset, viewer: User) -> dict[str, Any]:
    """What the player partial needs for one viewer (call after your own permission check)."""
    token = playback_token(asset, viewer)
    storage = get_storage()
    minutes = timedelta(minutes=int(setting("MEDIA_PLAYBACK_MINUTES")))
    audio = next((r for r in asset.renditions if r.get("kind") == "audio"), None)
    has_video = any(r.get("kind") == "video" for r in asset.renditions)
    return {
        "asset_id": asset.id,
        "ready": asset.is_ready,
        "kind": asset.kind,
        "playlist_url": playlist_url(token) if asset.is_ready and asset.renditions else None,
        "audio_url": f"/media/play/{token}/audio/index.m3u8" if audio and has_video else None,
        "renew_url": f"/media/play/{token}/renew",
        "poster_url": storage.presigned_get(asset.poster_key, minutes)
        if asset.poster_key
        else None,
        "duration": asset.duration_seconds,
    }


def image_url(asset: Asset, *, minutes: int | None = None) -> str | None:
    """A short-lived signed URL of a ready image's web copy (call after your own permission check)."""
    key = (asset.meta or {}).get("image_key")
    if not asset.is_ready or asset.kind != AssetKind.IMAGE or not key:
        return None
    ttl = timedelta(
        minutes=int(minutes if minutes is not None else setting("MEDIA_PLAYBACK_MINUTES"))
    )
    return get_storage().presigned_get(key, ttl)


def audio_url(asset: Asset, *, minutes: int | None = None) -> str | None:
    """A short-lived signed URL of a ready audio asset's single AAC-in-MP4 file, for a plain
    <audio> element (call after your own permission check); None before processing made it."""
    key = (asset.meta or {}).get("audio_key")
    if not asset.is_ready or asset.kind != AssetKind.AUDIO or not key:
        return None
    ttl = timedelta(
        minutes=int(minutes if minutes is not None else setting("MEDIA_PLAYBACK_MINUTES"))
    )
    return get_storage().presigned_get(key, ttl, content_type="audio/mp4")


DOCUMENT_TYPES = {"pdf": "application/pdf", "epub": "application/epub+zip"}


def document_download_url(asset: Asset) -> str:
    """A signed URL downloading the original document under its (display) file name."""
    minutes = timedelta(minutes=int(setting("MEDIA_PLAYBACK_MINUTES")))
    fmt = asset.sniffed_type or "pdf"
    name = asset.original_filename or f"document.{fmt}"
    if not name.lower().endswith(f".{fmt}"):
        name = f"{name}.{fmt}"
    return get_storage().presigned_get(asset.source_key, minutes, download_name=name,
                                       content_type=DOCUMENT_TYPES.get(fmt))  # fmt: skip


def document_context(asset: Asset, viewer: User) -> dict[str, Any]:
    """What the document viewer partial needs (call after your own permission check).

    A PDF's first pages come as images rendered at processing time, each behind a short-lived
    signed URL; an EPUB shows its cover and a download.
    """
    token = playback_token(asset, viewer)
    storage = get_storage()
    minutes = timedelta(minutes=int(setting("MEDIA_PLAYBACK_MINUTES")))
    pages = (asset.meta or {}).get("pages") or {} if asset.is_ready else {}
    rendered = int(pages.get("rendered", 0))
    sizes = list(pages.get("sizes") or [])
    prefix = asset.output_prefix()
    return {
        "asset_id": asset.id,
        "ready": asset.is_ready,
        "format": asset.sniffed_type,
        "page_count": asset.page_count,
        "rendered": rendered,
        "pages": [
            storage.presigned_get(prefix + PAGE_NAME.format(n), minutes)
            for n in range(1, rendered + 1)
        ],  # fmt: skip
        "sizes": [sizes[n] if n < len(sizes) else [990, 1400] for n in range(rendered)],
        "cover_url": storage.presigned_get(asset.poster_key, minutes) if asset.poster_key else None,
        "download_url": f"/media/doc/{token}/download" if asset.is_ready else None,
        "renew_url": f"/media/doc/{token}/pages",
        "filename": asset.original_filename,
    }


def rendition_for(asset: Asset, name: str) -> dict[str, Any] | None:
    return next((r for r in asset.renditions if r.get("name") == name), None)


def signed_variant_playlist(asset: Asset, name: str, storage: Storage | None = None) -> str | None:
    """A rendition's playlist with every segment URI replaced by a short-lived signed URL: one
    nginx checks itself for the local-folder backend behind nginx (``MEDIA_SEGMENT_SECRET``),
    else the storage's own."""
    rendition = rendition_for(asset, name)
    if rendition is None:
        return None
    storage = storage or get_storage()
    key = rendition["playlist_key"]
    base = key.rsplit("/", 1)[0] + "/"
    expires = timedelta(minutes=int(setting("MEDIA_PLAYBACK_MINUTES")))
    secret = setting("MEDIA_SEGMENT_SECRET") if isinstance(storage, LocalStorage) else None
    until = int(time.time() + expires.total_seconds())
    lines = []
    for line in storage.get(key).decode("utf-8").splitlines():
        if line and not line.startswith("#"):
            segment = line.strip()
            # only names ffmpeg wrote; anything else never reaches a signer
            if "/" in segment or ".." in segment or not segment.endswith(".ts"):
                continue
            if secret:
                line = segment_url(base + segment, until, secret)
            else:
                line = storage.presigned_get(base + segment, expires)
        lines.append(line)
    return "\n".join(lines) + "\n"


def master_playlist(asset: Asset, storage: Storage | None = None) -> str | None:
    """The master playlist (variant URIs stay relative to the signed playback path)."""
    if not asset.master_key:
        return None
    storage = storage or get_storage()
    names = {r["name"] for r in asset.renditions}
    lines = []
    for line in storage.get(asset.master_key).decode("utf-8").splitlines():
        if line and not line.startswith("#") and line.split("/", 1)[0] not in names:
            continue
        lines.append(line)
    return "\n".join(lines) + "\n"


def asset_json(asset: Asset, viewer: User | None = None) -> dict[str, Any]:
    """The public shape of an asset for the API."""
    url = None
    if viewer is not None and asset.is_ready and asset.renditions:
        url = playlist_url(playback_token(asset, viewer))
    return {
        "id": asset.id,
        "kind": asset.kind,
        "status": asset.status,
        "progress": asset.progress,
        "reason": reason_text(asset),
        "filename": asset.original_filename,
        "duration": asset.duration_seconds,
        "width": asset.width,
        "height": asset.height,
        "page_count": asset.page_count,
        "renditions": [
            {"name": r["name"], "bandwidth": r["bandwidth"], "kind": r["kind"]}
            for r in asset.renditions
        ],
        "playlist_url": url,
    }
