"""Demo content for the network classroom (added after the carrier's demo seed; idempotent).

Each demo course ends with a short video lesson: a clip generated with ffmpeg at seed time and
brought in through the media pipeline (sniff, probe, HLS ladder, storage), as an upload would be.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import select

from courses import service
from courses.models import Course, CourseStatus, LessonKind
from elearn.extensions import db
from elearn.models import Unit, User
from media.models import AssetStatus
from media.pipeline import ingest_file
from media.transcode import demo as demo_clips
from media.transcode import runner

#: the length of each generated demo clip, in seconds
CLIP_SECONDS = 7.0

DEMO_COURSES: list[dict[str, Any]] = [
    {
        "title": "远离毒品，健康成长（小学高年级）",
        "description": "面向四至六年级学生的禁毒专题课：认识毒品、识别诱惑、学会拒绝。",
        "audience": "student",
        "grade_band": "upper_primary",
        "video": {"title": "视频小结：珍爱生命，远离毒品", "caption": "珍爱生命  远离毒品"},
        "category": "audio_video",
        "drug_type": "general",
        "lessons": [
            {
                "title": "第一课：认识毒品",
                "body_html": (
                    "<h2>什么是毒品</h2><p>毒品是指鸦片、海洛因、甲基苯丙胺（冰毒）、吗啡、大麻、"
                    "可卡因以及国家规定管制的其他能够使人形成瘾癖的麻醉药品和精神药品。</p>"
                    "<h3>记住三句话</h3><ul><li>不好奇，不尝试第一口。</li>"
                    "<li>不接受陌生人给的饮料、零食和香烟。</li>"
                    "<li>遇到可疑情况，马上告诉老师和家长。</li></ul>"
                ),
            },
            {
                "title": "科学课渗透：毒品对大脑的伤害",
                "role": "infiltration",
                "subject": "biology",
                "body_html": (
                    "<p>毒品会直接作用于大脑的奖赏系统，让人产生依赖。长期吸毒会损害记忆力、"
                    "注意力和判断力，还会伤害心脏、肝脏等器官。</p>"
                    "<p>青少年的大脑仍在发育，更容易受到伤害。珍爱生命，远离毒品！</p>"
                ),
            },
        ],
    },
    {
        "title": "教师禁毒教育专题培训",
        "description": "本学期全州教师禁毒教育培训：如何上好禁毒专题课与学科渗透课（一课双讲）。",
        "audience": "teacher",
        "video": {"title": "视频导学：如何上好一节禁毒课", "caption": "教师禁毒教育专题培训"},
        "category": "lecture_recording",
        "drug_type": "general",
        "lessons": [
            {
                "title": "“1+N”禁毒教学模式",
                "body_html": (
                    "<p>“1”是每学期一节禁毒专题课，“N”是在道德与法治、生物、化学、体育与健康等"
                    "学科中渗透禁毒知识。</p><p>教师应做到计划、大纲、课时、师资、教材五落实。</p>"
                ),
            }
        ],
    },
    {
        "title": "家长学校：守护孩子远离毒品",
        "description": "家长如何识别孩子身边的毒品风险，如何与孩子谈毒品。",
        "audience": "parent",
        "video": {"title": "视频：家长的三个守护动作", "caption": "家长学校  守护孩子远离毒品"},
        "category": "text_pictures",
        "drug_type": "new_psychoactive",
        "lessons": [
            {
                "title": "识别伪装成零食饮料的新型毒品",
                "body_html": (
                    "<p>新型毒品常伪装成“奶茶”“跳跳糖”“邮票”“电子烟油”等，外观和普通商品很像。</p>"
                    "<ul><li>留意孩子情绪、作息、交友的突然变化。</li>"
                    "<li>告诉孩子不要接受陌生人给的食品和饮料。</li>"
                    "<li>发现可疑物品，及时联系学校或拨打110。</li></ul>"
                ),
            }
        ],
    },
]


def _has_video(course: Course) -> bool:
    """A video lesson, or an author's removal of lessons (theirs to decide, not the seed's)."""
    return any(
        lesson.removed_at is not None
        or (
            lesson.working_revision is not None and lesson.working_revision.kind == LessonKind.VIDEO
        )
        for unit in course.course_units
        for lesson in unit.lessons
    )


def _demo_video(author: User, caption: str, work: Path, number: int) -> str | None:
    """A generated clip brought in through the media pipeline; its asset id, or None."""
    clip = work / f"demo-{number}.mp4"
    try:
        demo_clips.make_demo_clip(clip, title=caption, seconds=CLIP_SECONDS)
    except (runner.TranscodeError, OSError) as error:
        current_app.logger.warning("demo seed: no video lesson, ffmpeg failed: %s", error)
        return None
    asset = ingest_file(actor=author, path=clip, content_type="video/mp4",
                        filename=f"demo-{number}.mp4")  # fmt: skip
    if asset.status != AssetStatus.READY:
        current_app.logger.warning("demo seed: the demo clip failed processing (%s)", asset.reason)
        return None
    return asset.id


def seed_demo_courses() -> None:
    """Publish the demo courses (students of grades 5–6, teachers' training, parent school).

    Each gets a short video lesson; a course seeded before it existed gets it in a new version.
    Without ffmpeg (``scripts/system-deps.sh`` installs it) the courses are seeded without video.
    """
    author = db.session.scalar(select(User).where(User.username == "pref_admin"))
    prefecture = db.session.scalar(
        select(Unit).where(Unit.parent_id.is_(None), Unit.code == "DEMO")
    )
    if author is None or prefecture is None:
        return
    have_ffmpeg = shutil.which(runner.FFMPEG) is not None and shutil.which("ffprobe") is not None
    if not have_ffmpeg:
        current_app.logger.warning("demo seed: ffmpeg not found, the demo courses get no video")
    with tempfile.TemporaryDirectory(prefix="elearn-demo-") as tmp:
        for number, spec in enumerate(DEMO_COURSES, start=1):
            course = db.session.scalar(
                select(Course).where(Course.unit_id == prefecture.id, Course.title == spec["title"])
            )
            if course is not None and (
                course.status != CourseStatus.PUBLISHED or _has_video(course)
            ):
                continue  # done before, or an admin has taken the course in hand
            video = spec["video"]
            asset_id = (
                _demo_video(author, video["caption"], Path(tmp), number) if have_ffmpeg else None
            )
            if course is None:
                course = service.create_course(
                    actor=author,
                    unit=prefecture,
                    title=str(spec["title"]),
                    description=str(spec["description"]),
                    audience=str(spec["audience"]),
                    grade_band=spec.get("grade_band"),
                    category=str(spec["category"]),
                    drug_type=spec.get("drug_type"),
                )
                for lesson in spec["lessons"]:
                    service.add_lesson(
                        actor=author,
                        course=course,
                        title=lesson["title"],
                        kind="rich_text",
                        body_html=lesson["body_html"],
                        role=lesson.get("role", "dedicated"),
                        subject=lesson.get("subject"),
                    )
            elif asset_id is None:
                continue  # seeded before, and still no video to add
            if asset_id is not None:
                service.add_lesson(
                    actor=author, course=course, title=video["title"], kind="video",
                    asset_id=asset_id,
                )  # fmt: skip
            service.submit_for_review(actor=author, course=course)
            service.publish(actor=author, course=course, comment="演示课程")
    db.session.flush()
