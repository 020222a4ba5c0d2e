"""The only module that runs ffmpeg, ffprobe (and pdftoppm): pure argv builders and one runner.

ffmpeg's argv is built with ffmpeg-python (inputs, filter graph, outputs, ``.compile()``) and run
by our own runner, never by ffmpeg-python's ``run()``: stdin is the upload, with rlimits and a
watchdog.

Untrusted bytes reach ffmpeg through a pipe (``pipe:0``) with ``-protocol_whitelist pipe`` and a
demuxer forced from the sniffed magic bytes, so no playlist, concat script or reference inside a
file can open another file or a network connection. Every run has caps (duration, dimensions,
frame rate, streams, output size, memory, wall time).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import resource
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import ffmpeg  # ffmpeg-python: builds the argv; the runner below runs it

from media.containers import MediaRejected, Sniffed, mp4_faststart, read_epub, sniff

FFMPEG = os.environ.get("ELEARN_FFMPEG", "ffmpeg")
FFPROBE = os.environ.get("ELEARN_FFPROBE", "ffprobe")


class TranscodeError(RuntimeError):
    """ffmpeg failed in a way that may pass on another try (crash, killed, out of disk)."""


@dataclass(frozen=True)
class Limits:
    max_duration: float = 3 * 3600.0
    max_width: int = 4096
    max_height: int = 4096
    max_pixels: int = 4096 * 2304
    max_fps: float = 120.0
    max_streams: int = 8
    max_image_side: int = 16384
    max_image_pixels: int = 50_000_000
    image_output_side: int = 2048
    max_output_bytes: int = 4 * 1024**3
    max_memory_bytes: int = 3 * 1024**3
    #: wall time allowed: base + factor × media duration
    timeout_base: float = 300.0
    timeout_factor: float = 8.0
    probe_timeout: float = 30.0
    threads: int = 0
    #: a PDF's first pages rendered as images for phones: how many, and their long side
    max_document_pages: int = 60
    page_image_side: int = 1400


@dataclass(frozen=True)
class Rung:
    name: str
    height: int
    video_bitrate: int
    audio_bitrate: int


#: the ladder recipe; bump LADDER_VERSION when it changes so outputs land under new keys
LADDER_VERSION = 1
VIDEO_RUNGS = (Rung("360p", 360, 600_000, 96_000), Rung("720p", 720, 2_500_000, 128_000))
AUDIO_BITRATE = 64_000
SEGMENT_SECONDS = 2
OUTPUT_FPS_CAP = 30.0
THUMB_WIDTH = 160
THUMB_COLUMNS = 10
MAX_THUMBS = 100


# --- probing ----------------------------------------------------------------------------------


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
        FFPROBE, "-v", "error", "-hide_banner",
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
    result = _run_simple(build_probe_argv(demuxer), path, limits, limits.probe_timeout)
    if result.returncode != 0:
        raise MediaRejected("corrupt_media")
    try:
        return parse_probe(json.loads(result.stdout or b"{}"))
    except json.JSONDecodeError as error:
        raise MediaRejected("corrupt_media") from error


def build_measure_argv(demuxer: str, max_duration: float) -> list[str]:
    """Read every packet without decoding, to learn the duration a pipe can't tell (pure)."""
    source = _source(demuxer)
    copy = ffmpeg.output(source["a:0?"], source["v:0?"], "-", f="null", c="copy",
                         t=f"{max_duration + 1:g}")  # fmt: skip
    return _compile([copy], progress=True)


def measure_duration(path: Path, demuxer: str, limits: Limits) -> float | None:
    """The media duration from a packet-copy pass (MP3, recorder WebM without a duration)."""
    result = _run_simple(build_measure_argv(demuxer, limits.max_duration), path, limits,
                         limits.probe_timeout * 4)  # fmt: skip
    if result.returncode != 0:
        raise MediaRejected("corrupt_media")
    seconds = None
    for line in result.stdout.decode("ascii", "replace").splitlines():
        key, _, value = line.partition("=")
        if key == "out_time_us" and value.isdigit():
            seconds = int(value) / 1e6
    return seconds if seconds and seconds > 0 else None


