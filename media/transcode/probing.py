"""Probing an untrusted file (ffprobe through the pipe, a packet-copy pass for the duration a
pipe cannot tell) and validating what it holds against the caps (pure, but for the runs)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import ffmpeg  # ffmpeg-python: builds the argv; the runner runs it

from media.containers import MediaRejected, Sniffed
from media.transcode import runner
from media.transcode.runner import Limits, compile_argv, run_simple, source_node


@dataclass(frozen=True)
class Probe:
    format_name: str
    duration: float | None
    streams: int
    video: dict[str, Any] | None
    audio: dict[str, Any] | None

    @property
    def rotated(self) -> bool:
        """A quarter turn in the display matrix (phones): ffmpeg turns the frames upright."""
        if not self.video:
            return False
        angles = [(self.video.get("tags") or {}).get("rotate")]
        angles += [d.get("rotation") for d in self.video.get("side_data_list") or []]
        for angle in angles:
            if angle is None:
                continue
            try:
                if int(float(angle)) % 180 == 90:
                    return True
            except (TypeError, ValueError):
                continue
        return False

    def _side(self, key: str) -> int | None:
        return int(self.video[key]) if self.video and self.video.get(key) else None

    @property
    def width(self) -> int | None:
        """Width as displayed (after any quarter-turn rotation)."""
        return self._side("height" if self.rotated else "width")

    @property
    def height(self) -> int | None:
        return self._side("width" if self.rotated else "height")

    @property
    def fps(self) -> Fraction | None:
        if not self.video:
            return None
        for key in ("avg_frame_rate", "r_frame_rate"):
            raw = self.video.get(key) or "0/0"
            num, _, den = raw.partition("/")
            if num.isdigit() and den.isdigit() and int(den) and int(num):
                return Fraction(int(num), int(den))
        return None


def build_probe_argv(demuxer: str) -> list[str]:
    """ffprobe reading stdin as ``demuxer`` and nothing else (pure).

    Built by hand, unlike the ffmpeg argv below: ffmpeg-python's ``probe()`` runs ffprobe on a
    file name itself, with no stdin pipe, no forced demuxer placement before ``-i``, no resource
    limits and no kill on timeout, so it cannot read an untrusted upload the way we must.
    """
    return [
        runner.FFPROBE, "-v", "error", "-hide_banner",
        "-protocol_whitelist", "pipe",
        "-probesize", "20000000", "-analyzeduration", "20000000",
        "-f", demuxer, "-i", "pipe:0",
        "-show_format", "-show_streams", "-of", "json",
    ]  # fmt: skip


def parse_probe(data: dict[str, Any]) -> Probe:
    """The facts we use from ffprobe's JSON (pure)."""
    streams = data.get("streams") or []
    video = next(
        (
            s
            for s in streams
            if s.get("codec_type") == "video"
            and not (s.get("disposition") or {}).get("attached_pic")
        ),
        None,
    )
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    fmt = data.get("format") or {}
    duration = None
    for raw in (fmt.get("duration"), (video or {}).get("duration"), (audio or {}).get("duration")):
        if raw is None:
            continue
        try:
            duration = float(raw)
            break
        except (TypeError, ValueError):
            continue
    return Probe(
        format_name=str(fmt.get("format_name", "")),
        duration=duration,
        streams=len(streams),
        video=video,
        audio=audio,
    )


def validate(probe: Probe, sniffed: Sniffed, limits: Limits) -> str:
    """The asset kind (video/audio/image) if within limits; MediaRejected otherwise (pure)."""
    if probe.streams > limits.max_streams:
        raise MediaRejected("limit_exceeded", what="streams")
    if sniffed.kind == "image":
        if not probe.width or not probe.height:
            raise MediaRejected("corrupt_media")
        side = max(probe.width, probe.height)
        if side > limits.max_image_side or probe.width * probe.height > limits.max_image_pixels:
            raise MediaRejected("dimensions_too_large", width=probe.width, height=probe.height)
        return "image"
    if probe.video is None and probe.audio is None:
        raise MediaRejected("no_media_streams")
    if probe.duration is None or probe.duration <= 0:
        raise MediaRejected("corrupt_media")
    if probe.duration > limits.max_duration:
        raise MediaRejected("too_long", limit_minutes=int(limits.max_duration // 60))
    if probe.video is None:
        return "audio"
    width, height = probe.width or 0, probe.height or 0
    if not width or not height:
        raise MediaRejected("corrupt_media")
    if width > limits.max_width or height > limits.max_height or width * height > limits.max_pixels:
        raise MediaRejected("dimensions_too_large", width=width, height=height)
    fps = probe.fps
    if fps is None or fps > limits.max_fps:
        raise MediaRejected("limit_exceeded", what="frame_rate")
    return "video"


def probe(path: Path, demuxer: str, limits: Limits) -> Probe:
    """Run ffprobe on a file fed through the pipe."""
    result = run_simple(build_probe_argv(demuxer), path, limits, limits.probe_timeout)
    if result.returncode != 0:
        raise MediaRejected("corrupt_media")
    try:
        return parse_probe(json.loads(result.stdout or b"{}"))
    except json.JSONDecodeError as error:
        raise MediaRejected("corrupt_media") from error


def build_measure_argv(demuxer: str, max_duration: float) -> list[str]:
    """Read every packet without decoding, to learn the duration a pipe can't tell (pure)."""
    source = source_node(demuxer)
    copy = ffmpeg.output(source["a:0?"], source["v:0?"], "-", f="null", c="copy",
                         t=f"{max_duration + 1:g}")  # fmt: skip
    return compile_argv([copy], progress=True)


def measure_duration(path: Path, demuxer: str, limits: Limits) -> float | None:
    """The media duration from a packet-copy pass (MP3, recorder WebM without a duration)."""
    result = run_simple(build_measure_argv(demuxer, limits.max_duration), path, limits,
                         limits.probe_timeout * 4)  # fmt: skip
    if result.returncode != 0:
        raise MediaRejected("corrupt_media")
    seconds = None
    for line in result.stdout.decode("ascii", "replace").splitlines():
        key, _, value = line.partition("=")
        if key == "out_time_us" and value.isdigit():
            seconds = int(value) / 1e6
    return seconds if seconds and seconds > 0 else None
