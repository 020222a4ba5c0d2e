"""The HLS ladder on a 60 s 720p clip with noise: realtime factor (target ≥ 2×) and the task's
overhead against the same bare ffmpeg command (target ≤ 5 %).

Test patterns compress unrealistically well, so the clip is testsrc2 with temporal noise. The
task path is the real one: the source in storage, ``media.process_asset`` downloads it, sniffs,
probes, runs the ladder, uploads the outputs and records them. The bare run is the argv the task
builds, fed the same file on stdin. Each is run twice, alternating; the faster run of each counts.
"""

from __future__ import annotations

import os
import resource
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
    """60 s of 1280×720 at 30 fps with noise, and a tone; H.264/AAC MP4 (faststart).

    Noise is slow to render, so 10 s are rendered and looped six times (stream copy): the
    encoder under test still sees noise in every frame.
    """
    piece = path.with_name("piece.mp4")
    subprocess.run(
        [
            "ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30:duration=10",
            "-f", "lavfi", "-i", "sine=frequency=440:duration=10",
            "-vf", "noise=alls=25:allf=t+u",
            # about what a phone records at 720p (6 Mb/s), not a lossless-looking monster
            "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "6M", "-maxrate", "6M",
            "-bufsize", "12M", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-b:a", "128k", str(piece),
        ],
        check=True,
        timeout=1200,
    )  # fmt: skip
    subprocess.run(
        [
            "ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-stream_loop", "5",
            "-i", str(piece), "-c", "copy", "-t", str(SECONDS), "-movflags", "+faststart",
            str(path),
        ],
        check=True,
        timeout=600,
    )  # fmt: skip
    piece.unlink()


def cached_clip() -> Path:
    """The clip, made once per machine (kept in the temp folder between runs)."""
    path = Path(tempfile.gettempdir()) / "elearn-bench-transcode-v2.mp4"
    if not path.exists():
        partial = path.with_name(f".{path.name}.{os.getpid()}.mp4")
        make_clip(partial)
        os.replace(partial, path)
    return path


def _cpu() -> float:
    """CPU seconds used so far by this process and its finished children (ffmpeg)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def _bare(source: Path, out_dir: Path) -> tuple[float, float]:
    from media.pipeline import limits
    from media.transcode import ladder, probing

    info = probing.probe(source, "mov", limits())
    plan = ladder.plan_ladder(info, "mov", limits())
    argv = ladder.build_ladder_argv(plan, str(out_dir))
    started, cpu = time.monotonic(), _cpu()
    with source.open("rb") as stdin:
        subprocess.run(argv, stdin=stdin, stdout=subprocess.DEVNULL, check=True, timeout=3600)
    return time.monotonic() - started, _cpu() - cpu


def _through_task(app, source: Path) -> tuple[float, float, str]:
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
    started, cpu = time.monotonic(), _cpu()
    outcome = tasks.process_asset.delay(asset_id).get()
    return time.monotonic() - started, _cpu() - cpu, str(outcome)


def run() -> list[str]:
    if not shutil.which("ffmpeg"):
        return ["ffmpeg not found: run scripts/system-deps.sh"]
    lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-transcode-") as tmp:
        root = Path(tmp)
        started = time.monotonic()
        clip = cached_clip()
        lines.append(
            f"clip: {SECONDS} s 1280x720 30 fps with noise, {clip.stat().st_size / 1e6:.1f} MB "
            f"(ready in {time.monotonic() - started:.1f} s)"
        )
        load = os.getloadavg()[0]
        lines.append(f"load average before: {load:.1f} on {os.cpu_count()} cores")
        with throwaway_database("bench_media") as url:
            app = build_app(url, {"MEDIA_DIR": str(root / "media"), "S3_ENDPOINT": None})
            bare_times: list[float] = []
            task_times: list[float] = []
            bare_cpu: list[float] = []
            task_cpu: list[float] = []
            for round_ in range(ROUNDS):
                out = root / f"bare{round_}"
                out.mkdir()
                with app.app_context():
                    wall, cpu = _bare(clip, out)
                bare_times.append(wall)
                bare_cpu.append(cpu)
                wall, cpu, outcome = _through_task(app, clip)
                if outcome != "ready":
                    raise RuntimeError(f"task ended {outcome}")
                task_times.append(wall)
                task_cpu.append(cpu)
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
    # CPU seconds barely move when other processes share the cores; wall time does
    cpu_overhead = (min(task_cpu) - min(bare_cpu)) / min(bare_cpu)
    lines.append(
        "CPU s: bare "
        + ", ".join(f"{t:.1f}" for t in bare_cpu)
        + "; task "
        + ", ".join(f"{t:.1f}" for t in task_cpu)
        + f" → task overhead in CPU time {cpu_overhead * 100:+.1f} %"
    )
    lines.append(
        f"load average after: {os.getloadavg()[0]:.1f} (wall times are only meaningful near 0)"
    )
    return lines