# --- the ladder -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LadderPlan:
    demuxer: str
    duration: float
    has_audio: bool
    has_video: bool
    width: int = 0
    height: int = 0
    fps: Fraction = Fraction(25)
    rungs: tuple[Rung, ...] = ()
    poster_at: float = 0.0
    thumb_interval: float = 0.0
    thumb_count: int = 0
    thumb_height: int = 0
    threads: int = 0
    max_duration: float = 3 * 3600.0

    @property
    def gop(self) -> int:
        """Frames per keyframe interval: one segment, so every rung cuts at the same instants."""
        return max(1, round(SEGMENT_SECONDS * self.fps))

    @property
    def thumb_rows(self) -> int:
        return max(1, math.ceil(self.thumb_count / THUMB_COLUMNS))


def _even(value: float) -> int:
    return max(2, int(round(value / 2)) * 2)


def plan_ladder(probe: Probe, demuxer: str, limits: Limits) -> LadderPlan:
    """Which rungs, frame rate, poster time and thumbnail strip a source gets (pure)."""
    duration = float(probe.duration or 0)
    if probe.video is None:
        return LadderPlan(
            demuxer=demuxer, duration=duration, has_audio=True, has_video=False,
            threads=limits.threads, max_duration=limits.max_duration,
        )  # fmt: skip
    width, height = probe.width or 0, probe.height or 0
    short_side = min(width, height)
    rungs = tuple(r for r in VIDEO_RUNGS if r.height <= short_side)
    if not rungs:
        # smaller than the lowest rung: one rung at the source's own size
        base = VIDEO_RUNGS[0]
        bitrate = max(150_000, int(base.video_bitrate * short_side / base.height))
        rungs = (Rung(f"{_even(short_side)}p", _even(short_side), bitrate, base.audio_bitrate),)
    fps = probe.fps or Fraction(25)
    if fps > OUTPUT_FPS_CAP:
        fps = Fraction(OUTPUT_FPS_CAP)
    interval = max(2.0, duration / MAX_THUMBS)
    count = max(1, min(MAX_THUMBS, math.ceil(duration / interval)))
    thumb_height = (
        _even(THUMB_WIDTH * height / width) if width >= height else _even(THUMB_WIDTH * 16 / 9)
    )
    return LadderPlan(
        demuxer=demuxer,
        duration=duration,
        has_audio=probe.audio is not None,
        has_video=True,
        width=width,
        height=height,
        fps=fps,
        rungs=rungs,
        poster_at=round(min(5.0, duration * 0.1), 3),
        thumb_interval=round(interval, 3),
        thumb_count=count,
        thumb_height=thumb_height,
        threads=limits.threads,
        max_duration=limits.max_duration,
    )


#: every ffmpeg run: no banner, no reading the terminal, errors only, no stats line
QUIET_ARGS = ("-hide_banner", "-nostdin", "-loglevel", "error", "-nostats")
#: no subtitle, data or attachment stream leaves ffmpeg, whatever the source carries
NO_SIDE_STREAMS = {"sn": None, "dn": None}


def _source(demuxer: str) -> Any:
    """The untrusted input as an ffmpeg-python node: ``pipe:0`` read as the sniffed demuxer.

    ``-protocol_whitelist pipe`` lets no playlist, concat script or reference inside the file
    open anything but the pipe; ``-enable_drefs 0`` stops QuickTime references to other files.
    """
    options: dict[str, Any] = {"f": demuxer, "protocol_whitelist": "pipe"}
    if demuxer == "mov":
        options["enable_drefs"] = 0
    return ffmpeg.input("pipe:0", **options)


def _compile(outputs: list[Any], *, progress: bool = False, overwrite: bool = False) -> list[str]:
    """The argv ffmpeg-python compiles for ``outputs``, with the quiet global flags (pure).

    ffmpeg-python puts global options after the outputs, where ffmpeg still honours them.
    """
    node = outputs[0] if len(outputs) == 1 else ffmpeg.merge_outputs(*outputs)
    flags = [*QUIET_ARGS, *(("-progress", "pipe:1") if progress else ())]
    argv = node.global_args(*flags).compile(cmd=FFMPEG, overwrite_output=overwrite)
    return [str(arg) for arg in argv]


