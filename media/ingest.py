"""The live ingest: one per stream in this process, feeding the lecturer's recorder chunks to the
live ffmpeg (``media.transcode.live.LiveTranscode``) and uploading each segment and playlist into
storage as soon as ffmpeg has written it.

Threads: the Socket.IO handler only ``offer``s a chunk to a bounded queue; a writer thread feeds
the pipe (a write may wait while ffmpeg is busy) and an uploader thread polls ffmpeg's folder.
Under gevent both are greenlets (``threading`` and ``subprocess`` are monkey-patched), under the
threading server real threads: neither blocks the event loop.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from media.live import (
    HANDOVER_SECONDS,
    HLS,
    IDLE_SECONDS,
    POLL_SECONDS,
    QUEUE_CHUNKS,
    live_prefix,
    playlist_segments,
    safe_segment,
)
from media.models import Asset
from media.settings import setting
from media.storage import Storage
from media.transcode import live as live_ffmpeg
from media.transcode import runner

#: the ingest logs under the name it had inside media.live
log = logging.getLogger("media.live")


@dataclass
class IngestStats:
    chunks: int = 0
    bytes: int = 0
    segments: int = 0
    dropped: int = 0
    started_at: float = field(default_factory=time.monotonic)
    first_segment_at: float | None = None


class LiveIngest:
    """One live stream in this process: a chunk queue, the ffmpeg run, the uploader.

    ``on_ready`` is called once (from the uploader thread) when the master playlist and the first
    video segment are in storage; ``on_done`` once everything, ENDLIST included, is uploaded.
    """

    def __init__(self, *, asset_id: str, storage: Storage, plan: live_ffmpeg.LivePlan,
                 limits: runner.Limits, renditions: list[dict[str, Any]], master_key: str,
                 on_ready: Callable[[], None] | None = None,
                 on_done: Callable[[bool], None] | None = None,
                 work_root: str | None = None, idle_seconds: float = IDLE_SECONDS) -> None:  # fmt: skip
        self.asset_id = asset_id
        self.storage = storage
        self.plan = plan
        self.renditions = renditions
        self.master_key = master_key
        self.on_ready = on_ready
        self.on_done = on_done
        self.idle_seconds = idle_seconds
        self.stats = IngestStats()
        self.out_dir = Path(tempfile.mkdtemp(prefix=f"live-{asset_id}-", dir=work_root))
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=QUEUE_CHUNKS)
        self._closing = threading.Event()
        self._written = threading.Event()
        self.done = threading.Event()
        self.ok = False
        self._uploaded: set[tuple[str, str]] = set()
        self._playlists: dict[str, bytes] = {}
        self._ready_sent = False
        #: end without ENDLIST (idle, or handing over to a resumed run): viewers keep waiting
        self._keep_open = False
        if plan.resume:
            self._restore()
        self.transcode = live_ffmpeg.LiveTranscode(plan, self.out_dir, limits)
        self._writer = threading.Thread(target=self._write_loop, name=f"live-w-{asset_id}")
        self._writer.daemon = True
        self._uploader = threading.Thread(target=self._upload_loop, name=f"live-u-{asset_id}")
        self._uploader.daemon = True
        self._writer.start()
        self._uploader.start()

    # -- called by the event handler -------------------------------------------------------------
    def offer(self, chunk: bytes) -> bool:
        """Queue a chunk for ffmpeg without waiting; False if the stream is over or backed up."""
        if self._closing.is_set() or not self.transcode.running:
            return False
        try:
            self._queue.put_nowait(chunk)
        except queue.Full:
            self.stats.dropped += 1
            return False
        self.stats.chunks += 1
        self.stats.bytes += len(chunk)
        return True

    def finish(self, *, keep_open: bool = False) -> None:
        """End the stream: ffmpeg gets end-of-file and writes its last segment and ENDLIST.

        ``keep_open``: the stream goes on in another run (a resumed studio), so the playlists
        in storage don't get ENDLIST (players would stop there).
        """
        if keep_open:
            self._keep_open = True
        if self._closing.is_set():
            return
        self._closing.set()
        # a full queue is fine: the writer drains it, then sees the flag
        with contextlib.suppress(queue.Full):
            self._queue.put_nowait(None)

    @property
    def alive(self) -> bool:
        return not self.done.is_set()

    def _restore(self) -> None:
        """A resumed run starts from the playlists in storage (ffmpeg appends to them)."""
        for rendition in self.renditions:
            key = rendition["playlist_key"]
            if self.storage.stat(key) is None:
                continue
            data = self.storage.get(key)
            folder = self.out_dir / rendition["name"]
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "index.m3u8").write_bytes(data)
            self._playlists[rendition["name"]] = data
            for segment in playlist_segments(data.decode("utf-8", "replace")):
                self._uploaded.add((rendition["name"], segment))
        if self.storage.stat(self.master_key) is not None:
            self._playlists["master"] = self.storage.get(self.master_key)

    # -- threads ---------------------------------------------------------------------------------
    def _write_loop(self) -> None:
        last = time.monotonic()
        try:
            while True:
                try:
                    chunk = self._queue.get(timeout=POLL_SECONDS)
                except queue.Empty:
                    if self._closing.is_set():
                        break  # finished, and everything queued has been written
                    if time.monotonic() - last > self.idle_seconds:
                        # the lecturer may come back (a resumed run); only "end" ends a stream
                        self._keep_open = True
                        log.warning("live stream %s: no data for %ss, ending", self.asset_id,
                                    self.idle_seconds)  # fmt: skip
                        break
                    continue
                if chunk is None or not self.transcode.feed(chunk):
                    break
                last = time.monotonic()
        finally:
            self._closing.set()
            code = self.transcode.finish()
            if code != 0:
                log.warning("live ffmpeg for %s exited with %s: %s", self.asset_id, code,
                            self.transcode.errors())  # fmt: skip
            self._written.set()

    def _upload_loop(self) -> None:
        ok = False
        try:
            while not self._written.is_set():
                self._sweep()
                self._written.wait(POLL_SECONDS)
            self._sweep()
            ok = self.stats.segments > 0
        except Exception:  # noqa: BLE001 - the stream ends; the reason goes to the log
            log.exception("live upload of %s failed", self.asset_id)
            self.transcode.kill()
        finally:
            self.transcode.close()
            shutil.rmtree(self.out_dir, ignore_errors=True)
            self.ok = ok
            self.done.set()
            if self.on_done:
                try:
                    self.on_done(ok)
                except Exception:  # noqa: BLE001
                    log.exception("on_done of live stream %s failed", self.asset_id)

    def _sweep(self) -> None:
        """Upload what ffmpeg has finished: listed segments first, then their playlist."""
        video_has_segment = False
        for rendition in self.renditions:
            key = rendition["playlist_key"]
            name = rendition["name"]
            playlist = self.out_dir / name / "index.m3u8"
            try:
                data = playlist.read_bytes()  # renamed into place by ffmpeg: never half-written
            except FileNotFoundError:
                continue
            base = key.rsplit("/", 1)[0] + "/"
            segments = playlist_segments(data.decode("utf-8", "replace"))
            for segment in segments:
                if not safe_segment(segment) or (name, segment) in self._uploaded:
                    continue
                path = self.out_dir / name / segment
                self.storage.put_file(base + segment, path, content_type="video/mp2t")
                self._uploaded.add((name, segment))
                self.stats.segments += 1
                path.unlink(missing_ok=True)
            if self._keep_open:
                data = b"".join(
                    line for line in data.splitlines(keepends=True)
                    if not line.startswith(b"#EXT-X-ENDLIST")
                )  # fmt: skip
            if self._playlists.get(name) != data:
                self.storage.put(key, data, length=len(data), content_type=HLS)
                self._playlists[name] = data
            if rendition["kind"] == "video" and segments:
                video_has_segment = True
        master = self.out_dir / "master.m3u8"
        if "master" not in self._playlists and master.is_file() and master.stat().st_size:
            data = master.read_bytes()
            self.storage.put(self.master_key, data, length=len(data), content_type=HLS)
            self._playlists["master"] = data
        if video_has_segment and "master" in self._playlists and not self._ready_sent:
            self._ready_sent = True
            self.stats.first_segment_at = time.monotonic()
            if self.on_ready:
                try:
                    self.on_ready()
                except Exception:  # noqa: BLE001
                    log.exception("on_ready of live stream %s failed", self.asset_id)


_INGESTS: dict[str, LiveIngest] = {}
_LOCK = threading.Lock()


def live_limits() -> runner.Limits:
    return runner.Limits(
        max_duration=float(setting("MEDIA_MAX_DURATION_SECONDS")),
        max_output_bytes=int(setting("MEDIA_MAX_OUTPUT_BYTES")),
        threads=int(setting("MEDIA_FFMPEG_THREADS")),
    )


def open_ingest(asset: Asset, storage: Storage, *, plan: live_ffmpeg.LivePlan,
                on_ready: Callable[[], None] | None = None,
                on_done: Callable[[bool], None] | None = None) -> LiveIngest:  # fmt: skip
    """Start the ingest of a live asset in this process.

    A stream that already has playlists in storage is resumed (the studio reconnected or
    switched from camera to screen): a run still going here hands over, ending without ENDLIST,
    and the new ffmpeg appends to the playlists after a discontinuity.
    """
    with _LOCK:
        running = _INGESTS.pop(asset.id, None)
    if running is not None and running.alive:
        running.finish(keep_open=True)
        running.done.wait(HANDOVER_SECONDS)
    resume = any(storage.stat(r["playlist_key"]) is not None for r in asset.renditions)
    ingest = LiveIngest(
        asset_id=asset.id,
        storage=storage,
        plan=replace(plan, resume=resume),
        limits=live_limits(),
        renditions=[dict(r) for r in asset.renditions],
        master_key=asset.master_key or live_prefix(asset) + "master.m3u8",
        on_ready=on_ready,
        on_done=on_done,
        work_root=setting("MEDIA_WORK_DIR"),
    )
    with _LOCK:
        _INGESTS[asset.id] = ingest
    return ingest


def ingest_of(asset_id: str | None) -> LiveIngest | None:
    """This process's running ingest of an asset, if any."""
    if not asset_id:
        return None
    with _LOCK:
        ingest = _INGESTS.get(asset_id)
        if ingest is not None and not ingest.alive:
            _INGESTS.pop(asset_id, None)
            return None
        return ingest


def finish_ingest(asset_id: str | None, *, keep_open: bool = False) -> LiveIngest | None:
    """Ask this process's ingest of an asset to end cleanly; returns it (or None)."""
    ingest = ingest_of(asset_id)
    if ingest is not None:
        ingest.finish(keep_open=keep_open)
    return ingest
