"""The recording of a lecture (service level, real database and local storage): the ended stream
becomes a ready asset with VOD playlists and a lesson in 'lecture recordings' for the same
audience, once; a teacher who watches a training recording is counted as trained, by the same
lesson progress and coverage code as any course.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from elearn.extensions import db
from live import service
from live.models import LectureStatus
from live.service import broadcast
from media.storage import get_storage
from tests.conftest import user
from tests.live.helpers import make_lecture

SEGMENTS = 30  # 60 s


def _playlist(ended: bool) -> bytes:
    text = "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n"
    text += "#EXT-X-PLAYLIST-TYPE:EVENT\n"
    text += "".join(f"#EXTINF:2.000000,\nseg_{i:05d}.ts\n" for i in range(SEGMENTS))
    return (text + ("#EXT-X-ENDLIST\n" if ended else "")).encode()


def _streamed_lecture(*, ended_stream: bool = True, **extra):
    """A lecture that went live and whose stream (as ffmpeg leaves it) is in storage."""
    expert = user("expert1")
    lecture = make_lecture(**extra)
    service.set_status(actor=expert, lecture=lecture, status=LectureStatus.LIVE)
    asset = broadcast.start_stream(actor=expert, lecture=lecture)
    storage = get_storage()
    storage.put(asset.master_key, b"#EXTM3U\n")
    for rendition in asset.renditions:
        storage.put(rendition["playlist_key"], _playlist(ended_stream))
        base = rendition["playlist_key"].rsplit("/", 1)[0]
        storage.put(f"{base}/seg_00000.ts", b"\x47" * 188)
    lecture.started_at = datetime.now(UTC) - timedelta(minutes=1)
    service.set_status(actor=expert, lecture=lecture, status=LectureStatus.ENDED)
    return lecture, asset


def test_ended_stream_becomes_a_recording_lesson_once(ctx):
    from courses.models import Category, Lesson
    from courses.service import can_see_live

    lecture, asset = _streamed_lecture()
    assert broadcast.publish_recording(lecture) == "published"
    assert asset.status == "ready" and asset.duration_seconds == SEGMENTS * 2
    for rendition in asset.renditions:
        text = get_storage().get(rendition["playlist_key"]).decode()
        assert "#EXT-X-PLAYLIST-TYPE:VOD" in text and text.count("#EXT-X-ENDLIST") == 1
    lesson = db.session.get(Lesson, lecture.recording_lesson_id)
    assert lesson is not None and lesson.published_revision.asset_id == asset.id
    course = lesson.course
    assert course.category == Category.LECTURE_RECORDING and course.is_live
    assert course.title == lecture.title and course.audience == "student"
    # the same audience: the demo county's student sees it, another county's does not
    assert can_see_live(user("student1"), course)
    assert not can_see_live(user("s_S0201_5_01"), course)
    assert broadcast.publish_recording(lecture) == "done"  # a retried task adds nothing


def test_recording_waits_for_the_end_of_the_stream(ctx):
    lecture, asset = _streamed_lecture(ended_stream=False)
    assert broadcast.publish_recording(lecture) == "waiting"
    assert asset.status == "live"
    # ffmpeg (or its process) never finished: after the grace the stream is taken as it is
    lecture.ended_at = datetime.now(UTC) - broadcast.END_GRACE - timedelta(seconds=1)
    assert broadcast.publish_recording(lecture) == "published"
    text = get_storage().get(asset.renditions[0]["playlist_key"]).decode()
    assert text.rstrip().endswith("#EXT-X-ENDLIST")


def test_a_live_lecture_has_no_recording_yet(ctx):
    lecture = make_lecture()
    service.set_status(actor=user("expert1"), lecture=lecture, status=LectureStatus.LIVE)
    assert broadcast.publish_recording(lecture) == "not_ended"


def test_watching_a_training_recording_records_teacher_trained(ctx):
    from courses.models import Lesson
    from courses.service import can_see_live, heartbeat
    from elearn.models import FactKind
    from elearn.service import coverage, org

    lecture, _asset = _streamed_lecture(audience=[{"role": "teacher"}], is_training=True)
    assert broadcast.publish_recording(lecture) == "published"
    lesson = db.session.get(Lesson, lecture.recording_lesson_id)
    assert lesson.course.audience == "teacher"
    assert not can_see_live(user("student1"), lesson.course)
    teacher = user("t_S0201_5")
    term = org.current_term()
    assert not coverage.has_fact(FactKind.TEACHER_TRAINED, teacher.id, term)
    start = datetime.now(UTC)
    result = None
    for step in range(0, SEGMENTS * 2 + 1, 10):
        result = heartbeat(actor=teacher, lesson=lesson, position=step, playing=True,
                           now=start + timedelta(seconds=step))  # fmt: skip
    assert result is not None and result.completed and result.course_completed
    assert coverage.has_fact(FactKind.TEACHER_TRAINED, teacher.id, term)


def test_room_page_of_an_ended_lecture_links_its_recording(app, signed_in):
    with app.test_request_context():
        lecture, _asset = _streamed_lecture(title="回放链接测试")
        assert broadcast.publish_recording(lecture) == "published"
        db.session.commit()
        lecture_id, lesson_id = lecture.id, lecture.recording_lesson_id
    page = signed_in("student1").get(f"/lectures/{lecture_id}").get_data(as_text=True)
    assert f'id="live-recording" href="/lessons/{lesson_id}"' in page
    studio = signed_in("expert1").get(f"/lectures/{lecture_id}/studio")
    assert studio.status_code == 200 and "studio-preview" in studio.get_data(as_text=True)
    assert signed_in("student1").get(f"/lectures/{lecture_id}/studio").status_code == 403
