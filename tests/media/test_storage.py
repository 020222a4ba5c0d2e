"""Both storage backends through the one interface; MinIO's against moto's S3 server."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import requests

from media.storage import LocalStorage, StorageError

MB = 1024 * 1024


def test_minio_put_get_stat_list_remove(minio_storage):
    minio_storage.put("assets/a1/source", b"hello world", content_type="text/plain")
    minio_storage.put("assets/a1/v1/x.ts", b"12345")
    assert minio_storage.get("assets/a1/source") == b"hello world"
    assert minio_storage.read_range("assets/a1/source", 6, 5) == b"world"
    info = minio_storage.stat("assets/a1/source")
    assert info is not None and info.size == 11
    assert minio_storage.stat("assets/a1/missing") is None
    assert minio_storage.list_keys("assets/a1/") == ["assets/a1/source", "assets/a1/v1/x.ts"]
    assert minio_storage.remove_prefix("assets/a1/v1/") == 1
    minio_storage.remove("assets/a1/source")
    assert minio_storage.list_keys("assets/a1/") == []
    assert minio_storage.check() is None


def test_minio_bucket_is_private(minio_storage, s3_server):
    minio_storage.put("assets/p/source", b"secret bytes")
    plain = requests.get(f"{s3_server}/{minio_storage.bucket}/assets/p/source", timeout=5)
    assert plain.status_code == 403 or b"secret bytes" not in plain.content


def test_minio_presigned_get_and_expiry(minio_storage):
    minio_storage.put("assets/b/poster.jpg", b"JPEGDATA", content_type="image/jpeg")
    url = minio_storage.presigned_get("assets/b/poster.jpg", timedelta(minutes=2))
    assert "X-Amz-Expires=120" in url
    assert requests.get(url, timeout=5).content == b"JPEGDATA"
    short = minio_storage.presigned_get("assets/b/poster.jpg", timedelta(seconds=1))
    time.sleep(2.1)
    refused = requests.get(short, timeout=5)
    assert refused.status_code == 403
    assert b"JPEGDATA" not in refused.content


def test_minio_multipart_upload_resume_and_complete(minio_storage):
    key = "assets/c/source"
    upload_id = minio_storage.create_multipart(key, "video/mp4")
    chunks = [b"a" * (5 * MB), b"b" * (5 * MB), b"c" * 1000]
    headers = {"Content-Type": "application/octet-stream"}
    # the browser sends parts 1 and 3, then the connection drops
    for number in (1, 3):
        url = minio_storage.part_url(key, upload_id, number, timedelta(minutes=5))
        assert requests.put(url, data=chunks[number - 1], headers=headers, timeout=30).ok
    # resume: ask which parts arrived, send the missing one
    have = {p.number for p in minio_storage.list_parts(key, upload_id)}
    assert have == {1, 3}
    url = minio_storage.part_url(key, upload_id, 2, timedelta(minutes=5))
    assert requests.put(url, data=chunks[1], headers=headers, timeout=30).ok
    info = minio_storage.complete_multipart(key, upload_id)
    assert info.size == sum(len(c) for c in chunks)
    assert minio_storage.read_range(key, 5 * MB - 1, 2) == b"ab"


def test_minio_multipart_abort(minio_storage):
    key = "assets/d/source"
    upload_id = minio_storage.create_multipart(key, "video/mp4")
    url = minio_storage.part_url(key, upload_id, 1, timedelta(minutes=5))
    requests.put(url, data=b"x" * 100, headers={"Content-Type": "video/mp4"}, timeout=10)
    minio_storage.abort_multipart(key, upload_id)
    with pytest.raises(StorageError):
        minio_storage.list_parts(key, upload_id)
    assert minio_storage.stat(key) is None


def test_minio_unreachable_is_reported():
    from media.storage import MinioStorage
    from tests.conftest import free_port

    dead = MinioStorage(f"http://127.0.0.1:{free_port()}", "k", "s", "nope")
    assert dead.check() is not None


def test_local_backend_roundtrip(tmp_path):
    store = LocalStorage(tmp_path, "x" * 40)
    store.put("assets/e/source", b"data")
    store.put("assets/e/v1/720p/index.m3u8", b"#EXTM3U")
    assert store.get("assets/e/source") == b"data"
    assert store.stat("assets/e/source").size == 4
    assert store.stat("assets/e/nothing") is None
    assert store.list_keys("assets/e/") == ["assets/e/source", "assets/e/v1/720p/index.m3u8"]
    assert store.list_keys("assets/e/v1/") == ["assets/e/v1/720p/index.m3u8"]
    assert store.list_keys("assets/zz/") == []
    store.remove_prefix("assets/e/")
    assert store.list_keys("assets/") == []
    with pytest.raises(StorageError):
        store.put("../escape", b"x")
    with pytest.raises(StorageError):
        store.get("assets/../../etc/passwd")


def test_local_multipart_and_resume(tmp_path):
    store = LocalStorage(tmp_path, "x" * 40)
    key = "assets/f/source"
    upload_id = store.create_multipart(key, "video/mp4")
    store.write_part(key, upload_id, 2, iter([b"world"]), max_bytes=10)
    assert [p.number for p in store.list_parts(key, upload_id)] == [2]
    store.write_part(key, upload_id, 1, iter([b"hello "]), max_bytes=10)
    with pytest.raises(StorageError):
        store.write_part(key, upload_id, 3, iter([b"x" * 11]), max_bytes=10)
    assert store.complete_multipart(key, upload_id).size == 11
    assert store.get(key) == b"hello world"
    other = store.create_multipart(key, "video/mp4")
    store.abort_multipart(key, other)
    with pytest.raises(StorageError):
        store.list_parts(key, other)


def test_local_signed_urls_expire_and_cannot_be_forged(tmp_path):
    store = LocalStorage(tmp_path, "x" * 40)
    store.put("assets/g/poster.jpg", b"J")
    url = store.presigned_get("assets/g/poster.jpg", timedelta(minutes=2))
    token = url.rsplit("/", 1)[1]
    assert store.unsign(token)["k"] == "assets/g/poster.jpg"
    with pytest.raises(StorageError):
        store.unsign(token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    with pytest.raises(StorageError):
        LocalStorage(tmp_path, "y" * 40).unsign(token)
    expired = store.presigned_get("assets/g/poster.jpg", timedelta(seconds=-1))
    with pytest.raises(StorageError):
        store.unsign(expired.rsplit("/", 1)[1])
