"""The HLS ladder on a 60 s 720p clip with noise: realtime factor (target ≥ 2×) and the task's
overhead against the same bare ffmpeg command (target ≤ 5 %).

Test patterns compress unrealistically well, so the clip is testsrc2 with temporal noise. The
task path is the real one: the source in storage, ``media.process_asset`` downloads it, sniffs,
probes, runs the ladder, uploads the outputs and records them. The bare run is the argv the task
builds, fed the same file on stdin. Each is run twice, alternating; the faster run of each counts.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from bench import build_app, throwaway_database

SECONDS = 60
TARGET_REALTIME = 2.0
TARGET_OVERHEAD = 0.05
ROUNDS = 2


def make_clip(path: Path) -> None:
    """60 s of 1280×720 at 30 fps with noise, and a tone; H.264/AAC MP4 (faststart)."""
    subprocess.run(
        [
            "ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc2=size=1280x720:rate=30:duration={SECONDS}",
            "-f", "lavfi", "-i", f"sine=frequency=440:duration={SECONDS}",
            "-vf", "noise=alls=25:allf=t+u",
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart", str(path),
        ],
        check=True,
        timeout=600,
    )  # fmt: skip


def _bare(source: Path, out_dir: Path) -> float:
    from media import transcode
    from media.pipeline import limits

    info = transcode.probe(source, "mov", limits())
    plan = transcode.plan_ladder(info, "mov", limits())
    argv = transcode.build_ladder_argv(plan, str(out_dir))
    started = time.monotonic()
    with source.open("rb") as stdin:
        subprocess.run(argv, stdin=stdin, stdout=subprocess.DEVNULL, check=True, timeout=900)
    return time.monotonic() - started


def _through_task(app, source: Path) -> tuple[float, str]:
    from elearn.extensions import db
    from elearn.models import User
    from media import tasks
    from media.models import Asset
    from media.storage import get_storage

    with app.app_context():
        owner = db.session.query(User).filter_by(username="bench_media").one_or_none()
        if owner is None:
            owner = User(username="bench_media", display_name="bench", password_hash="!")
            db.session.add(owner)
            db.session.flush()
        asset = Asset(
            owner_id=owner.id, kind="video", status="processing", original_filename="clip.mp4",
            declared_size=source.stat().st_size, declared_type="video/mp4", sniffed_type="mp4",
            size=source.stat().st_size, renditions=[], meta={}, reason_params={},
        )  # fmt: skip
        db.session.add(asset)
        db.session.commit()
        get_storage().put_file(asset.source_key, source, content_type="application/octet-stream")
        asset_id = asset.id
    started = time.monotonic()
    outcome = tasks.process_asset.delay(asset_id).get()
    elapsed = time.monotonic() - started
    return elapsed, str(outcome)


def run() -> list[str]:
    if not shutil.which("ffmpeg"):
        return ["ffmpeg not found: run scripts/system-deps.sh"]
    lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-transcode-") as tmp:
        root = Path(tmp)
        clip = root / "clip.mp4"
        started = time.monotonic()
        make_clip(clip)
        lines.append(
            f"clip: {SECONDS} s 1280x720 30 fps with noise, {clip.stat().st_size / 1e6:.1f} MB "
            f"(generated in {time.monotonic() - started:.1f} s)"
        )
        with throwaway_database("bench_media") as url:
            app = build_app(url, {"MEDIA_DIR": str(root / "media"), "S3_ENDPOINT": None})
            bare_times: list[float] = []
            task_times: list[float] = []
            for round_ in range(ROUNDS):
                out = root / f"bare{round_}"
                out.mkdir()
                with app.app_context():
                    bare_times.append(_bare(clip, out))
                elapsed, outcome = _through_task(app, clip)
                if outcome != "ready":
                    raise RuntimeError(f"task ended {outcome}")
                task_times.append(elapsed)
            with app.app_context():
                from elearn.extensions import db

                db.session.remove()
                db.engine.dispose()
    bare, task = min(bare_times), min(task_times)
    realtime = SECONDS / task
    overhead = (task - bare) / bare
    lines.append("runs (s): bare " + ", ".join(f"{t:.1f}" for t in bare_times)
                 + "; task " + ", ".join(f"{t:.1f}" for t in task_times))  # fmt: skip
    lines.append(
        f"ladder through the task: {task:.1f} s → {realtime:.2f}× realtime "
        f"(target ≥ {TARGET_REALTIME:g}×) {'OK' if realtime >= TARGET_REALTIME else 'MISSED'}"
    )
    lines.append(
        f"bare ffmpeg, same argv: {bare:.1f} s; task overhead {overhead * 100:+.1f} % "
        f"(target ≤ {TARGET_OVERHEAD * 100:g} %) {'OK' if overhead <= TARGET_OVERHEAD else 'MISSED'}"
    )
    return lines