def _scale(rung: Rung, plan: LadderPlan) -> tuple[int, int]:
    """scale's (width, height): the short side to the rung's height, the other side even."""
    return (-2, rung.height) if plan.width >= plan.height else (rung.height, -2)


def build_ladder_argv(plan: LadderPlan, out_dir: str) -> list[str]:
    """One ffmpeg run: decode once, encode each rung once, HLS + master, poster, thumbnails (pure).

    Built with ffmpeg-python: one ``split`` of the decoded video feeds every rung, the poster and
    the thumbnail strip; every rung has the same fixed GOP (one segment, no scene-cut keyframes),
    so segments cut at the same instants on every rung.
    """
    source = _source(plan.demuxer)
    audio = source["a:0"]
    hls_streams: list[Any] = []
    stream_map: list[str] = []
    options: dict[str, Any] = {
        "t": f"{plan.max_duration:g}", "map_metadata": -1, "map_chapters": -1,
    }  # fmt: skip
    if plan.threads:
        options["threads"] = plan.threads
    extra_outputs: list[Any] = []
    audio_index = 0
    if plan.has_video:
        fps = f"{plan.fps.numerator}/{plan.fps.denominator}"
        split = source["v:0"].filter("fps", fps=fps).filter("format", "yuv420p").split()
        for i, rung in enumerate(plan.rungs):
            hls_streams.append(split[i].filter("scale", *_scale(rung, plan)))
            entry = f"v:{i}"
            if plan.has_audio:
                hls_streams.append(audio)
                entry += f",a:{audio_index}"
                audio_index += 1
            stream_map.append(f"{entry},name:{rung.name}")
            options[f"b:v:{i}"] = rung.video_bitrate
            options[f"maxrate:v:{i}"] = int(rung.video_bitrate * 1.1)
            options[f"bufsize:v:{i}"] = rung.video_bitrate * 2
        n = len(plan.rungs)
        options.update({
            "c:v": "libx264", "preset": "veryfast", "profile:v": "main",
            "g": plan.gop, "keyint_min": plan.gop, "sc_threshold": 0, "flags": "+cgop",
        })  # fmt: skip
        poster = (
            split[n]
            .filter("trim", start=f"{plan.poster_at:g}")
            .filter("setpts", "PTS-STARTPTS")
            .filter("scale", -2, "min(720,ih)")
        )
        thumbs = (
            split[n + 1]
            .filter("fps", fps=f"1/{plan.thumb_interval:g}")
            .filter("scale", THUMB_WIDTH, plan.thumb_height)
            .filter("tile", f"{THUMB_COLUMNS}x{plan.thumb_rows}")
        )
        for stream, name, quality in ((poster, "poster.jpg", 3), (thumbs, "thumbs.jpg", 5)):
            extra_outputs.append(ffmpeg.output(
                stream, f"{out_dir}/{name}",
                **{"frames:v": 1, "q:v": quality, "an": None, **NO_SIDE_STREAMS},
            ))  # fmt: skip
    if plan.has_audio:
        hls_streams.append(audio)
        stream_map.append(f"a:{audio_index},name:audio")
        options.update({"c:a": "aac", "ac": 2, "ar": 48000})
        for i, rung in enumerate(plan.rungs if plan.has_video else ()):
            options[f"b:a:{i}"] = rung.audio_bitrate
        options[f"b:a:{audio_index}"] = AUDIO_BITRATE
    hls = ffmpeg.output(
        *hls_streams, f"{out_dir}/%v/index.m3u8",
        f="hls", hls_time=SEGMENT_SECONDS, hls_playlist_type="vod",
        hls_flags="independent_segments", hls_segment_type="mpegts",
        hls_segment_filename=f"{out_dir}/%v/seg_%05d.ts",
        master_pl_name="master.m3u8", var_stream_map=" ".join(stream_map),
        **options, **NO_SIDE_STREAMS,
    )  # fmt: skip
    return _compile([hls, *extra_outputs], progress=True)


