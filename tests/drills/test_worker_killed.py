"""The Celery worker killed (SIGKILL) mid-transcode: its lease runs out, another worker finishes,
and the asset is ready once, with one set of outputs.

The demo installation in a database and Redis broker of the drill's own, with a 10 s media lease.
A teacher's upload of a 120 s 720p video is queued to worker A (a Celery worker as production runs
it, ``-Q celery,media``); once ffmpeg is running and the asset shows progress, A's whole process
group (the worker and its ffmpeg) is killed with SIGKILL, as the kernel's OOM killer or a lost
node would. Worker B starts; the lease runs out; the sweep that beat runs every minute
(``media.requeue_stale``, sent here as beat sends it) queues the asset again, and B transcodes
it. Then: the asset is ready, processed in two attempts, its lease released; the storage holds
exactly one output set under the ladder's version (each rendition one playlist whose segments
are all there, none twice); and the unacknowledged message of the killed worker, delivered
again, changes nothing.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from celery import Celery

from media.transcode.ladder import LADDER_VERSION
from tests.conftest import PG_ADMIN_URL
from tests.e2e import conftest as e2e

e2e_artifacts = e2e.e2e_artifacts

LEASE_SECONDS = 10
WAIT = 240.0


@pytest.fixture(scope="module")
def installation(e2e_artifacts, tmp_path_factory) -> Iterator[dict[str, str]]:
    media = tmp_path_factory.mktemp("drill-media")
    name = f"elearn_worker_drill_{os.getpid()}"
    with (
        e2e._own_redis_db() as redis_url,
        e2e._seeded_environment(redis_url, e2e_artifacts, media, name=name) as env,
    ):
        yield {**env, "ELEARN_MEDIA_LEASE_SECONDS": str(LEASE_SECONDS), "_DATABASE": name}


def _worker(
    env: dict[str, str], artifacts: Path, name: str
) -> tuple[subprocess.Popen[bytes], Path]:
    argv = [str(e2e.BIN / "celery"), "-A", "app.celery_app", "worker", "-Q", "celery,media",
            "--pool=solo", "-l", "info", "-n", f"{name}-{os.getpid()}@%h",
            "--without-gossip", "--without-mingle"]  # fmt: skip
    log = e2e._log_file(artifacts, name)
    return e2e._start(argv, env, log), log


def _asset(env: dict[str, str], asset_id: str) -> dict[str, Any]:
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + env["_DATABASE"]
    with psycopg.connect(url, autocommit=True) as connection:
        row = connection.execute(
            "SELECT status, progress, attempts, lock_owner, renditions, reason"
            " FROM assets WHERE id = %s",
            (asset_id,),
        ).fetchone()
    assert row is not None, asset_id
    return dict(
        zip(["status", "progress", "attempts", "owner", "renditions", "reason"], row, strict=True)
    )


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"  # a zombie has ended (its new parent has not reaped it yet)


def _until(what: str, check, seconds: float = WAIT, every: float = 0.5) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        outcome = check()
        if outcome:
            return outcome
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {seconds:.0f} s", pytrace=False)
        time.sleep(every)


def _children(parent: int, name: str) -> list[int]:
    """The living processes called ``name`` whose parent is ``parent`` (read from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # ended while we looked
            continue
        comm, rest = text[text.index("(") + 1 : text.rindex(")")], text[text.rindex(")") + 2 :]
        state, ppid = rest.split()[:2]
        if comm == name and int(ppid) == parent and state != "Z":
            found.append(int(stat.parent.name))
    return found


def _processes() -> str:
    """What ran when a step did not happen, for the failure's report."""
    listing = ["ps", "-eo", "pid,ppid,pgid,stat,etime,args"]
    return subprocess.run(listing, capture_output=True, text=True).stdout


UPLOAD = """
import sys
from pathlib import Path
from app import app
from elearn import uow
from elearn.models import User
from elearn.extensions import db
from sqlalchemy import select
from tests.media.conftest import upload
with app.app_context(), app.test_request_context(), uow.unit():
    teacher = db.session.scalars(select(User).where(User.username == "teacher1")).one()
    asset = upload(teacher, Path(sys.argv[1]), "video/mp4", "lesson.mp4")
    print(asset.id)
"""


def test_a_worker_killed_mid_transcode_is_finished_by_another_once(
    installation, e2e_artifacts, tmp_path
):
    env = installation
    video = tmp_path / "lesson.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=25:duration=120",
         "-f", "lavfi", "-i", "sine=frequency=440:duration=120", "-c:v", "libx264",
         "-preset", "ultrafast", "-c:a", "aac", "-shortest", "-movflags", "+faststart",
         str(video)],
        check=True, timeout=120,
    )  # fmt: skip
    first, _ = _worker(env, e2e_artifacts, "drill-worker-a")
    second = None
    probe = Celery(broker=env["ELEARN_BROKER_URL"], set_as_current=False)
    try:
        uploaded = subprocess.run(
            [str(e2e.BIN / "python"), "-c", UPLOAD, str(video)],
            cwd=e2e.ROOT, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert uploaded.returncode == 0, uploaded.stderr[-3000:]
        asset_id = uploaded.stdout.strip().splitlines()[-1]
        probe.send_task("media.process_asset", args=(asset_id,), queue="media")  # as the API does

        # worker A holds the lease (its owner names A's pid) and its ffmpeg is at work: ffmpeg
        # runs in a session of its own (its watchdog kills that group), as A's child
        def transcoding() -> list[int]:
            asset = _asset(env, asset_id)
            if not asset["owner"] or asset["progress"] < 10:
                return []
            assert asset["owner"].split(":")[1] == str(first.pid), (asset, first.pid)
            return _children(first.pid, "ffmpeg")

        try:
            transcoders = _until("worker A's ffmpeg at work", transcoding, 90, every=0.1)
        except BaseException:
            print("worker A:", first.pid, _asset(env, asset_id), _processes(), sep="\n")
            raise
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        killed = _asset(env, asset_id)
        assert killed["status"] == "processing" and killed["attempts"] == 1, killed
        # the orphaned ffmpeg writes no more: its next progress line meets a closed pipe
        _until("A's ffmpeg to end", lambda: not any(_alive(pid) for pid in transcoders), 15)

        second, second_log = _worker(env, e2e_artifacts, "drill-worker-b")
        _until("worker B's ping", lambda: probe.control.ping(timeout=1.0), 60)
        time.sleep(LEASE_SECONDS + 1)  # A's lease runs out
        probe.send_task("media.requeue_stale")  # what beat sends every minute
        done = _until(
            "the asset ready", lambda: (a := _asset(env, asset_id))["status"] != "processing" and a
        )
        assert done["status"] == "ready", done
        assert done["attempts"] == 2 and done["owner"] is None, done

        # one output set: each rendition's playlist names segments that all exist, none twice
        outputs = Path(env["ELEARN_MEDIA_DIR"]) / "objects" / "assets" / asset_id
        versions = sorted(p.name for p in outputs.iterdir() if p.is_dir())
        assert versions == [f"v{LADDER_VERSION}"], versions
        for rendition in done["renditions"]:
            folder = outputs / f"v{LADDER_VERSION}" / rendition["name"]
            listed = re.findall(r"^(?!#)(\S+)$", (folder / "index.m3u8").read_text(), re.M)
            assert listed and len(listed) == len(set(listed)), listed
            on_disk = sorted(p.name for p in folder.iterdir() if p.name != "index.m3u8")
            assert on_disk == sorted(listed), (rendition["name"], on_disk, listed)

        # the killed worker's message, delivered again (the broker's visibility timeout), is a no-op
        result = probe.send_task("media.process_asset", args=(asset_id,), queue="media")
        _until(
            "the second delivery",
            lambda: f"media.process_asset[{result.id}] succeeded" in second_log.read_text(),
            60,
        )
        again = _asset(env, asset_id)
        assert again == done
    finally:
        probe.close()
        for worker in (first, second):
            if worker is not None:
                e2e._stop(worker, grace=15.0)
