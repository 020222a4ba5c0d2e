"""Socket.IO events of the lecture's video (namespace ``/live``), beside ``live.events``.

The studio page sends ``media_start``, then the recorder's chunks as binary ``media_chunk``
events (about one a second), and ``media_stop``. Only the host socket that started the stream may
feed it; chunks are size- and rate-limited. Each chunk is queued for this process's ffmpeg
(``media.ingest.LiveIngest``) and the handler returns at once: it never waits on the pipe.
Viewers ask ``stream`` for their signed playlist URLs; the room gets ``stream`` ``{"available"}``
when the first segment is in storage, and ``recording`` when the replay is in the library.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from flask import current_app, request
from flask_babel import gettext as _

from elearn.extensions import db, socketio
from elearn.models import User
from elearn.service.errors import ServiceError
from live.events import Connection, _field, _handler, _lecture_of
from live.models import Lecture
from live.service import broadcast
from live.summaries import NAMESPACE, room_of
from live.throttle import MemoryThrottle
from media import ingest as media_ingest
from media.storage import get_storage

log = logging.getLogger(__name__)

#: sid of the socket feeding each stream (asset id) in this process
_FEEDERS: dict[str, str] = {}
_LOCK = threading.Lock()
_THROTTLE: list[MemoryThrottle] = []


def _chunk_throttle() -> MemoryThrottle:
    if not _THROTTLE:
        config = current_app.config
        _THROTTLE.append(
            MemoryThrottle(
                float(config.get("LIVE_MEDIA_CHUNKS_PER_SECOND", 4)),
                int(config.get("LIVE_MEDIA_CHUNK_BURST", 12)),
            )
        )
    return _THROTTLE[0]


def _max_chunk() -> int:
    return int(current_app.config.get("LIVE_MEDIA_MAX_CHUNK_BYTES", 512 * 1024))


def _notify_ready(lecture_id: int) -> None:
    socketio.emit("stream", {"available": True}, to=room_of(lecture_id), namespace=NAMESPACE)


def _queue_recording(lecture_id: int) -> None:
    from live import tasks

    tasks.publish_recording.apply_async((lecture_id,), queue="media")


@_handler("media_start")
def on_media_start(conn: Connection, actor: User, data: Any) -> dict[str, Any]:
    lecture = _lecture_of(conn, actor)
    has_audio = _field(data, "audio") is not False
    asset = broadcast.start_stream(actor=actor, lecture=lecture, has_audio=has_audio)
    db.session.commit()
    lecture_id = lecture.id
    sid = request.sid  # type: ignore[attr-defined]
    media_ingest.open_ingest(
        asset,
        get_storage(),
        plan=broadcast.live_plan(has_audio=has_audio),
        on_ready=lambda: _notify_ready(lecture_id),
        on_done=lambda ok: _queue_recording(lecture_id),
    )
    with _LOCK:
        _FEEDERS[asset.id] = sid
    return {"stream": asset.id}


@_handler("media_chunk")
def on_media_chunk(conn: Connection, actor: User, data: Any) -> dict[str, Any]:
    if not isinstance(data, bytes | bytearray):
        raise ServiceError(_("Send the video as binary data."))
    if len(data) > _max_chunk():
        raise ServiceError(_("This piece of video is too large."), status=413)
    lecture = _lecture_of(conn, actor)
    asset_id = lecture.recording_asset_id
    with _LOCK:
        feeder = _FEEDERS.get(asset_id or "")
    if feeder != request.sid:  # type: ignore[attr-defined]
        # a viewer, another host's socket, or a stream that was never started here
        raise ServiceError(_("Only the lecturer's studio can send video."), status=403)
    if not _chunk_throttle().allow(request.sid):  # type: ignore[attr-defined]
        raise ServiceError(_("The video is arriving too fast."), status=429)
    ingest = media_ingest.ingest_of(asset_id)
    if ingest is None or not ingest.offer(bytes(data)):
        raise ServiceError(_("The stream has stopped. Start the camera again."), status=409)
    return {}


@_handler("media_stop")
def on_media_stop(conn: Connection, actor: User, data: Any) -> dict[str, Any]:
    lecture = _lecture_of(conn, actor)
    with _LOCK:
        feeder = _FEEDERS.get(lecture.recording_asset_id or "")
    if feeder != request.sid:  # type: ignore[attr-defined]
        raise ServiceError(_("Only the lecturer's studio can send video."), status=403)
    media_ingest.finish_ingest(lecture.recording_asset_id, keep_open=True)
    return {}


@_handler("stream")
def on_stream(conn: Connection, actor: User, data: Any) -> dict[str, Any]:
    lecture = _lecture_of(conn, actor)
    return broadcast.stream_urls(actor=actor, lecture=lecture)


def after_end(lecture: Lecture) -> None:
    """The lecture has ended (committed): end its stream here, then make the recording.

    With a stream running in this process, its ``on_done`` queues the recording once ffmpeg has
    written the last segment; otherwise (no stream, or it runs elsewhere) it is queued now and
    the task waits for the end of the stream itself.
    """
    ingest = media_ingest.finish_ingest(lecture.recording_asset_id)
    if ingest is None and lecture.recording_asset_id:
        _queue_recording(lecture.id)