def build_image_argv(demuxer: str, out_path: str, max_side: int) -> list[str]:
    """Re-encode one image: first frame only, metadata stripped, longest side capped (pure)."""
    image = _source(demuxer)["v:0"].filter(
        "scale", w=f"min(iw,{max_side})", h=f"min(ih,{max_side})",
        force_original_aspect_ratio="decrease",
    )  # fmt: skip
    out = ffmpeg.output(image, out_path, **{"frames:v": 1, "map_metadata": -1, "an": None},
                        **NO_SIDE_STREAMS)  # fmt: skip
    return _compile([out], overwrite=True)


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
    return _compile([out], overwrite=True)


def make_demo_clip(out_path: Path, *, title: str, seconds: float = 7.0) -> None:
    """Write a demo clip; without the title if the font or drawtext is missing."""
    limits = Limits()
    for text in (True, False):
        argv = build_demo_clip_argv(str(out_path), title=title, seconds=seconds, text=text)
        result = _run_simple(argv, None, limits, limits.probe_timeout * 4)
        if result.returncode == 0 and out_path.is_file() and out_path.stat().st_size > 0:
            return
    raise TranscodeError(result.stderr[-2000:].decode("utf-8", "replace"))


def build_pdf_cover_argv(pdf_path: str, out_base: str) -> list[str]:
    """pdftoppm rendering page 1 to ``out_base``.jpg, at most 1024 px on its long side (pure)."""
    return ["pdftoppm", "-f", "1", "-l", "1", "-singlefile", "-scale-to", "1024", "-jpeg",
            pdf_path, out_base]  # fmt: skip


def build_pdf_pages_argv(pdf_path: str, out_base: str, last_page: int, side: int) -> list[str]:
    """pdftoppm rendering pages 1..``last_page`` as JPEGs, ``side`` px on the long side (pure)."""
    return ["pdftoppm", "-f", "1", "-l", str(last_page), "-scale-to", str(side), "-jpeg",
            "-jpegopt", "quality=72,progressive=y", pdf_path, out_base]  # fmt: skip


# --- running ----------------------------------------------------------------------------------


def _limit_resources(memory: int, file_size: int) -> Callable[[], None]:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply


def _run_simple(argv: list[str], stdin_path: Path | None, limits: Limits, timeout: float,
                ) -> subprocess.CompletedProcess[bytes]:  # fmt: skip
    stdin = stdin_path.open("rb") if stdin_path else subprocess.DEVNULL
    try:
        return subprocess.run(
            argv,
            stdin=stdin,
            capture_output=True,
            timeout=timeout,
            preexec_fn=_limit_resources(limits.max_memory_bytes, limits.max_output_bytes),
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise MediaRejected("processing_timeout") from error
    finally:
        if stdin_path:
            stdin.close()  # type: ignore[union-attr]  # stdin is an open file whenever stdin_path is set


def _dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def run_ffmpeg(argv: list[str], input_path: Path, *, duration: float, out_dir: Path,
               limits: Limits, on_progress: Callable[[float], None] | None = None) -> None:  # fmt: skip
    """Run ffmpeg with ``input_path`` on its stdin, report progress (0..1), enforce the caps."""
    timeout = limits.timeout_base + limits.timeout_factor * duration
    killed: list[str] = []
    with input_path.open("rb") as stdin, tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(
            argv,
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=stderr,
            preexec_fn=_limit_resources(limits.max_memory_bytes, limits.max_output_bytes),
            start_new_session=True,
        )

        def kill(reason: str) -> None:
            killed.append(reason)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)

        watchdog = threading.Timer(timeout, kill, args=("timeout",))
        watchdog.daemon = True
        watchdog.start()
        last_check = 0.0
        try:
            assert process.stdout is not None
            for raw in process.stdout:
                key, _, value = raw.decode("ascii", "replace").strip().partition("=")
                if key == "out_time_us" and value.lstrip("-").isdigit() and duration > 0:
                    if on_progress:
                        on_progress(min(1.0, max(0.0, int(value) / 1e6 / duration)))
                elif key == "progress":
                    now = time.monotonic()
                    if now - last_check > 1.0:
                        last_check = now
                        if _dir_size(out_dir) > limits.max_output_bytes:
                            kill("output")
            process.wait()
        finally:
            watchdog.cancel()
            if process.poll() is None:
                kill("aborted")
                process.wait()
        stderr.seek(0)
        errors = stderr.read()[-4000:].decode("utf-8", "replace")
    if killed and killed[0] == "timeout":
        raise MediaRejected("processing_timeout")
    if killed and killed[0] == "output":
        raise MediaRejected("limit_exceeded", what="output_size")
    if process.returncode == -signal.SIGXFSZ:
        raise MediaRejected("limit_exceeded", what="output_size")
    if process.returncode < 0:
        raise TranscodeError(f"ffmpeg killed by signal {-process.returncode}: {errors}")
    if process.returncode != 0:
        if "No space left" in errors:
            raise TranscodeError(errors)
        if "File size limit" in errors or process.returncode == 153:
            raise MediaRejected("limit_exceeded", what="output_size")
        raise MediaRejected("corrupt_media")


