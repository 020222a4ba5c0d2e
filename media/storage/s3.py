"""The MinIO (S3) backend, in one private bucket: the only module that imports ``minio``."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

import urllib3
from minio import Minio
from minio.datatypes import Part
from minio.error import MinioException, S3Error

from media.storage.base import (
    ObjectInfo,
    OpenUpload,
    Storage,
    StorageError,
    UploadedPart,
    attachment,
)

#: what the client raises when the storage cannot be reached or answers in error: refused or reset
#: connections (OSError), urllib3's own errors once its retries are spent (MaxRetryError,
#: ProtocolError…, not OSErrors), and the client's
UNAVAILABLE = (MinioException, OSError, urllib3.exceptions.HTTPError)


class MinioStorage(Storage):
    """S3 through the ``minio`` client, in one private bucket."""

    def __init__(self, endpoint: str, access_key: str, secret_key: str, bucket: str,
                 *, secure: bool = False, region: str = "us-east-1") -> None:  # fmt: skip
        host = endpoint.split("://", 1)[-1].rstrip("/")
        if endpoint.startswith("https://"):
            secure = True
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
        try:
            self._ensure_bucket()
            return fn(*args, **kwargs)
        except UNAVAILABLE as error:
            raise StorageError(f"{type(error).__name__}: {error}") from error

    def put(self, key: str, data: bytes | IO[bytes], *, length: int | None = None,
            content_type: str = "application/octet-stream") -> None:  # fmt: skip
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
        except UNAVAILABLE as error:  # the connection lost mid-body
            raise StorageError(f"{type(error).__name__}: {error}") from error
        finally:
            response.close()
            response.release_conn()

    def download(self, key: str, path: Path) -> None:
        self._call(self.client.fget_object, self.bucket, key, str(path))

    def read_range(self, key: str, offset: int, length: int) -> bytes:
        response = self._call(self.client.get_object, self.bucket, key, offset, length)
        try:
            return bytes(response.read())
        except UNAVAILABLE as error:  # the connection lost mid-body
            raise StorageError(f"{type(error).__name__}: {error}") from error
        finally:
            response.close()
            response.release_conn()

    def stat(self, key: str) -> ObjectInfo | None:
        try:
            self._ensure_bucket()
            info = self.client.stat_object(self.bucket, key)
        except S3Error as error:
            if error.code in {"NoSuchKey", "NoSuchObject", "NotFound", "ResourceNotFound"}:
                return None
            raise StorageError(str(error)) from error
        except UNAVAILABLE as error:
            raise StorageError(str(error)) from error
        return ObjectInfo(key=key, size=int(info.size or 0), content_type=info.content_type)

    def remove(self, key: str) -> None:
        self._call(self.client.remove_object, self.bucket, key)

    def list_keys(self, prefix: str) -> list[str]:
        objects = self._call(self.client.list_objects, self.bucket, prefix=prefix, recursive=True)
        try:  # the listing is read as it is iterated
            return sorted(o.object_name for o in objects if o.object_name)
        except UNAVAILABLE as error:
            raise StorageError(f"{type(error).__name__}: {error}") from error

    def presigned_get(self, key: str, expires: timedelta, *, download_name: str | None = None,
                      content_type: str | None = None) -> str:  # fmt: skip
        headers: dict[str, str | list[str] | tuple[str]] = {}
        if download_name:
            headers["response-content-disposition"] = attachment(download_name)
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
