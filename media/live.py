"""Live streams as media assets: one ingest per stream, live playlists for players, the recording.

A live stream is an asset in status ``live`` whose renditions fill up while a lecture runs:
``LiveIngest`` feeds the lecturer's recorder chunks to the live ffmpeg that
``media.transcode.LiveTranscode`` runs (the only place ffmpeg runs), and uploads each segment
and playlist into storage as soon as ffmpeg has written it. Players get the playlists through
app URLs (``media.routes``) that keep a short window of the newest segments and sign each
segment URI for a few minutes, as VOD playback does. When the stream ends, ``finish_recording``
turns the same objects into a ready asset with VOD playlists: nothing is transcoded twice.

Threads: the Socket.IO handler only ``offer``s a chunk to a bounded queue; a writer thread feeds
the pipe (a write may wait while ffmpeg is busy) and an uploader thread polls ffmpeg's folder.
Under gevent both are greenlets (``threading`` and ``subprocess`` are monkey-patched), under the
threading server real threads: neither blocks the event loop.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from elearn.extensions import db
from elearn.models import User
from media.models import Asset, AssetKind, AssetStatus
from media.settings import setting
from media.storage import Storage
from media.transcode import ladder, runner
from media.transcode import live as live_ffmpeg

log = logging.getLogger(__name__)

HLS = "application/vnd.apple.mpegurl"
#: segments in a live playlist as players get it (the stored playlist keeps every segment)
LIVE_WINDOW = 8
#: chunks waiting for the pipe; a lecturer's browser sends about one a second
QUEUE_CHUNKS = 30
#: an ingest nobody feeds for this long ends (the lecturer's tab closed without ending)
IDLE_SECONDS = 45.0
POLL_SECONDS = 0.25
#: how long a resumed stream waits for the run it replaces to put its last segment away
HANDOVER_SECONDS = 20.0
#: how long the storage URL a segment request is redirected to stays valid
SEGMENT_URL_SECONDS = 120
SEGMENT_RE = re.compile(r"seg_\d{5,8}\.ts")
RENDITION_RE = re.compile(r"[0-9a-z]{1,16}")
ASSET_ID_RE = re.compile(r"[0-9a-f]{32}")


def live_prefix(asset: Asset) -> str:
    return f"assets/{asset.id}/live/"


def start_live_asset(*, owner: User, unit_id: int | None, title: str,
                     plan: live_ffmpeg.LivePlan) -> Asset:  # fmt: skip
    """A new live asset: its renditions and keys are known before the first segment exists."""
    asset = Asset(
        owner_id=owner.id,
        unit_id=unit_id,
        kind=AssetKind.VIDEO,
        status=AssetStatus.LIVE,
        progress=0,
        original_filename=(title or "live")[:240] + ".webm",
        declared_size=0,
        declared_type="video/webm",
        sniffed_type="webm",
        ladder_version=ladder.LADDER_VERSION,
        meta={"live": True},
    )
    db.session.add(asset)
    db.session.flush()
    prefix = live_prefix(asset)
    asset.renditions = [
        {"name": r["name"], "bandwidth": r["bandwidth"], "kind": r["kind"],
         "playlist_key": prefix + r["playlist"]}
        for r in live_ffmpeg.live_renditions(plan)
    ]  # fmt: skip
    asset.master_key = prefix + "master.m3u8"
    asset.height = plan.height
    db.session.flush()
    return asset


def _segments(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def _safe_segment(name: str) -> bool:
    """Only names ffmpeg writes; anything else never reaches a signer."""
    return "/" not in name and ".." not in name and name.endswith(".ts")


def windowed_playlist(text: str, *, sign: Callable[[str], str], window: int = LIVE_WINDOW) -> str:
    """A player's view of a stored playlist (pure).

    While live (no ENDLIST): the newest ``window`` segments, the media sequence moved on to match
    and the EVENT type dropped (an event playlist may not lose segments). Ended: every segment.
    Segment URIs go through ``sign``.
    """
    lines = text.splitlines()
    ended = any(line.startswith("#EXT-X-ENDLIST") for line in lines)
    header: list[str] = []
    entries: list[tuple[list[str], str]] = []
    pending: list[str] = []
    sequence = 0
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#EXT-X-MEDIA-SEQUENCE:"):
            with contextlib.suppress(ValueError):
                sequence = int(line.split(":", 1)[1])
            continue
        if line.startswith("#EXT-X-ENDLIST"):
            continue
        if line.startswith("#EXTINF") or (entries or pending) and line.startswith("#"):
            pending.append(line)
            continue
        if line.startswith("#"):
            if line.startswith("#EXT-X-DISCONTINUITY"):
                continue  # before the first segment: nothing to be discontinuous with
            if not (line.startswith("#EXT-X-PLAYLIST-TYPE") and not ended):
                header.append(line)
            continue
        if _safe_segment(line):
            entries.append((pending, line))
        pending = []
    skipped = 0 if ended else max(0, len(entries) - window)
    out = [*header, f"#EXT-X-MEDIA-SEQUENCE:{sequence + skipped}"]
    gaps = sum(tags.count("#EXT-X-DISCONTINUITY") for tags, _name in entries[:skipped])
    if gaps:
        out.append(f"#EXT-X-DISCONTINUITY-SEQUENCE:{gaps}")
    for tags, name in entries[skipped:]:
        out += tags
        out.append(sign(name))
    if ended:
        out.append("#EXT-X-ENDLIST")
    return "\n".join(out) + "\n"


def live_variant_playlist(asset: Asset, name: str, storage: Storage) -> str | None:
    """One rendition's playlist for a player; None before it exists.

    Segment URIs stay relative: they resolve under the same signed app URL
    (``/media/live/<token>/<name>/<segment>``), which redirects to a storage URL signed for a
    minute or two. A live player re-reads the playlist every segment and insists that a segment
    keeps its URI, so the URIs in the playlist can't carry a fresh signature each time.
    """
    rendition = next((r for r in asset.renditions if r.get("name") == name), None)
    if rendition is None:
        return None
    key = rendition["playlist_key"]
    if storage.stat(key) is None:
        return None
    text = storage.get(key).decode("utf-8", "replace")
    return windowed_playlist(text, sign=lambda segment: segment)


def segment_key(asset_id: str, name: str, segment: str) -> str | None:
    """Where a live segment of an asset lives, for names ffmpeg writes only (pure)."""
    if not SEGMENT_RE.fullmatch(segment) or not RENDITION_RE.fullmatch(name):
        return None
    if not ASSET_ID_RE.fullmatch(asset_id):
        return None
    return f"assets/{asset_id}/live/{name}/{segment}"


def segment_url(asset_id: str, name: str, segment: str, storage: Storage) -> str | None:
    """A storage URL for one live segment, signed for ``SEGMENT_URL_SECONDS``."""
    key = segment_key(asset_id, name, segment)
    if key is None:
        return None
    return storage.presigned_get(key, timedelta(seconds=SEGMENT_URL_SECONDS))


def is_playable(asset: Asset, storage: Storage) -> bool:
    """The stream has a master playlist and a first video segment in storage."""
    if asset.master_key is None or storage.stat(asset.master_key) is None:
        return False
    video = next((r for r in asset.renditions if r.get("kind") == "video"), None)
    if video is None or storage.stat(video["playlist_key"]) is None:
        return False
    return bool(_segments(storage.get(video["playlist_key"]).decode("utf-8", "replace")))


# --- the recording ------------------------------------------------------------------------------


def _seconds(text: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith("#EXTINF:"):
            with contextlib.suppress(ValueError):
                total += float(line[8:].split(",")[0])
    return total


def vod_playlist(text: str) -> str:
    """A finished live playlist as a VOD one: type VOD, ENDLIST present (pure)."""
    lines = [line for line in text.splitlines() if line.strip()]
    out: list[str] = []
    typed = False
    for line in lines:
        if line.startswith("#EXT-X-PLAYLIST-TYPE"):
            line = "#EXT-X-PLAYLIST-TYPE:VOD"
            typed = True
        if line.startswith("#EXT-X-ENDLIST"):
            continue
        out.append(line)
    if not typed:
        out.insert(min(2, len(out)), "#EXT-X-PLAYLIST-TYPE:VOD")
    out.append("#EXT-X-ENDLIST")
    return "\n".join(out) + "\n"


def stream_ended(asset: Asset, storage: Storage) -> bool:
    """ffmpeg has finished every rendition (each playlist ends with ENDLIST)."""
    for rendition in asset.renditions:
        key = rendition["playlist_key"]
        if storage.stat(key) is None:
            return False
        if "#EXT-X-ENDLIST" not in storage.get(key).decode("utf-8", "replace"):
            return False
    return True


def finish_recording(asset: Asset, storage: Storage) -> bool:
    """Turn an ended live asset into a ready one with VOD playlists; idempotent.

    False (and the asset failed) when the stream never produced a segment.
    """
    if asset.status == AssetStatus.READY:
        return True
    from media.service import fail

    duration = 0.0
    kept = []
    for rendition in asset.renditions:
        key = rendition["playlist_key"]
        text = storage.get(key).decode("utf-8", "replace") if storage.stat(key) else ""
        if not _segments(text):
            continue
        storage.put(key, vod_playlist(text).encode(), content_type=HLS)
        if rendition["kind"] == "video" or not duration:
            duration = max(duration, _seconds(text))
        kept.append(rendition)
    if not any(r["kind"] == "video" for r in kept) or duration <= 0:
        fail(asset, "corrupt_media")
        return False
    asset.renditions = kept
    asset.duration_seconds = round(duration, 3)
    asset.size = None
    asset.status = AssetStatus.READY
    asset.progress = 100
    meta = dict(asset.meta or {})
    meta["recording"] = True
    asset.meta = meta
    from media.pipeline import _now

    asset.ready_at = _now()
    db.session.flush()
    return True


# --- the ingest ---------------------------------------------------------------------------------


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
            for segment in _segments(data.decode("utf-8", "replace")):
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
            segments = _segments(data.decode("utf-8", "replace"))
            for segment in segments:
                if not _safe_segment(segment) or (name, segment) in self._uploaded:
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
