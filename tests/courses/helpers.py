"""Factories for the courses tests: courses published through the real review flow, assets."""

from __future__ import annotations

from courses import service
from courses.models import Course
from elearn.extensions import db
from media.models import Asset
from tests.conftest import unit_by_code, user

TEXT = "<p>" + "毒品危害身心健康。" * 30 + "</p>"


def create_asset(owner, *, kind="video", status="ready", duration=100.0) -> Asset:
    """An asset row as media leaves it after processing (ready with a duration)."""
    asset = Asset(
        owner_id=owner.id,
        kind=kind,
        status=status,
        original_filename=f"demo.{'mp4' if kind == 'video' else 'bin'}",
        declared_size=1000,
        declared_type="video/mp4",
        duration_seconds=duration if status == "ready" else None,
        renditions=[],
    )
    db.session.add(asset)
    db.session.flush()
    return asset


def make_course(
    *,
    author: str = "pref_admin",
    unit: str = "DEMO",
    audience: str = "student",
    grade_band: str | None = "upper_primary",
    title: str = "测试课程",
    category: str = "audio_video",
    lessons: int = 1,
    video_seconds: float | None = None,
    publish: bool = True,
    reviewer: str = "pref_admin",
) -> Course:
    """A course with ``lessons`` rich-text lessons (or one video lesson), published if asked."""
    actor = user(author)
    course = service.create_course(
        actor=actor,
        unit=unit_by_code(unit),
        title=title,
        description="用于测试",
        audience=audience,
        grade_band=grade_band if audience == "student" else None,
        category=category,
        drug_type="general",
    )
    if video_seconds is not None:
        asset = create_asset(actor, duration=video_seconds)
        service.add_lesson(
            actor=actor, course=course, title="视频课", kind="video", asset_id=asset.id
        )
    for n in range(lessons if video_seconds is None else 0):
        service.add_lesson(
            actor=actor, course=course, title=f"第{n + 1}课", kind="rich_text", body_html=TEXT
        )
    if publish:
        service.submit_for_review(actor=actor, course=course)
        service.publish(actor=user(reviewer), course=course)
    return course
