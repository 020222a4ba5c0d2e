"""Live streams as media assets: one ingest per stream, live playlists for players, the recording.

A live stream is an asset in status ``live`` whose renditions fill up while a lecture runs:
``media.ingest.LiveIngest`` feeds the lecturer's recorder chunks to the live ffmpeg that
``media.transcode.live.LiveTranscode`` runs (the only place ffmpeg runs), and uploads each segment
and playlist into storage as soon as ffmpeg has written it. Players get the playlists through
app URLs (``media.routes``) that keep a short window of the newest segments and sign each
segment URI for a few minutes, as VOD playback does. When the stream ends, ``finish_recording``
turns the same objects into a ready asset with VOD playlists: nothing is transcoded twice.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from elearn.extensions import db
from elearn.models import User
from media.models import Asset, AssetKind, AssetStatus
from media.service.uploads import fail
from media.storage import Storage
from media.transcode import ladder
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


def playlist_segments(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def safe_segment(name: str) -> bool:
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
        if safe_segment(line):
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
    return bool(playlist_segments(storage.get(video["playlist_key"]).decode("utf-8", "replace")))


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
    duration = 0.0
    kept = []
    for rendition in asset.renditions:
        key = rendition["playlist_key"]
        text = storage.get(key).decode("utf-8", "replace") if storage.stat(key) else ""
        if not playlist_segments(text):
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
    asset.ready_at = datetime.now(UTC)
    db.session.flush()
    return True
