"""Object storage behind one interface: MinIO (S3) in production, a local folder by default.

``base`` is the interface every backend offers, ``s3`` the MinIO backend (the only module that
imports ``minio``), ``local`` the folder; this module builds the one the configuration asks for.
Keys are chosen by the caller from asset ids, never from user data; buckets stay private and every
URL handed to a browser is signed and expires in minutes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, current_app

from media.storage.base import ObjectInfo, OpenUpload, Storage, StorageError, UploadedPart
from media.storage.local import LocalStorage
from media.storage.s3 import MinioStorage

__all__ = [
    "LocalStorage",
    "MinioStorage",
    "ObjectInfo",
    "OpenUpload",
    "Storage",
    "StorageError",
    "UploadedPart",
    "from_config",
    "get_storage",
    "readiness_check",
]


def from_config(config: dict[str, Any]) -> Storage:
    """Build the backend the configuration asks for: MinIO when S3_ENDPOINT is set."""
    if config.get("S3_ENDPOINT"):
        if not config.get("S3_ACCESS_KEY") or not config.get("S3_SECRET_KEY"):
            raise StorageError("S3_ENDPOINT is set but S3_ACCESS_KEY/S3_SECRET_KEY are not")
        return MinioStorage(
            config["S3_ENDPOINT"],
            config["S3_ACCESS_KEY"],
            config["S3_SECRET_KEY"],
            config.get("S3_BUCKET") or "elearn-media",
            secure=bool(config.get("S3_SECURE")),
        )
    return LocalStorage(Path(config["MEDIA_DIR"]), config["SECRET_KEY"])


def get_storage(app: Flask | None = None) -> Storage:
    """The current app's storage backend (built once per app and configuration)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]  # current_app is typed as Flask, not as the proxy it is
    signature = tuple(
        app.config.get(name)
        for name in ("S3_ENDPOINT", "S3_ACCESS_KEY", "S3_BUCKET", "S3_SECURE", "MEDIA_DIR")
    )
    cached = app.extensions.get("media.storage")
    if cached is None or cached[0] != signature:
        cached = (signature, from_config(app.config))
        app.extensions["media.storage"] = cached
    return cached[1]


def readiness_check() -> str | None:
    """For /readyz: is the storage backend reachable?"""
    try:
        return get_storage().check()
    except StorageError as error:
        return str(error)