# --- per kind ---------------------------------------------------------------------------------


@dataclass
class Outputs:
    """What processing produced: files under ``out_dir`` (relative names) and the facts."""

    kind: str
    files: list[str] = field(default_factory=list)
    duration: float | None = None
    width: int | None = None
    height: int | None = None
    page_count: int | None = None
    renditions: list[dict[str, Any]] = field(default_factory=list)
    poster: str | None = None
    thumbs: str | None = None
    image: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


def _files(out_dir: Path) -> list[str]:
    return sorted(p.relative_to(out_dir).as_posix() for p in out_dir.rglob("*") if p.is_file())


def _check_ladder_output(out_dir: Path, plan: LadderPlan) -> None:
    """A run that stopped early (truncated input) leaves short playlists: refuse them."""
    for name in [r.name for r in plan.rungs] + (["audio"] if plan.has_audio else []):
        playlist = out_dir / name / "index.m3u8"
        if not playlist.is_file():
            raise MediaRejected("corrupt_media")
        text = playlist.read_text("utf-8", "replace")
        seconds = sum(
            float(line[8:].split(",")[0])
            for line in text.splitlines()
            if line.startswith("#EXTINF:")
        )
        if (
            "#EXT-X-ENDLIST" not in text
            or seconds < min(plan.duration, plan.max_duration) * 0.9 - 0.5
        ):
            raise MediaRejected("corrupt_media")


def process_media(src: Path, sniffed: Sniffed, out_dir: Path, limits: Limits,
                  on_progress: Callable[[float], None] | None = None) -> Outputs:  # fmt: skip
    """Probe, validate and transcode a video or audio file (HLS) or re-encode an image."""
    assert sniffed.demuxer is not None
    if sniffed.fmt == "mp4":
        moved = src.with_name(src.name + ".faststart")
        if mp4_faststart(src, moved):
            os.replace(moved, src)
    info = probe(src, sniffed.demuxer, limits)
    if info.duration is None and sniffed.kind != "image" and (info.audio or info.video):
        info = replace(info, duration=measure_duration(src, sniffed.demuxer, limits))
    kind = validate(info, sniffed, limits)
    if kind == "image":
        ext = "jpg" if sniffed.fmt == "jpeg" else "png"
        run_ffmpeg(build_image_argv(sniffed.demuxer, str(out_dir / f"image.{ext}"),
                                    limits.image_output_side), src, duration=1,
                   out_dir=out_dir, limits=limits)  # fmt: skip
        if not (out_dir / f"image.{ext}").is_file():
            raise MediaRejected("corrupt_media")
        return Outputs(kind="image", files=_files(out_dir), width=info.width,
                       height=info.height, image=f"image.{ext}")  # fmt: skip
    plan = plan_ladder(info, sniffed.demuxer, limits)
    run_ffmpeg(build_ladder_argv(plan, str(out_dir)), src, duration=plan.duration,
               out_dir=out_dir, limits=limits, on_progress=on_progress)  # fmt: skip
    _check_ladder_output(out_dir, plan)
    renditions = [
        {"name": "audio", "bandwidth": AUDIO_BITRATE + 6_000, "kind": "audio",
         "playlist": "audio/index.m3u8"}
    ] if plan.has_audio else []  # fmt: skip
    for rung in plan.rungs:
        renditions.append({
            "name": rung.name,
            "bandwidth": rung.video_bitrate + (rung.audio_bitrate if plan.has_audio else 0),
            "kind": "video",
            "playlist": f"{rung.name}/index.m3u8",
        })  # fmt: skip
    outputs = Outputs(kind=kind, files=_files(out_dir), duration=plan.duration,
                      width=info.width, height=info.height, renditions=renditions)  # fmt: skip
    if plan.has_video:
        outputs.poster = "poster.jpg" if (out_dir / "poster.jpg").is_file() else None
        if (out_dir / "thumbs.jpg").is_file():
            outputs.thumbs = "thumbs.jpg"
            outputs.meta["thumbs"] = {
                "interval": plan.thumb_interval, "count": plan.thumb_count,
                "columns": THUMB_COLUMNS, "rows": plan.thumb_rows,
                "width": THUMB_WIDTH, "height": plan.thumb_height,
            }  # fmt: skip
    return outputs


