"""The local-folder backend (the embedded default): presigned URLs are app URLs signed with
itsdangerous, which ``media.routes`` serves."""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from itsdangerous import BadSignature, URLSafeSerializer

from media.storage.base import ObjectInfo, OpenUpload, Storage, StorageError, UploadedPart

#: the local backend's URL prefix (``media.routes`` serves ``/media/o/<token>`` and ``/media/part/<token>``)
LOCAL_URL_PREFIX = "/media"


class LocalStorage(Storage):
    """A folder on disk; presigned URLs are app URLs signed with the app's secret."""

    def __init__(self, root: Path, secret: str) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.signer = URLSafeSerializer(secret, salt="elearn.media.local")

    # keys come from our own code, but a key must still never climb out of the root
    def _path(self, key: str) -> Path:
        if not key or key.startswith("/") or "\\" in key or ".." in key.split("/"):
            raise StorageError("invalid key")
        return self.root / "objects" / key

    def _upload_dir(self, upload_id: str) -> Path:
        if not upload_id.isalnum():
            raise StorageError("invalid upload id")
        return self.root / "multipart" / upload_id

    def put(self, key: str, data: bytes | IO[bytes], *, length: int | None = None,
            content_type: str = "application/octet-stream") -> None:  # fmt: skip
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
        with partial.open("wb") as handle:
            if isinstance(data, bytes):
                handle.write(data)
            else:
                shutil.copyfileobj(data, handle, 1024 * 1024)
        os.replace(partial, path)

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError as error:
            raise StorageError(f"no such object: {key}") from error

    def download(self, key: str, path: Path) -> None:
        try:
            shutil.copyfile(self._path(key), path)
        except FileNotFoundError as error:
            raise StorageError(f"no such object: {key}") from error

    def read_range(self, key: str, offset: int, length: int) -> bytes:
        try:
            with self._path(key).open("rb") as handle:
                handle.seek(offset)
                return handle.read(length)
        except FileNotFoundError as error:
            raise StorageError(f"no such object: {key}") from error

    def open(self, key: str) -> Path:
        """The file behind a key (the local media route streams it)."""
        path = self._path(key)
        if not path.is_file():
            raise StorageError(f"no such object: {key}")
        return path

    def stat(self, key: str) -> ObjectInfo | None:
        path = self._path(key)
        if not path.is_file():
            return None
        return ObjectInfo(key=key, size=path.stat().st_size)

    def remove(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def list_keys(self, prefix: str) -> list[str]:
        base = self.root / "objects"
        head = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        directory = self._path(head) if head else base
        if not directory.is_dir():
            return []
        keys = []
        for path in directory.rglob("*"):
            if path.is_file() and not path.name.startswith("."):
                key = path.relative_to(base).as_posix()
                if key.startswith(prefix):
                    keys.append(key)
        return sorted(keys)

    def sign(self, payload: dict[str, Any], expires: timedelta) -> str:
        return self.signer.dumps({**payload, "e": int(time.time() + expires.total_seconds())})

    def unsign(self, token: str) -> dict[str, Any]:
        """The payload of a token this backend signed; StorageError when forged or expired."""
        try:
            payload = self.signer.loads(token)
        except BadSignature as error:
            raise StorageError("bad signature") from error
        if not isinstance(payload, dict) or payload.get("e", 0) < time.time():
            raise StorageError("expired")
        return payload

    def presigned_get(self, key: str, expires: timedelta, *, download_name: str | None = None,
                      content_type: str | None = None) -> str:  # fmt: skip
        self._path(key)
        payload: dict[str, Any] = {"k": key}
        if download_name:
            payload["d"] = download_name
        if content_type:
            payload["t"] = content_type
        return f"{LOCAL_URL_PREFIX}/o/{self.sign(payload, expires)}"

    def create_multipart(self, key: str, content_type: str) -> str:
        upload_id = uuid.uuid4().hex
        self._upload_dir(upload_id).mkdir(parents=True)
        return upload_id

    def part_url(self, key: str, upload_id: str, number: int, expires: timedelta) -> str:
        token = self.sign({"k": key, "u": upload_id, "n": number}, expires)
        return f"{LOCAL_URL_PREFIX}/part/{token}"

    def write_part(self, key: str, upload_id: str, number: int, chunks: Iterator[bytes],
                   max_bytes: int) -> UploadedPart:  # fmt: skip
        """Store one part sent to a ``part_url`` (the media route calls this)."""
        self._path(key)
        directory = self._upload_dir(upload_id)
        if not directory.is_dir():
            raise StorageError("no such upload")
        target = directory / f"{number:05d}"
        partial = directory / f".{number:05d}.{uuid.uuid4().hex}"
        written = 0
        with partial.open("wb") as handle:
            for chunk in chunks:
                written += len(chunk)
                if written > max_bytes:
                    handle.close()
                    partial.unlink(missing_ok=True)
                    raise StorageError("part too large")
                handle.write(chunk)
        os.replace(partial, target)
        return UploadedPart(number=number, size=written, etag=f"{number}-{written}",
                            modified=datetime.now(UTC))  # fmt: skip

    def list_parts(self, key: str, upload_id: str) -> list[UploadedPart]:
        directory = self._upload_dir(upload_id)
        if not directory.is_dir():
            raise StorageError("no such upload")
        parts = []
        for path in sorted(directory.iterdir()):
            if path.name.isdigit():
                stat = path.stat()
                number = int(path.name)
                parts.append(
                    UploadedPart(
                        number=number,
                        size=stat.st_size,
                        etag=f"{number}-{stat.st_size}",
                        modified=datetime.fromtimestamp(stat.st_mtime, UTC),
                    )
                )
        return parts

    def complete_multipart(self, key: str, upload_id: str) -> ObjectInfo:
        parts = self.list_parts(key, upload_id)
        if not parts:
            raise StorageError("no parts uploaded")
        directory = self._upload_dir(upload_id)
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{uuid.uuid4().hex}")
        with partial.open("wb") as out:
            for part in parts:
                with (directory / f"{part.number:05d}").open("rb") as handle:
                    shutil.copyfileobj(handle, out, 1024 * 1024)
        os.replace(partial, target)
        shutil.rmtree(directory, ignore_errors=True)
        return ObjectInfo(key=key, size=target.stat().st_size)

    def abort_multipart(self, key: str, upload_id: str) -> None:
        shutil.rmtree(self._upload_dir(upload_id), ignore_errors=True)

    def open_uploads(self, prefix: str) -> list[OpenUpload]:
        """Every upload folder (with partial parts too); started = its last change."""
        root = self.root / "multipart"
        if not root.is_dir():
            return []
        uploads = []
        for directory in root.iterdir():
            if not directory.name.isalnum():
                continue
            try:
                changed = max(
                    [directory.stat().st_mtime] + [p.stat().st_mtime for p in directory.iterdir()]
                )
            except (FileNotFoundError, NotADirectoryError):
                continue  # completed or aborted meanwhile
            uploads.append(OpenUpload(None, directory.name, datetime.fromtimestamp(changed, UTC)))
        return uploads

    def check(self) -> str | None:
        if not os.access(self.root, os.W_OK):
            return "media folder not writable"
        return None
