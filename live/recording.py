"""The end of a lecture's stream in this process, and the task that makes its recording.

Shared by the ``end`` event (``live.events``) and the studio's stream (``live.studio_events``).
"""

from __future__ import annotations

from live import tasks
from media import ingest as media_ingest


def queue_recording(lecture_id: int) -> None:
    """Make the lecture's recording a lesson (on the media queue; the task waits for the end of
    the stream)."""
    tasks.publish_recording.apply_async((lecture_id,), queue="media")


def after_end(lecture_id: int, asset_id: str | None) -> None:
    """The lecture has ended (committed): end its stream here, then make the recording.

    With a stream running in this process, its ``on_done`` queues the recording once ffmpeg has
    written the last segment; otherwise (no stream, or it runs elsewhere) it is queued now and
    the task waits for the end of the stream itself.
    """
    ingest = media_ingest.finish_ingest(asset_id)
    if ingest is None and asset_id:
        queue_recording(lecture_id)
