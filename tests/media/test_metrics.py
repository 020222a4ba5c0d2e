"""The media task in /metrics: a transcode is in flight while it runs, and not after it, even
when it fails; its duration is recorded by task and final state."""

from __future__ import annotations

import stat

from prometheus_client import REGISTRY

from media import pipeline, tasks
from tests.conftest import user
from tests.media.conftest import upload


def _in_flight() -> float:
    return REGISTRY.get_sample_value("elearn_media_transcodes_in_flight") or 0.0


def test_a_transcode_is_in_flight_while_it_runs(ctx, media_files, monkeypatch):
    seen: list[float] = []
    original = pipeline.report_progress

    def watch(asset, *, worker, fraction):
        seen.append(_in_flight())
        return original(asset, worker=worker, fraction=fraction)

    monkeypatch.setattr(pipeline, "report_progress", watch)
    before = _in_flight()
    ran = (
        REGISTRY.get_sample_value(
            "elearn_task_duration_seconds_count",
            {"task": "media.process_asset", "state": "SUCCESS"},
        )
        or 0.0
    )
    asset_id = upload(user("teacher1"), media_files["video"], "video/mp4").id
    assert tasks.process_asset.delay(asset_id) is not None
    assert seen and set(seen) == {before + 1}
    assert _in_flight() == before
    assert (
        REGISTRY.get_sample_value(
            "elearn_task_duration_seconds_count",
            {"task": "media.process_asset", "state": "SUCCESS"},
        )
        == ran + 1
    )


def test_a_failed_transcode_leaves_the_flight(ctx, media_files, tmp_path, monkeypatch):
    crash = tmp_path / "ffmpeg"
    crash.write_text("#!/bin/sh\nkill -SEGV $$\n")
    crash.chmod(crash.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setattr("media.transcode.runner.FFMPEG", str(crash))
    before = _in_flight()
    asset_id = upload(user("teacher1"), media_files["video"], "video/mp4").id
    tasks.process_asset(asset_id)
    assert _in_flight() == before