def pdf_page_count(path: Path) -> int:
    """Pages in a PDF (pypdf, no rendering)."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        count = len(PdfReader(str(path), strict=False).pages)
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, RecursionError,
            OSError, IndexError, AssertionError, ZeroDivisionError) as error:  # fmt: skip
        raise MediaRejected("corrupt_document") from error
    if count <= 0:
        raise MediaRejected("corrupt_document")
    return count


PAGE_NAME = "pages/{:03d}.jpg"


def render_pdf_pages(src: Path, out_dir: Path, page_count: int, limits: Limits,
                     ) -> list[tuple[int, int]]:  # fmt: skip
    """Render the first pages as ``pages/001.jpg``…; the (width, height) of each that made it.

    pdftoppm runs under the same rlimits and a timeout; a document it cannot render keeps its
    cover and download only.
    """
    last = min(page_count, limits.max_document_pages)
    if last <= 0:
        return []
    work = out_dir.parent / "pdf-pages"
    work.mkdir(exist_ok=True)
    argv = build_pdf_pages_argv(str(src), str(work / "p"), last, limits.page_image_side)
    with contextlib.suppress(MediaRejected):  # too slow: keep the pages written so far
        _run_simple(argv, None, limits, limits.probe_timeout * 2 + 2 * last)
    # pdftoppm pads the page number to the width of the document's page count: sort by value
    numbered = sorted(
        (int(path.stem.rsplit("-", 1)[1]), path)
        for path in work.glob("p-*.jpg")
        if path.stem.rsplit("-", 1)[1].isdigit() and path.stat().st_size > 0
    )
    (out_dir / "pages").mkdir(exist_ok=True)
    sizes: list[tuple[int, int]] = []
    for expected, (number, path) in enumerate(numbered, start=1):
        size = jpeg_size(path)
        if number != expected or size is None:
            break  # a gap or a broken file: stop at the last good page in sequence
        os.replace(path, out_dir / PAGE_NAME.format(number))
        sizes.append(size)
    shutil.rmtree(work, ignore_errors=True)
    return sizes


def jpeg_size(path: Path) -> tuple[int, int] | None:
    """(width, height) from a JPEG's frame header, or None if it has none (pure reading)."""
    data = path.read_bytes()[:65536]
    if data[:2] != b"\xff\xd8":
        return None
    at = 2
    while at + 9 < len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        length = int.from_bytes(data[at + 2 : at + 4], "big")
        if marker in (0xC0, 0xC1, 0xC2):  # baseline, extended, progressive frames
            height = int.from_bytes(data[at + 5 : at + 7], "big")
            width = int.from_bytes(data[at + 7 : at + 9], "big")
            return (width, height) if width and height else None
        at += 2 + length
    return None


