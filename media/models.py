"""Media assets: one row per file that entered the platform, from upload to playable renditions."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from elearn.extensions import Model
from elearn.models import Unit, User
from elearn.models._types import UTCDateTime, utcnow


class AssetKind(enum.StrEnum):
    VIDEO = "video"
    AUDIO = "audio"
    DOCUMENT = "document"
    IMAGE = "image"


class AssetStatus(enum.StrEnum):
    UPLOADING = "uploading"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"
    #: a live stream being written (a lecture); becomes ready (a recording) when it ends
    LIVE = "live"


def _new_id() -> str:
    return uuid.uuid4().hex


class Asset(Model):
    """An uploaded file and what processing made of it.

    Storage keys derive from ``id`` (and ``ladder_version`` for outputs), never from user data;
    ``original_filename`` is for display only.
    """

    __tablename__ = "assets"
    __table_args__ = (Index("ix_assets_status_locked_until", "status", "locked_until"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=_new_id)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    #: the org node the asset was uploaded for (the owner's school, county…); admins there manage it
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=AssetStatus.UPLOADING)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    #: a stable reason code (see ``media.service.REASONS``), translated when shown
    reason: Mapped[str | None] = mapped_column(String(64))
    reason_params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    original_filename: Mapped[str] = mapped_column(String(255))
    declared_size: Mapped[int] = mapped_column(BigInteger)
    declared_type: Mapped[str] = mapped_column(String(128))
    #: the container format read from the magic bytes ("mp4", "webm", "mp3", "pdf"…)
    sniffed_type: Mapped[str | None] = mapped_column(String(32))
    size: Mapped[int | None] = mapped_column(BigInteger)

    duration_seconds: Mapped[float | None] = mapped_column(Float)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    page_count: Mapped[int | None] = mapped_column(Integer)
    #: [{"name": "720p", "bandwidth": 2800000, "kind": "video", "playlist_key": "..."}]
    renditions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    master_key: Mapped[str | None] = mapped_column(String(255))
    poster_key: Mapped[str | None] = mapped_column(String(255))
    thumbs_key: Mapped[str | None] = mapped_column(String(255))
    #: extra facts for display (thumbnail strip geometry, image output key…)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ladder_version: Mapped[int] = mapped_column(Integer, default=0)

    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    #: a lease: a worker owns the asset until ``locked_until``; a killed worker's lease runs out
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lock_owner: Mapped[str | None] = mapped_column(String(64))

    #: the S3 multipart upload id while the browser uploads parts (MinIO backend)
    upload_id: Mapped[str | None] = mapped_column(String(255))
    part_size: Mapped[int | None] = mapped_column(BigInteger)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    owner: Mapped[User] = relationship()
    unit: Mapped[Unit | None] = relationship()

    @property
    def is_ready(self) -> bool:
        return self.status == AssetStatus.READY

    @property
    def source_key(self) -> str:
        """Where the uploaded bytes live (never the user's file name)."""
        return f"assets/{self.id}/source"

    def output_prefix(self, ladder_version: int | None = None) -> str:
        """Where processing outputs of one ladder version live."""
        version = self.ladder_version if ladder_version is None else ladder_version
        return f"assets/{self.id}/v{version}/"

    def __repr__(self) -> str:
        return f"<Asset {self.id} {self.kind} {self.status}>"
