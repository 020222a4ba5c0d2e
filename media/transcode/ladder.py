"""The HLS ladder: which rungs a source gets, the one ffmpeg run that encodes them with the
poster and the thumbnail strip, image re-encoding, and ``process_media`` that strings a video,
audio or image upload through probe, validate and transcode."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import ffmpeg  # ffmpeg-python: builds the argv; the runner runs it

from media.containers import MediaRejected, Sniffed, mp4_faststart
from media.transcode.probing import Probe, measure_duration, probe, validate
from media.transcode.runner import (
    NO_SIDE_STREAMS,
    Limits,
    Outputs,
    compile_argv,
    output_files,
    run_ffmpeg,
    source_node,
)


@dataclass(frozen=True)
class Rung:
    name: str
    height: int
    video_bitrate: int
    audio_bitrate: int


#: the ladder recipe; bump LADDER_VERSION when it changes so outputs land under new keys
LADDER_VERSION = 2
VIDEO_RUNGS = (Rung("360p", 360, 600_000, 96_000), Rung("720p", 720, 2_500_000, 128_000))
AUDIO_BITRATE = 64_000
#: an audio-only source (a voice message, a recording) is also one AAC file in MP4, played by a
#: plain <audio> element (no HLS player needed); its name under the version's prefix
AUDIO_FILE = "audio.m4a"
SEGMENT_SECONDS = 2
OUTPUT_FPS_CAP = 30.0
THUMB_WIDTH = 160
THUMB_COLUMNS = 10
MAX_THUMBS = 100


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


def _scale(rung: Rung, plan: LadderPlan) -> tuple[int, int]:
    """scale's (width, height): the short side to the rung's height, the other side even."""
    return (-2, rung.height) if plan.width >= plan.height else (rung.height, -2)


def _stills(poster_in: Any, thumbs_in: Any, plan: LadderPlan, out_dir: str) -> list[Any]:
    """The poster (one frame a little in) and the thumbnail strip, from two branches of the
    decoded video's ``split`` (pure)."""
    poster = (
        poster_in.filter("trim", start=f"{plan.poster_at:g}")
        .filter("setpts", "PTS-STARTPTS")
        .filter("scale", -2, "min(720,ih)")
    )
    thumbs = (
        thumbs_in.filter("fps", fps=f"1/{plan.thumb_interval:g}")
        .filter("scale", THUMB_WIDTH, plan.thumb_height)
        .filter("tile", f"{THUMB_COLUMNS}x{plan.thumb_rows}")
    )
    return [
        ffmpeg.output(
            stream, f"{out_dir}/{name}",
            **{"frames:v": 1, "q:v": quality, "an": None, **NO_SIDE_STREAMS},
        )
        for stream, name, quality in ((poster, "poster.jpg", 3), (thumbs, "thumbs.jpg", 5))
    ]  # fmt: skip


def build_ladder_argv(plan: LadderPlan, out_dir: str) -> list[str]:
    """One ffmpeg run: decode once, encode each rung once, HLS + master, poster, thumbnails (pure).

    Built with ffmpeg-python: one ``split`` of the decoded video feeds every rung, the poster and
    the thumbnail strip; every rung has the same fixed GOP (one segment, no scene-cut keyframes),
    so segments cut at the same instants on every rung.
    """
    source = source_node(plan.demuxer)
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
        extra_outputs += _stills(split[n], split[n + 1], plan, out_dir)
    if plan.has_audio:
        hls_streams.append(audio)
        stream_map.append(f"a:{audio_index},name:audio")
        options.update({"c:a": "aac", "ac": 2, "ar": 48000})
        for i, rung in enumerate(plan.rungs if plan.has_video else ()):
            options[f"b:a:{i}"] = rung.audio_bitrate
        options[f"b:a:{audio_index}"] = AUDIO_BITRATE
    if plan.has_audio and not plan.has_video:
        # the same decoded audio, once more as AAC in MP4 (moov first: plays while it loads)
        extra_outputs.append(ffmpeg.output(
            audio, f"{out_dir}/{AUDIO_FILE}", f="mp4", movflags="+faststart",
            **{"c:a": "aac", "b:a": AUDIO_BITRATE, "ac": 2, "ar": 48000, "vn": None,
               "t": f"{plan.max_duration:g}", "map_metadata": -1, "map_chapters": -1},
            **({"threads": plan.threads} if plan.threads else {}), **NO_SIDE_STREAMS,
        ))  # fmt: skip
    hls = ffmpeg.output(
        *hls_streams, f"{out_dir}/%v/index.m3u8",
        f="hls", hls_time=SEGMENT_SECONDS, hls_playlist_type="vod",
        hls_flags="independent_segments", hls_segment_type="mpegts",
        hls_segment_filename=f"{out_dir}/%v/seg_%05d.ts",
        master_pl_name="master.m3u8", var_stream_map=" ".join(stream_map),
        **options, **NO_SIDE_STREAMS,
    )  # fmt: skip
    return compile_argv([hls, *extra_outputs], progress=True)


def build_image_argv(demuxer: str, out_path: str, max_side: int) -> list[str]:
    """Re-encode one image: first frame only, metadata stripped, longest side capped (pure)."""
    image = source_node(demuxer)["v:0"].filter(
        "scale", w=f"min(iw,{max_side})", h=f"min(ih,{max_side})",
        force_original_aspect_ratio="decrease",
    )  # fmt: skip
    out = ffmpeg.output(image, out_path, **{"frames:v": 1, "map_metadata": -1, "an": None},
                        **NO_SIDE_STREAMS)  # fmt: skip
    return compile_argv([out], overwrite=True)


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
    if plan.has_audio and not plan.has_video:
        single = out_dir / AUDIO_FILE
        if not single.is_file() or not single.stat().st_size:
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
        return Outputs(kind="image", files=output_files(out_dir), width=info.width,
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
    outputs = Outputs(kind=kind, files=output_files(out_dir), duration=plan.duration,
                      width=info.width, height=info.height, renditions=renditions)  # fmt: skip
    if plan.has_audio and not plan.has_video:
        outputs.audio = AUDIO_FILE
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
