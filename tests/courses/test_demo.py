"""The demo seed: three published courses with a real video lesson, made through the pipeline."""

from __future__ import annotations

from sqlalchemy import func, select

from courses import demo
from courses.models import CourseStatus, LessonKind
from elearn.extensions import db
from media.models import Asset, AssetStatus
from media.storage import get_storage
from tests.courses.test_api import (
    PARENT_COURSE,
    STUDENT_COURSE,
    TEACHER_COURSE,
    course_named,
    demo_ids,
)


def _video_lessons(title: str):
    course = course_named(title)
    lessons = [lesson for unit in course.course_units for lesson in unit.lessons]
    return course, [
        lesson
        for lesson in lessons
        if lesson.published_revision is not None
        and lesson.published_revision.kind == LessonKind.VIDEO
    ]


def test_each_demo_course_has_a_ready_video_lesson_with_hls_in_storage(ctx):
    storage = get_storage()
    assets = set()
    for title in (STUDENT_COURSE, TEACHER_COURSE, PARENT_COURSE):
        course, videos = _video_lessons(title)
        assert course.status == CourseStatus.PUBLISHED, title
        assert len(videos) == 1, title
        asset = videos[0].published_revision.asset
        assert asset.status == AssetStatus.READY and asset.kind == "video"
        assert asset.owner.username == "pref_admin"
        assert 6.5 <= asset.duration_seconds <= 7.5
        assert {r["name"] for r in asset.renditions} == {"audio", "360p"}
        master = storage.get(asset.master_key).decode()
        assert master.startswith("#EXTM3U") and "360p/index.m3u8" in master
        playlist = storage.get(f"{asset.output_prefix()}360p/index.m3u8").decode()
        assert "#EXT-X-ENDLIST" in playlist and playlist.count(".ts") == 4  # 2 s segments
        assert storage.get(asset.poster_key).startswith(b"\xff\xd8\xff")
        assert videos[0].published_revision.duration_seconds == asset.duration_seconds
        assets.add(asset.id)
    assert len(assets) == 3


def test_student1_finds_the_video_lesson_of_their_grade(signed_in):
    course_id, (*_, video_id) = demo_ids(STUDENT_COURSE)
    client = signed_in("student1")
    detail = client.get(f"/api/v1/courses/{course_id}").get_json()
    assert detail["grade_band"] == "upper_primary"
    page = client.get(f"/lessons/{video_id}").get_data(as_text=True)
    assert "/media/play/" in page and 'data-hls-src="/media/static/vendor/hls/hls.min' in page


def test_seeding_again_adds_nothing(ctx):
    assets = db.session.scalar(select(func.count()).select_from(Asset))
    lessons = [len(demo_ids(t)[1]) for t in (STUDENT_COURSE, TEACHER_COURSE, PARENT_COURSE)]
    versions = [course_named(t).version for t in (STUDENT_COURSE, TEACHER_COURSE, PARENT_COURSE)]
    demo.seed_demo_courses()
    db.session.flush()
    assert db.session.scalar(select(func.count()).select_from(Asset)) == assets
    assert [len(demo_ids(t)[1]) for t in (STUDENT_COURSE, TEACHER_COURSE, PARENT_COURSE)] == lessons
    assert [
        course_named(t).version for t in (STUDENT_COURSE, TEACHER_COURSE, PARENT_COURSE)
    ] == versions


def test_a_course_seeded_before_the_video_gets_it_in_a_new_version(ctx):
    course, videos = _video_lessons(PARENT_COURSE)
    version = course.version
    for lesson in videos:  # as the seed left courses before it made video lessons
        db.session.delete(lesson)
    db.session.flush()
    db.session.expire_all()
    demo.seed_demo_courses()
    db.session.flush()
    course, videos = _video_lessons(PARENT_COURSE)
    assert len(videos) == 1 and course.version == version + 1
    assert course.status == CourseStatus.PUBLISHED
    assert videos[0].published_revision.asset.status == AssetStatus.READY


def test_a_video_lesson_an_author_removed_is_not_seeded_again(ctx):
    from courses import service
    from tests.conftest import user

    course, videos = _video_lessons(TEACHER_COURSE)
    author = user("pref_admin")
    service.remove_lesson(actor=author, lesson=videos[0])
    service.submit_for_review(actor=author, course=course)
    service.publish(actor=author, course=course)
    assets = db.session.scalar(select(func.count()).select_from(Asset))
    demo.seed_demo_courses()
    db.session.flush()
    assert _video_lessons(TEACHER_COURSE)[1] == []
    assert db.session.scalar(select(func.count()).select_from(Asset)) == assets
