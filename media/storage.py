"""Object storage behind one interface: MinIO (S3) in production, a local folder by default.

The only module that imports ``minio``. Keys are chosen by the caller from asset ids, never from
user data; buckets stay private and every URL handed to a browser is signed and expires in minutes.
The local backend signs app URLs with itsdangerous; ``media.routes`` serves them.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from flask import Flask, current_app
from itsdangerous import BadSignature, URLSafeSerializer

#: the local backend's URL prefix (``media.routes`` serves ``/media/o/<token>`` and ``/media/part/<token>``)
LOCAL_URL_PREFIX = "/media"


def _attachment(name: str) -> str:
    """A Content-Disposition for a download under ``name`` (RFC 6266: ASCII fallback + UTF-8)."""
    from urllib.parse import quote

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


# --- MinIO / S3 -------------------------------------------------------------------------------


class MinioStorage(Storage):
    """S3 through the ``minio`` client, in one private bucket."""

    def __init__(self, endpoint: str, access_key: str, secret_key: str, bucket: str,
                 *, secure: bool = False, region: str = "us-east-1") -> None:  # fmt: skip
        from minio import Minio

        host = endpoint.split("://", 1)[-1].rstrip("/")
        if endpoint.startswith("https://"):
            secure = True
        import urllib3

        # short connect timeouts and few retries: a readiness probe must answer, not hang
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=5.0, read=120.0),
            retries=urllib3.Retry(
                total=3, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]
            ),
            maxsize=10,
        )
        self.client = Minio(
            host,
            access_key=access_key,
            secret_key=secret_key,
            secure=secure,
            region=region,
            http_client=http,
        )
        self.bucket = bucket
        self._bucket_checked = False

    def _ensure_bucket(self) -> None:
        if self._bucket_checked:
            return
        if not self.client.bucket_exists(self.bucket):
            # a new bucket is private: no bucket policy is ever set
            self.client.make_bucket(self.bucket)
        self._bucket_checked = True

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        from minio.error import MinioException

        self._ensure_bucket()
        try:
            return fn(*args, **kwargs)
        except (MinioException, OSError) as error:
            raise StorageError(f"{type(error).__name__}: {error}") from error

    def put(self, key: str, data: bytes | IO[bytes], *, length: int | None = None,
            content_type: str = "application/octet-stream") -> None:  # fmt: skip
        import io

        if isinstance(data, bytes):
            length = len(data)
            data = io.BytesIO(data)
        self._call(
            self.client.put_object,
            self.bucket,
            key,
            data,
            length if length is not None else -1,
            content_type=content_type,
            part_size=0 if length is not None else 16 * 1024 * 1024,
        )

    def get(self, key: str) -> bytes:
        response = self._call(self.client.get_object, self.bucket, key)
        try:
            return bytes(response.read())
        finally:
            response.close()
            response.release_conn()

    def download(self, key: str, path: Path) -> None:
        self._call(self.client.fget_object, self.bucket, key, str(path))

    def read_range(self, key: str, offset: int, length: int) -> bytes:
        response = self._call(self.client.get_object, self.bucket, key, offset, length)
        try:
            return bytes(response.read())
        finally:
            response.close()
            response.release_conn()

    def stat(self, key: str) -> ObjectInfo | None:
        from minio.error import S3Error

        self._ensure_bucket()
        try:
            info = self.client.stat_object(self.bucket, key)
        except S3Error as error:
            if error.code in {"NoSuchKey", "NoSuchObject", "NotFound", "ResourceNotFound"}:
                return None
            raise StorageError(str(error)) from error
        except OSError as error:
            raise StorageError(str(error)) from error
        return ObjectInfo(key=key, size=int(info.size or 0), content_type=info.content_type)

    def remove(self, key: str) -> None:
        self._call(self.client.remove_object, self.bucket, key)

    def list_keys(self, prefix: str) -> list[str]:
        objects = self._call(self.client.list_objects, self.bucket, prefix=prefix, recursive=True)
        return sorted(o.object_name for o in objects if o.object_name)

    def presigned_get(self, key: str, expires: timedelta, *, download_name: str | None = None,
                      content_type: str | None = None) -> str:  # fmt: skip
        headers: dict[str, str | list[str] | tuple[str]] = {}
        if download_name:
            headers["response-content-disposition"] = _attachment(download_name)
        if content_type:
            headers["response-content-type"] = content_type
        return str(
            self._call(
                self.client.presigned_get_object,
                self.bucket,
                key,
                expires=expires,
                response_headers=headers or None,
            )
        )

    def create_multipart(self, key: str, content_type: str) -> str:
        return str(
            self._call(
                self.client._create_multipart_upload,
                self.bucket,
                key,
                {"Content-Type": content_type},
            )
        )

    def part_url(self, key: str, upload_id: str, number: int, expires: timedelta) -> str:
        return str(
            self._call(
                self.client.get_presigned_url,
                "PUT",
                self.bucket,
                key,
                expires=expires,
                extra_query_params={"uploadId": upload_id, "partNumber": str(number)},
            )
        )

    def list_parts(self, key: str, upload_id: str) -> list[UploadedPart]:
        parts: list[UploadedPart] = []
        marker = 0
        while True:
            result = self._call(
                self.client._list_parts, self.bucket, key, upload_id, part_number_marker=marker
            )
            for part in result.parts:
                parts.append(
                    UploadedPart(
                        number=part.part_number,
                        size=int(part.size),
                        etag=part.etag,
                        modified=part.last_modified,
                    )
                )
            if not result.is_truncated:
                break
            marker = result.next_part_number_marker
        return parts

    def complete_multipart(self, key: str, upload_id: str) -> ObjectInfo:
        from minio.datatypes import Part

        parts = self.list_parts(key, upload_id)
        if not parts:
            raise StorageError("no parts uploaded")
        self._call(
            self.client._complete_multipart_upload,
            self.bucket,
            key,
            upload_id,
            [Part(p.number, p.etag) for p in parts],
        )
        info = self.stat(key)
        if info is None:
            raise StorageError("object missing after completing the upload")
        return info

    def abort_multipart(self, key: str, upload_id: str) -> None:
        self._call(self.client._abort_multipart_upload, self.bucket, key, upload_id)

    def open_uploads(self, prefix: str) -> list[OpenUpload]:
        uploads: list[OpenUpload] = []
        key_marker: str | None = None
        id_marker: str | None = None
        while True:
            result = self._call(
                self.client._list_multipart_uploads,
                self.bucket,
                prefix=prefix,
                key_marker=key_marker,
                upload_id_marker=id_marker,
            )
            for upload in result.uploads:
                if upload.upload_id:
                    uploads.append(
                        OpenUpload(upload.object_name, upload.upload_id, upload.initiated_time)
                    )
            if not result.is_truncated or not result.uploads:
                break
            key_marker, id_marker = result.uploads[-1].object_name, result.uploads[-1].upload_id
        return uploads

    def check(self) -> str | None:
        try:
            self.client.bucket_exists(self.bucket)
        except Exception as error:  # noqa: BLE001 - a probe reports, never raises
            return type(error).__name__
        return None


# --- local folder -----------------------------------------------------------------------------


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


# --- the app's storage ------------------------------------------------------------------------


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
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]  # current_app is typed as Flask, not as the LocalProxy it is
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
