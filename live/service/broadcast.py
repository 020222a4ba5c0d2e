"""The lecture's picture and sound: the live stream (a media asset) and, at the end, its recording.

The lecturer's studio page starts a stream once the lecture is live; the stream is a media asset
in status ``live`` whose HLS renditions fill up while the lecture runs (``media.live``). Viewers
get signed playlist URLs of their own. When the lecture has ended and ffmpeg has written its last
segment, ``publish_recording`` makes the asset a ready recording and a lesson in the course
library (category 'lecture recordings'), for the same audience.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import aliased

from courses.models import Audience
from courses.service import grade_band_of
from courses.service import publish_recording as publish_course_recording
from elearn.extensions import db
from elearn.models import Role, Unit, UnitType, User
from elearn.service.errors import Forbidden, ServiceError
from live.models import Lecture, LectureStatus
from live.service.audience import is_host
from live.service.base import _now
from media import live as media_live
from media import service as media_service
from media.models import Asset, AssetStatus
from media.storage import Storage, get_storage
from media.transcode import live as live_ffmpeg

#: after the end, how long the recording task waits for ffmpeg's last segment before taking
#: the stream as it is (the lecturer's process may have died)
END_GRACE = timedelta(seconds=90)


def live_plan(*, has_audio: bool = True) -> live_ffmpeg.LivePlan:
    """The live rendition recipe, from ``ELEARN_LIVE_VIDEO_HEIGHT`` / ``..._VIDEO_BITRATE``."""
    config = current_app.config
    return live_ffmpeg.LivePlan(
        has_audio=has_audio,
        height=int(config.get("LIVE_VIDEO_HEIGHT", 480)),
        video_bitrate=int(config.get("LIVE_VIDEO_BITRATE", 900_000)),
    )


def stream_asset(lecture: Lecture) -> Asset | None:
    if not lecture.recording_asset_id:
        return None
    return db.session.get(Asset, lecture.recording_asset_id)


def start_stream(*, actor: User, lecture: Lecture, has_audio: bool = True) -> Asset:
    """A host starts the lecture's stream: a new live asset, or the live one again (a restarted
    studio resumes the same stream, so the recording stays whole)."""
    if not is_host(actor, lecture):
        raise Forbidden(_("Only the lecturer and co-hosts can do this."))
    if lecture.status != LectureStatus.LIVE:
        raise ServiceError(_("Go live before you start the camera."), status=409)
    old = stream_asset(lecture)
    if old is not None and old.status == AssetStatus.LIVE:
        return old
    asset = media_live.start_live_asset(
        owner=lecture.lecturer,
        unit_id=lecture.owner_unit_id,
        title=lecture.title,
        plan=live_plan(has_audio=has_audio),
    )
    lecture.recording_asset_id = asset.id
    db.session.flush()
    return asset


def stream_urls(*, actor: User, lecture: Lecture, storage: Storage | None = None) -> dict[str, Any]:
    """Signed playlist URLs of the lecture's stream for one viewer (after the join checks)."""
    asset = stream_asset(lecture)
    storage = storage or get_storage()
    if asset is None or asset.status not in {AssetStatus.LIVE, AssetStatus.READY}:
        return {"available": False}
    if asset.status == AssetStatus.LIVE and not media_live.is_playable(asset, storage):
        return {"available": False}
    token = media_service.playback_token(asset, actor)
    has_audio = any(r.get("kind") == "audio" for r in asset.renditions)
    return {
        "available": True,
        "live": asset.status == AssetStatus.LIVE,
        "master_url": f"/media/live/{token}/master.m3u8",
        "audio_url": f"/media/live/{token}/audio/index.m3u8" if has_audio else None,
    }


# --- the recording ------------------------------------------------------------------------------


def _recording_track(lecture: Lecture) -> str:
    roles = {row.role for row in lecture.audience}
    if lecture.is_training or roles == {Role.TEACHER}:
        return Audience.TEACHER
    if roles == {Role.GUARDIAN}:
        return Audience.PARENT
    return Audience.STUDENT


def _recording_unit(lecture: Lecture) -> Unit:
    """The deepest unit above every audience unit: the course reaches the same subtree."""
    chains = [list(row.unit.ancestor_ids) for row in lecture.audience]
    if not chains:
        return lecture.owner_unit
    common: list[int] = []
    for ids in zip(*chains, strict=False):
        if len(set(ids)) != 1:
            break
        common.append(ids[0])
    unit = db.session.get(Unit, common[-1]) if common else None
    return unit or lecture.owner_unit


def _grade_band(lecture: Lecture) -> str | None:
    """A student recording's grade band, from the grades its audience sits in: an audience
    class's grade, an audience grade, every grade under an audience school, county or the
    prefecture. One band for all of them is the course's; an audience across several bands
    (a county's primary and junior schools) makes a course for every grade (None)."""
    grade, school = aliased(Unit), aliased(Unit)
    units = [row.unit for row in lecture.audience]
    within = [
        grade.path.startswith(u.path, autoescape=True) for u in units if u.type != UnitType.CLASS
    ]
    classes = [u.parent_id for u in units if u.type == UnitType.CLASS]
    if classes:
        within.append(grade.id.in_(classes))
    if not within:
        return None
    found = db.session.execute(
        select(grade.grade_level, school.school_kind)
        .join(school, school.id == grade.parent_id)
        .where(grade.type == UnitType.GRADE, or_(*within))
        .distinct()
    )
    bands = {grade_band_of(level, kind) for level, kind in found}
    bands.discard(None)
    return bands.pop() if len(bands) == 1 else None


def publish_recording(lecture: Lecture, *, storage: Storage | None = None) -> str:
    """After the end: the stream becomes a ready asset and a library lesson; idempotent.

    Returns "published", "waiting" (ffmpeg has not finished; try again shortly), or why it
    did nothing ("not_ended", "no_stream", "done", "failed").
    """
    if lecture.status != LectureStatus.ENDED:
        return "not_ended"
    if lecture.recording_lesson_id is not None:
        return "done"
    asset = stream_asset(lecture)
    if asset is None:
        return "no_stream"
    storage = storage or get_storage()
    if asset.status == AssetStatus.LIVE and not media_live.stream_ended(asset, storage):
        ended_at = lecture.ended_at or _now()
        if _now() - ended_at < END_GRACE:
            return "waiting"
    if not media_live.finish_recording(asset, storage):
        return "failed"
    lesson = publish_course_recording(
        lecturer=lecture.lecturer,
        unit=_recording_unit(lecture),
        title=lecture.title,
        audience=_recording_track(lecture),
        grade_band=_grade_band(lecture),
        asset=asset,
    )
    lecture.recording_lesson_id = lesson.id
    db.session.flush()
    return "published"
