"""The documented deploy step (deploy/minio-cors.xml) gives browsers on the app's origin CORS."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import requests

ORIGIN = "https://elearn.example.org"
CORS_XML = Path(__file__).resolve().parents[2] / "deploy" / "minio-cors.xml"


def _preflight(url: str, origin: str, method: str) -> requests.Response:
    return requests.options(
        url,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "content-type",
        },
        timeout=10,
    )


def test_the_documented_bucket_cors_allows_the_app_origin_only(s3_server, minio_storage):
    upload_id = minio_storage.create_multipart("assets/c/source", "application/octet-stream")
    # the deploy step (mc cors set ALIAS/BUCKET deploy/minio-cors.xml), as an S3 PutBucketCors
    applied = requests.put(
        f"{s3_server}/{minio_storage.bucket}?cors", data=CORS_XML.read_bytes(), timeout=10
    )
    assert applied.status_code == 200, applied.text
    part_url = minio_storage.part_url("assets/c/source", upload_id, 1, timedelta(minutes=5))
    allowed = _preflight(part_url, ORIGIN, "PUT")
    assert allowed.status_code == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "PUT" in allowed.headers["Access-Control-Allow-Methods"]
    assert allowed.headers["Access-Control-Expose-Headers"] == "ETag"
    sent = requests.put(
        part_url,
        data=b"x" * 100,
        headers={"Origin": ORIGIN, "Content-Type": "application/octet-stream"},
        timeout=10,
    )
    assert sent.status_code == 200 and sent.headers["ETag"]
    assert sent.headers["Access-Control-Expose-Headers"] == "ETag"
    minio_storage.put("assets/c/v1/seg_00000.ts", b"\x47" * 188)
    segment = minio_storage.presigned_get("assets/c/v1/seg_00000.ts", timedelta(minutes=5))
    assert _preflight(segment, ORIGIN, "GET").status_code == 200  # hls.js reads segments
    assert _preflight(part_url, "https://evil.example", "PUT").status_code == 403
    minio_storage.abort_multipart("assets/c/source", upload_id)
