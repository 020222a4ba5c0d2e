"""Live: one ffmpeg per lecture, fed through its stdin while the lecture runs.

The lecturer's browser records WebM (MediaRecorder: VP8/VP9/H.264 + Opus, no duration, no cues);
its chunks reach ffmpeg's stdin as they arrive. Out come live HLS playlists (2 s segments, every
one starting on a key frame): the lecturer's picture at one size, and an audio-only rendition for
weak connections, under a master playlist. Closing stdin ends the run cleanly: ffmpeg flushes the
last segment and writes ``#EXT-X-ENDLIST``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ffmpeg  # ffmpeg-python: builds the argv; the runner runs it

from media.transcode import runner
from media.transcode.ladder import AUDIO_BITRATE, SEGMENT_SECONDS
from media.transcode.runner import NO_SIDE_STREAMS, Limits, limit_resources


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
    compiled: list[str] = output.compile(cmd=runner.FFMPEG)
    # general options first (ffmpeg ignores trailing ones); no -nostdin: stdin is the input
    return [runner.FFMPEG, "-hide_banner", "-nostats", "-loglevel", "error", *compiled[1:]]


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
            preexec_fn=limit_resources(limits.max_memory_bytes, limits.max_output_bytes),
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
