"""Running ffmpeg, ffprobe and pdftoppm: the binaries, the caps (``Limits``), the argv
compiler every builder ends with, and the runner (rlimits, a watchdog, progress, output caps).

``FFMPEG`` and ``FFPROBE`` are read as ``runner.FFMPEG`` at call time by the builders, so a
test can point them at another binary."""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ffmpeg  # ffmpeg-python: builds the argv; the runner runs it

from media.containers import MediaRejected

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


#: every ffmpeg run: no banner, no reading the terminal, errors only, no stats line
QUIET_ARGS = ("-hide_banner", "-nostdin", "-loglevel", "error", "-nostats")
#: no subtitle, data or attachment stream leaves ffmpeg, whatever the source carries
NO_SIDE_STREAMS = {"sn": None, "dn": None}


def source_node(demuxer: str) -> Any:
    """The untrusted input as an ffmpeg-python node: ``pipe:0`` read as the sniffed demuxer.

    ``-protocol_whitelist pipe`` lets no playlist, concat script or reference inside the file
    open anything but the pipe; ``-enable_drefs 0`` stops QuickTime references to other files.
    """
    options: dict[str, Any] = {"f": demuxer, "protocol_whitelist": "pipe"}
    if demuxer == "mov":
        options["enable_drefs"] = 0
    return ffmpeg.input("pipe:0", **options)


def compile_argv(
    outputs: list[Any], *, progress: bool = False, overwrite: bool = False
) -> list[str]:
    """The argv ffmpeg-python compiles for ``outputs``, with the quiet global flags (pure).

    ffmpeg-python puts global options after the outputs, where ffmpeg still honours them.
    """
    node = outputs[0] if len(outputs) == 1 else ffmpeg.merge_outputs(*outputs)
    flags = [*QUIET_ARGS, *(("-progress", "pipe:1") if progress else ())]
    argv = node.global_args(*flags).compile(cmd=FFMPEG, overwrite_output=overwrite)
    return [str(arg) for arg in argv]


# --- running ----------------------------------------------------------------------------------


def limit_resources(memory: int, file_size: int) -> Callable[[], None]:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply


def run_simple(argv: list[str], stdin_path: Path | None, limits: Limits, timeout: float,
                ) -> subprocess.CompletedProcess[bytes]:  # fmt: skip
    stdin = stdin_path.open("rb") if stdin_path else subprocess.DEVNULL
    try:
        return subprocess.run(
            argv,
            stdin=stdin,
            capture_output=True,
            timeout=timeout,
            preexec_fn=limit_resources(limits.max_memory_bytes, limits.max_output_bytes),
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise MediaRejected("processing_timeout") from error
    finally:
        if not isinstance(stdin, int):  # the file we opened, not DEVNULL
            stdin.close()


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
            preexec_fn=limit_resources(limits.max_memory_bytes, limits.max_output_bytes),
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
    #: an audio-only source's single AAC-in-MP4 file
    audio: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


def output_files(out_dir: Path) -> list[str]:
    return sorted(p.relative_to(out_dir).as_posix() for p in out_dir.rglob("*") if p.is_file())
