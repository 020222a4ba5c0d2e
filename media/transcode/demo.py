"""The demo seed's generated clips (no upload involved)."""

from __future__ import annotations

from pathlib import Path

import ffmpeg  # ffmpeg-python: builds the argv; the runner runs it

from media.transcode.runner import Limits, TranscodeError, compile_argv, run_simple

#: the font the demo clip's title is drawn in (scripts/system-deps.sh installs it)
DEMO_FONT = "WenQuanYi Micro Hei"


def build_demo_clip_argv(out_path: str, *, title: str, seconds: float, width: int = 640,
                         height: int = 360, text: bool = True) -> list[str]:  # fmt: skip
    """A generated MP4 for the demo seed (no upload involved): a dark blue field with moving
    film-grain noise, the title and a running clock, over a quiet 440 Hz tone (pure)."""
    video = ffmpeg.input(f"color=c=0x173f5f:s={width}x{height}:r=25:d={seconds:g}", f="lavfi")
    video = video.filter("noise", alls=16, allf="t+u")
    if text:
        box = {"box": 1, "boxcolor": "black@0.45", "boxborderw": 14, "font": DEMO_FONT,
               "fontcolor": "white", "expansion": "none"}  # fmt: skip
        video = video.filter("drawtext", text=title, fontsize=max(18, height // 12),
                             x="(w-tw)/2", y="(h-th)/2", **box)  # fmt: skip
        video = video.filter("drawtext", text="%{pts:hms}", fontsize=max(12, height // 24),
                             x="w-tw-16", y="h-th-16", font=DEMO_FONT, fontcolor="white@0.8")  # fmt: skip
    tone = ffmpeg.input(f"sine=frequency=440:sample_rate=48000:d={seconds:g}", f="lavfi")
    tone = tone.filter("volume", 0.2)
    out = ffmpeg.output(
        video, tone, out_path, f="mp4", t=f"{seconds:g}", pix_fmt="yuv420p", movflags="+faststart",
        **{"c:v": "libx264", "preset": "veryfast", "crf": 26, "c:a": "aac", "b:a": "96k"},
    )  # fmt: skip
    return compile_argv([out], overwrite=True)


def make_demo_clip(out_path: Path, *, title: str, seconds: float = 7.0) -> None:
    """Write a demo clip; without the title if the font or drawtext is missing."""
    limits = Limits()
    for text in (True, False):
        argv = build_demo_clip_argv(str(out_path), title=title, seconds=seconds, text=text)
        result = run_simple(argv, None, limits, limits.probe_timeout * 4)
        if result.returncode == 0 and out_path.is_file() and out_path.stat().st_size > 0:
            return
    raise TranscodeError(result.stderr[-2000:].decode("utf-8", "replace"))
