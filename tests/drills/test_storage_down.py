"""The S3 server down mid-upload: the page says so and resumes by itself; nothing is left over.

moto's S3 server (standing in for MinIO) sits behind a gate (tests/drills/gate.py) that passes
about 2 MB/s, so a 24 MB upload takes a while; the app (gunicorn, as production runs it) and the
browser reach the storage through the gate only. Mid-upload the gate shuts (connections reset,
new ones refused) for longer than the page's old five tries lasted; the page shows that the
storage is unavailable and that the upload resumes by itself, the app answers its questions with
503 meanwhile; the gate opens, the page asks which parts arrived, sends the rest, completes.
Then the bucket holds the one source object and no open multipart upload: nothing is left for
the abandon sweep to find.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
import uuid
from collections.abc import Iterator

import pytest
import requests

from tests.drills.gate import Gate
from tests.e2e import conftest as e2e
from tests.media.conftest import s3_server  # noqa: F401 - moto's S3 server, a fixture

e2e_artifacts = e2e.e2e_artifacts
browser = e2e.browser
shot = e2e.shot

SIZE = 24 * 1024 * 1024
CORS = """<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin>
<AllowedMethod>PUT</AllowedMethod><AllowedMethod>GET</AllowedMethod><AllowedHeader>*</AllowedHeader>
<ExposeHeader>ETag</ExposeHeader></CORSRule></CORSConfiguration>"""


@pytest.fixture(scope="module")
def storage_behind_a_gate(s3_server) -> Iterator[tuple[Gate, str, str]]:  # noqa: F811
    bucket = f"drill-{uuid.uuid4().hex[:10]}"
    assert requests.put(f"{s3_server}/{bucket}", timeout=10).status_code == 200
    assert requests.put(f"{s3_server}/{bucket}?cors", data=CORS, timeout=10).status_code == 200
    gate = Gate(int(s3_server.rsplit(":", 1)[1]), bytes_per_second=2 * 1024 * 1024)
    gate.open()
    try:
        yield gate, s3_server, bucket
    finally:
        gate.shut()


@pytest.fixture(scope="module")
def server(storage_behind_a_gate, e2e_artifacts, tmp_path_factory) -> Iterator[str]:
    gate, _, bucket = storage_behind_a_gate
    name = f"elearn_storage_drill_{os.getpid()}"
    with (
        e2e._own_redis_db() as redis_url,
        e2e._seeded_environment(
            redis_url, e2e_artifacts, tmp_path_factory.mktemp("m"), name=name
        ) as env,
    ):
        env = {**env, "S3_ENDPOINT": f"127.0.0.1:{gate.port}", "S3_ACCESS_KEY": "drill",
               "S3_SECRET_KEY": "drill-secret", "S3_BUCKET": bucket,
               "ELEARN_MEDIA_PART_SIZE": str(5 * 1024 * 1024)}  # fmt: skip
        with e2e.web_process(env, e2e_artifacts, "storage-drill") as url:
            yield url


def _open_uploads(s3: str, bucket: str) -> list[str]:
    listing = requests.get(f"{s3}/{bucket}?uploads", timeout=10).text
    return re.findall(r"<UploadId>([^<]+)</UploadId>", listing)


def _keys(s3: str, bucket: str) -> list[str]:
    listing = requests.get(f"{s3}/{bucket}?list-type=2", timeout=10).text
    return re.findall(r"<Key>([^<]+)</Key>", listing)


def test_an_upload_waits_out_the_storage_and_completes(
    storage_behind_a_gate, server, browser, tmp_path, shot
):
    gate, s3, bucket = storage_behind_a_gate
    video = tmp_path / "宣传片.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=10:duration=2",
         "-c:v", "libx264", "-preset", "ultrafast", "-movflags", "+faststart", str(video)],
        check=True, timeout=120,
    )  # fmt: skip
    with video.open("ab") as padding:  # an MP4 as the upload sees its start; processing is not
        padding.write(os.urandom(SIZE - video.stat().st_size))  # the drill's (no worker runs)
    context = browser.new_context(base_url=server, viewport=e2e.PHONE, locale="zh-CN")
    context.set_default_timeout(e2e.WAIT_MS)
    try:
        page = context.new_page()
        page.wait_for_function = e2e._polled_from_here(page)
        e2e.sign_in(page, "teacher1")
        page.goto("/media/upload")
        page.set_input_files("#media-file", str(video))
        page.click("#media-start")
        page.wait_for_function(
            "Number(document.querySelector('.progress').getAttribute('aria-valuenow')) >= 30",
            timeout=60_000,
        )
        asset_id = page.get_attribute("#media-upload", "data-asset-id")
        gate.shut()
        shut_at = time.monotonic()
        try:
            page.wait_for_function(
                "document.getElementById('media-upload').dataset.state === 'waiting'",
                timeout=30_000,
            )
            assert "存储服务暂时不可用" in page.inner_text("#media-phase")
            shot(page, "waiting")
            # the app answers the page's questions with 503 while the storage is away
            status = page.evaluate(
                "id => fetch('/api/v1/media/uploads/' + id).then(r => r.status)", asset_id
            )
            assert status == 503
            time.sleep(max(0.0, 20 - (time.monotonic() - shut_at)))  # longer than 5 tries took
            assert page.get_attribute("#media-upload", "data-state") == "waiting"
        finally:
            gate.open()
        try:
            page.wait_for_function(
                "['processing', 'ready'].includes(document.getElementById('media-upload').dataset.state)",
                timeout=120_000,
            )
        except Exception:
            pytest.fail(
                f"the upload did not resume: {page.get_attribute('#media-upload', 'data-state')} "
                f"{page.inner_text('#media-status')!r}",
                pytrace=False,
            )
        assert page.is_hidden("#media-reason")
    finally:
        context.close()

    assert _open_uploads(s3, bucket) == []
    assert [key for key in _keys(s3, bucket) if asset_id in key] == [f"assets/{asset_id}/source"]