def process_document(src: Path, sniffed: Sniffed, out_dir: Path, limits: Limits) -> Outputs:
    """PDF: page count and a cover image; EPUB: spine length and its cover, if any."""
    outputs = Outputs(kind="document")
    if sniffed.fmt == "pdf":
        outputs.page_count = pdf_page_count(src)
        if shutil.which("pdftoppm") is None:  # scripts/system-deps.sh installs poppler-utils
            outputs.files = _files(out_dir)
            return outputs
        result = _run_simple(build_pdf_cover_argv(str(src), str(out_dir / "cover")), None,
                             limits, limits.probe_timeout)  # fmt: skip
        if result.returncode == 0 and (out_dir / "cover.jpg").is_file():
            outputs.poster = "cover.jpg"
        sizes = render_pdf_pages(src, out_dir, outputs.page_count, limits)
        if sizes:
            outputs.meta["pages"] = {"rendered": len(sizes), "sizes": [list(s) for s in sizes]}
    else:
        epub = read_epub(src)
        outputs.page_count = epub.spine_items
        outputs.meta["page_count_estimated"] = True
        if epub.cover:
            cover_src = out_dir.parent / "epub-cover"
            cover_src.write_bytes(epub.cover)
            found = sniff(epub.cover[:1024])
            if found is not None and found.kind == "image" and found.demuxer:
                try:
                    info = probe(cover_src, found.demuxer, limits)
                    validate(info, found, limits)
                    run_ffmpeg(build_image_argv(found.demuxer, str(out_dir / "cover.jpg"), 1024),
                               cover_src, duration=1, out_dir=out_dir, limits=limits)  # fmt: skip
                    outputs.poster = "cover.jpg"
                except MediaRejected:
                    outputs.poster = None  # a bad cover doesn't spoil the book
    outputs.files = _files(out_dir)
    return outputs


# --- live: one ffmpeg per lecture, fed through its stdin while the lecture runs ----------------
#
# The lecturer's browser records WebM (MediaRecorder: VP8/VP9/H.264 + Opus, no duration, no cues);
# its chunks reach ffmpeg's stdin as they arrive. Out come live HLS playlists (2 s segments, every
# one starting on a key frame): the lecturer's picture at one size, and an audio-only rendition for
# weak connections, under a master playlist. Closing stdin ends the run cleanly: ffmpeg flushes the
# last segment and writes ``#EXT-X-ENDLIST``.


@dataclass(frozen=True)
class LivePlan:
    has_audio: bool = True
    #: continue a stream whose playlists are already in ``out_dir`` (the studio reconnected):
    #: numbering goes on, and a discontinuity marks the new recorder's first segment
    resume: bool = False
    height: int = 480
    fps: int = 25
    video_bitrate: int = 900_000
    audio_bitrate: int = 96_000
    preset: str = "veryfast"
    threads: int = 0

    @property
    def video_name(self) -> str:
        return f"{self.height}p"


LIVE_AUDIO_NAME = "audio"
LIVE_SEGMENT_SECONDS = SEGMENT_SECONDS
#: wall-time cap of one live run beyond the lecture cap (a forgotten "end")
LIVE_SLACK_SECONDS = 600.0


def live_renditions(plan: LivePlan) -> list[dict[str, Any]]:
    """The renditions a live run writes, in the shape ``Asset.renditions`` keeps (pure)."""
    video = {
        "name": plan.video_name,
        "bandwidth": plan.video_bitrate + (plan.audio_bitrate if plan.has_audio else 0),
        "kind": "video",
        "playlist": f"{plan.video_name}/index.m3u8",
    }
    if not plan.has_audio:
        return [video]
    audio = {
        "name": LIVE_AUDIO_NAME,
        "bandwidth": AUDIO_BITRATE + 6_000,
        "kind": "audio",
        "playlist": f"{LIVE_AUDIO_NAME}/index.m3u8",
    }
    return [audio, video]


