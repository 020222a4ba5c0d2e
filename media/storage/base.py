"""What every storage backend offers, and the errors and records they answer with.

Keys are chosen by the caller from asset ids, never from user data; buckets stay private and every
URL handed to a browser is signed and expires in minutes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO
from urllib.parse import quote


def attachment(name: str) -> str:
    """A Content-Disposition for a download under ``name`` (RFC 6266: ASCII fallback + UTF-8)."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_"
                       for c in name)  # fmt: skip
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"


class StorageError(RuntimeError):
    """The storage backend failed (unreachable, refused, missing object)."""


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    content_type: str | None = None


@dataclass(frozen=True)
class UploadedPart:
    number: int
    size: int
    etag: str
    #: when the part arrived (None if the backend doesn't say)
    modified: datetime | None = None


@dataclass(frozen=True)
class OpenUpload:
    """A multipart upload started and neither completed nor aborted."""

    key: str | None
    upload_id: str
    started: datetime | None


class Storage:
    """What every backend offers. Keys look like ``assets/<id>/...``."""

    def put(self, key: str, data: bytes | IO[bytes], *, length: int | None = None,
            content_type: str = "application/octet-stream") -> None:  # fmt: skip
        raise NotImplementedError

    def put_file(self, key: str, path: Path, *, content_type: str) -> None:
        with path.open("rb") as handle:
            self.put(key, handle, length=path.stat().st_size, content_type=content_type)

    def get(self, key: str) -> bytes:
        raise NotImplementedError

    def download(self, key: str, path: Path) -> None:
        raise NotImplementedError

    def read_range(self, key: str, offset: int, length: int) -> bytes:
        raise NotImplementedError

    def stat(self, key: str) -> ObjectInfo | None:
        raise NotImplementedError

    def remove(self, key: str) -> None:
        raise NotImplementedError

    def list_keys(self, prefix: str) -> list[str]:
        raise NotImplementedError

    def remove_prefix(self, prefix: str) -> int:
        keys = self.list_keys(prefix)
        for key in keys:
            self.remove(key)
        return len(keys)

    def presigned_get(self, key: str, expires: timedelta, *, download_name: str | None = None,
                      content_type: str | None = None) -> str:  # fmt: skip
        """A short-lived URL reading ``key``; with ``download_name``, served as an attachment."""
        raise NotImplementedError

    # -- multipart upload straight from the browser --------------------------------------------
    def create_multipart(self, key: str, content_type: str) -> str:
        raise NotImplementedError

    def part_url(self, key: str, upload_id: str, number: int, expires: timedelta) -> str:
        raise NotImplementedError

    def list_parts(self, key: str, upload_id: str) -> list[UploadedPart]:
        raise NotImplementedError

    def complete_multipart(self, key: str, upload_id: str) -> ObjectInfo:
        """Join the uploaded parts (as listed by the backend) into the object."""
        raise NotImplementedError

    def abort_multipart(self, key: str, upload_id: str) -> None:
        raise NotImplementedError

    def open_uploads(self, prefix: str) -> list[OpenUpload]:
        """Multipart uploads still open under ``prefix`` (the local backend can't tell keys)."""
        raise NotImplementedError

    def check(self) -> str | None:
        """None when the backend is reachable, else a short description of the problem."""
        raise NotImplementedError