def build_live_argv(plan: LivePlan, out_dir: str) -> list[str]:
    """ffmpeg reading a recorder WebM from stdin and writing live HLS into ``out_dir`` (pure).

    The demuxer is forced (webm) and only the pipe protocol is allowed, as for uploads; time
    stamps are regenerated (``+genpts``) because a recorder's stream starts anywhere; the frame
    rate is made constant so that a key frame every two seconds cuts equal segments.
    """
    source = ffmpeg.input(
        "pipe:0", f="webm", protocol_whitelist="pipe", fflags="+genpts+discardcorrupt"
    )
    video = (
        source["v:0"]
        .filter("fps", plan.fps)
        .filter("scale", -2, plan.height)
        .filter("format", "yuv420p")
    )
    streams: list[Any] = [video]
    stream_map = f"v:0,name:{plan.video_name}"
    options: dict[str, Any] = {
        "c:v": "libx264",
        "preset": plan.preset,
        "tune": "zerolatency",
        "profile:v": "main",
        "g": LIVE_SEGMENT_SECONDS * plan.fps,
        "keyint_min": LIVE_SEGMENT_SECONDS * plan.fps,
        "sc_threshold": 0,
        "force_key_frames": f"expr:gte(t,n_forced*{LIVE_SEGMENT_SECONDS})",
        "b:v:0": plan.video_bitrate,
        "maxrate:v:0": int(plan.video_bitrate * 1.2),
        "bufsize:v:0": plan.video_bitrate * 2,
    }
    if plan.has_audio:
        streams += [source["a:0"], source["a:0"]]
        stream_map = f"v:0,a:0,name:{plan.video_name} a:1,name:{LIVE_AUDIO_NAME}"
        options.update(
            {"c:a": "aac", "ac": 2, "ar": 48000, "b:a:0": plan.audio_bitrate,
             "b:a:1": AUDIO_BITRATE}
        )  # fmt: skip
    if plan.threads:
        options["threads"] = plan.threads
    options.update(
        {
            **NO_SIDE_STREAMS,
            "map_metadata": -1,
            "f": "hls",
            "hls_time": LIVE_SEGMENT_SECONDS,
            "hls_list_size": 0,
            "hls_playlist_type": "event",
            # playlists are renamed into place, so an uploader never reads half of one
            "hls_flags": "independent_segments+temp_file"
            + ("+append_list+discont_start" if plan.resume else ""),
            "hls_segment_type": "mpegts",
            "hls_segment_filename": f"{out_dir}/%v/seg_%05d.ts",
            "master_pl_name": "master.m3u8",
            "var_stream_map": stream_map,
        }
    )
    output = ffmpeg.output(*streams, f"{out_dir}/%v/index.m3u8", **options)
    compiled: list[str] = output.compile(cmd=FFMPEG)
    # general options first (ffmpeg ignores trailing ones); no -nostdin: stdin is the input
    return [FFMPEG, "-hide_banner", "-nostats", "-loglevel", "error", *compiled[1:]]


class LiveTranscode:
    """One running live ffmpeg; ``feed`` writes recorder bytes, ``finish`` ends it cleanly.

    ``feed`` may block while ffmpeg is busy (a pipe is a bounded buffer): call it from a worker
    thread (or greenlet), never from an event handler. Under gevent the patched ``subprocess``
    makes the write cooperative.
    """

    def __init__(self, plan: LivePlan, out_dir: Path, limits: Limits) -> None:
        self.plan = plan
        self.out_dir = out_dir
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the run
        for rendition in live_renditions(plan):
            (out_dir / rendition["name"]).mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            build_live_argv(plan, str(out_dir)),
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
            preexec_fn=_limit_resources(limits.max_memory_bytes, limits.max_output_bytes),
            start_new_session=True,
        )
        self._watchdog = threading.Timer(limits.max_duration + LIVE_SLACK_SECONDS, self.kill)
        self._watchdog.daemon = True
        self._watchdog.start()

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def feed(self, data: bytes) -> bool:
        """Write one chunk; False once ffmpeg has gone (crashed, killed, refused the input)."""
        stdin = self.process.stdin
        if stdin is None or stdin.closed or not self.running:
            return False
        try:
            stdin.write(data)
            stdin.flush()
        except (BrokenPipeError, ValueError, OSError):
            return False
        return True

    def finish(self, timeout: float = 30.0) -> int:
        """Close stdin so ffmpeg writes the last segment and ENDLIST; kill it if it hangs."""
        with contextlib.suppress(BrokenPipeError, ValueError, OSError):
            if self.process.stdin is not None and not self.process.stdin.closed:
                self.process.stdin.close()
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            code = self.process.wait()
        self._watchdog.cancel()
        return code

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def errors(self) -> str:
        """The tail of ffmpeg's error output (after it has ended)."""
        self._stderr.seek(0)
        return self._stderr.read()[-4000:].decode("utf-8", "replace")

    def close(self) -> None:
        if self.running:
            self.kill()
            self.process.wait()
        self._watchdog.cancel()
        self._stderr.close()
