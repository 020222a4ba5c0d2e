"""The network classroom's use cases, called directly (no HTTP)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from courses import queries, service
from courses.models import CourseCompletion, CourseStatus, LessonProgress
from courses.queries import LibraryFilters
from courses.service import progress
from elearn import features, permissions
from elearn.extensions import db
from elearn.models import AuditEvent, FactKind, Role
from elearn.service import coverage, org
from elearn.service.errors import ServiceError
from tests.conftest import unit_by_code, user
from tests.courses.helpers import TEXT, create_asset, make_course

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def library_ids(username: str, **filters) -> set[int]:
    page = queries.library(user(username), LibraryFilters(**filters), per_page=500)
    return {c.id for c in page.courses}


def first_lesson(course):
    return course.course_units[0].lessons[0]


# --- visibility -----------------------------------------------------------------------------------


def test_prefecture_course_reaches_every_school_school_course_only_its_own(ctx):
    prefecture_course = make_course(unit="DEMO")
    school_course = make_course(author="school_admin", unit="S0101", reviewer="school_admin")
    county_course = make_course(author="county_admin", unit="C01", reviewer="county_admin")

    mine = library_ids("student1")  # class under S0101 in county C01
    assert {prefecture_course.id, school_course.id, county_course.id} <= mine
    other_county = library_ids("s_S0201_5_01")  # a grade-5 pupil in county C02
    assert prefecture_course.id in other_county
    assert school_course.id not in other_county and county_course.id not in other_county
    same_county = library_ids("s_S0102_7_01")  # another school of county C01
    assert county_course.id in same_county and school_course.id not in same_county

    outsider = user("s_S0201_5_01")
    assert not permissions.can(outsider, "view", school_course)
    # the county admin oversees the schools of their county, the prefecture admin everything
    assert school_course.id in library_ids("county_admin")
    assert school_course.id in library_ids("pref_admin")


def test_audience_filters_what_each_role_sees(ctx):
    for_students = make_course(audience="student")
    for_teachers = make_course(audience="teacher", category="lecture_recording")
    for_parents = make_course(audience="parent", category="text_pictures")

    assert library_ids("student1") >= {for_students.id}
    assert for_teachers.id not in library_ids("student1")
    assert for_parents.id not in library_ids("student1")
    assert {for_teachers.id, for_students.id} <= library_ids("teacher1")
    assert for_parents.id not in library_ids("teacher1")
    assert for_parents.id in library_ids("parent1")
    assert for_teachers.id not in library_ids("parent1")
    assert not permissions.can(user("student1"), "learn", for_teachers)


def test_drafts_are_seen_by_their_author_and_reviewers_only(ctx):
    draft = make_course(author="teacher1", unit="S0101", publish=False)
    assert draft.id not in library_ids("student1")
    assert not permissions.can(user("student1"), "view", draft)
    assert permissions.can(user("teacher1"), "view", draft)
    assert permissions.can(user("school_admin"), "view", draft)
    assert not permissions.can(user("expert1"), "view", draft)


def test_search_and_facets(ctx):
    make_course(title="认识冰毒的危害", category="typical_case")
    make_course(title="拒绝第一口", category="audio_video")
    page = queries.library(user("pref_admin"), LibraryFilters(q="冰毒"))
    assert [c.title for c in page.courses] == ["认识冰毒的危害"]
    page = queries.library(user("pref_admin"), LibraryFilters(category="typical_case"))
    assert all(c.category == "typical_case" for c in page.courses)
    categories = dict(page.facets["category"])
    # a facet counts without its own filter, so the other categories still show their numbers
    assert categories["typical_case"] >= 1 and categories["audio_video"] >= 1
    assert dict(page.facets["audience"])["student"] >= 1
    # LIKE wildcards in the search box are literal
    assert queries.library(user("pref_admin"), LibraryFilters(q="%")).total == 0


# --- authoring and review -------------------------------------------------------------------------


def test_review_flow_with_comment_and_audit(ctx):
    teacher, admin = user("teacher1"), user("school_admin")
    course = make_course(author="teacher1", unit="S0101", publish=False)
    assert not permissions.can(teacher, "publish", course)
    with pytest.raises(ServiceError):
        service.publish(actor=admin, course=course)  # not submitted yet
    service.submit_for_review(actor=teacher, course=course)
    assert course.status == CourseStatus.IN_REVIEW
    assert course in queries.review_queue(admin)
    assert course in queries.review_queue(user("county_admin"))  # a unit above may review too
    assert queries.review_queue(teacher) == []
    with pytest.raises(ServiceError):
        service.return_for_changes(actor=admin, course=course, comment="  ")
    service.return_for_changes(actor=admin, course=course, comment="请补充家长版说明")
    assert course.status == CourseStatus.DRAFT and course.review_comment == "请补充家长版说明"
    service.submit_for_review(actor=teacher, course=course)
    service.publish(actor=admin, course=course, comment="同意")
    assert course.status == CourseStatus.PUBLISHED and course.version == 1 and course.is_live
    actions = set(
        db.session.scalars(
            select(AuditEvent.action).where(
                AuditEvent.target_type == "course", AuditEvent.target_id == str(course.id)
            )
        )
    )
    assert {"course.created", "course.submitted", "course.returned", "course.published"} <= actions


def _notices(username: str, kind: str) -> list:
    from elearn.models import Notification

    return list(
        db.session.scalars(
            select(Notification)
            .where(Notification.user_id == user(username).id, Notification.kind == kind)
            .order_by(Notification.id)
        )
    )


def test_review_events_notify_the_reviewers_and_the_author_once_each(ctx):
    """Submitted for review: the admins of the course's unit are told (not every admin above
    it); returned or published: its author is told, with the reviewer's comment. A second
    submit of the same draft is refused and tells nobody again."""
    teacher, admin = user("teacher1"), user("school_admin")
    course = make_course(author="teacher1", unit="S0101", publish=False, title="家校共育课")
    service.submit_for_review(actor=teacher, course=course)
    with pytest.raises(ServiceError) as again:
        service.submit_for_review(actor=teacher, course=course)  # a double click
    assert again.value.status == 409
    db.session.flush()
    [asked] = _notices("school_admin", "courses.review_requested")
    assert asked.title == "待审核的课程：家校共育课" and "李老师" in asked.body
    assert asked.link == "/courses/review"
    assert not _notices("county_admin", "courses.review_requested")
    assert not _notices("teacher1", "courses.review_requested")
    service.return_for_changes(actor=admin, course=course, comment="请补充家长版说明")
    db.session.flush()
    [returned] = _notices("teacher1", "courses.returned")
    assert "家校共育课" in returned.title and returned.body == "请补充家长版说明"
    assert returned.link == f"/courses/{course.id}/edit"
    service.submit_for_review(actor=teacher, course=course)  # a new event: told again
    service.publish(actor=admin, course=course, comment="同意")
    db.session.flush()
    assert len(_notices("school_admin", "courses.review_requested")) == 2
    [published] = _notices("teacher1", "courses.published")
    assert "家校共育课" in published.title and published.body == "同意"
    assert published.link == f"/courses/{course.id}"
    # an admin publishing their own course is told nothing
    make_course(title="州级课程")
    db.session.flush()
    assert not [n for n in _notices("pref_admin", "courses.published") if "州级课程" in n.title]


def test_teachers_author_at_their_school_only(ctx):
    teacher = user("teacher1")
    assert [u.code for u in service.authoring_units(teacher)] == ["S0101"]
    with pytest.raises(ServiceError) as refused:
        service.create_course(
            actor=teacher,
            unit=unit_by_code("S0201"),
            title="越权",
            audience="student",
            grade_band="junior",
            category="courseware",
        )
    assert refused.value.status == 403
    assert service.authoring_units(user("student1")) == []


def test_validation_messages_are_chinese(ctx):
    with pytest.raises(ServiceError) as missing_band:
        service.create_course(
            actor=user("pref_admin"),
            unit=unit_by_code("DEMO"),
            title="x",
            audience="student",
            category="courseware",
        )
    assert "年级" in missing_band.value.message
    course = make_course(publish=False, lessons=0)
    with pytest.raises(ServiceError) as no_subject:
        service.add_lesson(
            actor=user("pref_admin"),
            course=course,
            title="生物课渗透",
            kind="rich_text",
            body_html=TEXT,
            role="infiltration",
        )
    assert no_subject.value.field == "subject"
    with pytest.raises(ServiceError):
        service.submit_for_review(actor=user("pref_admin"), course=course)  # no lessons


def test_rich_text_is_sanitised(ctx):
    course = make_course(publish=False, lessons=0)
    lesson = service.add_lesson(
        actor=user("pref_admin"),
        course=course,
        title="安全",
        kind="rich_text",
        body_html='<p onclick="x()">好<script>alert(1)</script><a href="javascript:alert(1)">链接</a></p>',
    )
    body = lesson.draft_revision.body_html
    assert "<script" not in body and "onclick" not in body and "javascript:" not in body
    assert "<p>好" in body


#: what the lesson editor (Quill 2) posts: paragraphs, an empty line, marks, a link, lists,
#: headings and a quotation
EDITOR_HTML = (
    "<h2>认识毒品</h2><p>第一段。</p><p><br></p>"
    "<p><strong>粗体</strong> <em>斜体</em> <u>下划线</u> "
    '<a href="https://www.nncc626.com/" rel="noopener noreferrer" target="_blank">禁毒网</a></p>'
    "<ol><li>不吸第一口</li><li>远离娱乐场所</li></ol><ul><li>甲</li><li>乙</li></ul>"
    "<h3>小结</h3><blockquote>珍爱生命，远离毒品。</blockquote>"
)


def test_the_sanitiser_keeps_what_the_editor_writes(ctx):
    lesson = service.add_lesson(
        actor=user("pref_admin"),
        course=make_course(publish=False, lessons=0),
        title="编辑器",
        kind="rich_text",
        body_html=EDITOR_HTML,
    )
    body = lesson.draft_revision.body_html
    for kept in (
        "<h2>认识毒品</h2>",
        "<p>第一段。</p><p><br></p>",
        "<strong>粗体</strong>",
        "<em>斜体</em>",
        "<u>下划线</u>",
        '<a href="https://www.nncc626.com/" rel="noopener noreferrer">禁毒网</a>',
        "<ol><li>不吸第一口</li><li>远离娱乐场所</li></ol>",
        "<ul><li>甲</li><li>乙</li></ul>",
        "<h3>小结</h3>",
        "<blockquote>珍爱生命，远离毒品。</blockquote>",
    ):
        assert kept in body, (kept, body)


def test_text_typed_without_markup_keeps_its_paragraphs_and_line_breaks(ctx):
    """Typed into the form without the editor (no script) or sent by an API client, a lesson's
    text lost its line breaks: a blank line is a paragraph, a single break a line break."""
    lesson = service.add_lesson(
        actor=user("pref_admin"),
        course=make_course(publish=False, lessons=0),
        title="纯文本",
        kind="rich_text",
        body_html="第一段第一行\r\n第一段第二行\r\n\r\n  第二段 a < b & c\n\n\n<strong>第三段</strong>",
    )
    assert lesson.draft_revision.body_html == (
        "<p>第一段第一行<br>第一段第二行</p><p>第二段 a &lt; b &amp; c</p>"
        "<p><strong>第三段</strong></p>"
    )


def test_lesson_assets_must_be_the_authors_and_usable(ctx):
    author = user("pref_admin")
    course = make_course(publish=False, lessons=0)
    someone_elses = create_asset(user("teacher1"))
    with pytest.raises(ServiceError):
        service.add_lesson(
            actor=author, course=course, title="v", kind="video", asset_id=someone_elses.id
        )
    failed = create_asset(author, status="failed")
    with pytest.raises(ServiceError):
        service.add_lesson(actor=author, course=course, title="v", kind="video", asset_id=failed.id)
    audio_for_video = create_asset(author, kind="audio")
    with pytest.raises(ServiceError):
        service.add_lesson(
            actor=author, course=course, title="v", kind="video", asset_id=audio_for_video.id
        )
    processing = create_asset(author, status="processing")
    lesson = service.add_lesson(
        actor=author, course=course, title="v", kind="video", asset_id=processing.id
    )
    assert not lesson.draft_revision.is_playable
    service.submit_for_review(actor=author, course=course)
    service.publish(actor=author, course=course)
    with pytest.raises(ServiceError) as not_ready:
        service.heartbeat(actor=user("student1"), lesson=lesson, position=1, playing=True, now=T0)
    assert not_ready.value.status == 409
    processing.status, processing.duration_seconds = "ready", 30.0
    assert (
        service.heartbeat(
            actor=user("student1"), lesson=lesson, position=0, playing=True, now=T0
        ).watched_seconds
        == 0
    )


def test_editing_a_published_lesson_keeps_the_published_revision_watchable(ctx):
    author = user("pref_admin")
    course = make_course(title="版本测试")
    lesson = first_lesson(course)
    published = lesson.published_revision
    assert published.title == "第1课" and lesson.draft_revision is None

    service.update_lesson(
        actor=author, lesson=lesson, title="第1课（修订）", kind="rich_text", body_html=TEXT
    )
    assert lesson.published_revision_id == published.id
    assert lesson.draft_revision.title == "第1课（修订）"
    assert course.is_live and course.status == CourseStatus.DRAFT
    learner = user("student1")
    assert permissions.can(learner, "learn", lesson)
    outline = queries.outline(course, user=learner, authoring=False)
    assert outline[0].lessons[0].title == "第1课"  # learners still see the published text
    # the learner can keep watching (reading) the published revision meanwhile
    service.heartbeat(actor=learner, lesson=lesson, position=0, playing=True, now=at(0))
    assert service.heartbeat(
        actor=learner, lesson=lesson, position=5, playing=True, now=at(5)
    ).watched_seconds == pytest.approx(5)

    # a new lesson added to the live course stays hidden until the next publication
    added = service.add_lesson(
        actor=author, course=course, title="新增课", kind="rich_text", body_html=TEXT
    )
    assert not permissions.can(learner, "view", added)

    service.submit_for_review(actor=author, course=course)
    assert queries.outline(course, user=learner, authoring=False)[0].lessons[0].title == "第1课"
    service.publish(actor=author, course=course)
    assert course.version == 2
    assert lesson.published_revision.title == "第1课（修订）"
    assert lesson.published_revision.number == 2 and lesson.draft_revision is None
    assert permissions.can(learner, "learn", added)


def test_a_course_in_review_cannot_be_edited(ctx):
    course = make_course(publish=False)
    service.submit_for_review(actor=user("pref_admin"), course=course)
    with pytest.raises(ServiceError) as refused:
        service.update_lesson(
            actor=user("pref_admin"),
            lesson=first_lesson(course),
            title="x",
            kind="rich_text",
            body_html=TEXT,
        )
    assert refused.value.status == 409


# --- heartbeats -----------------------------------------------------------------------------------


def test_watching_in_real_time_is_credited(ctx):
    course = make_course(video_seconds=100)
    lesson, learner = first_lesson(course), user("student1")
    for second in range(0, 50, 5):
        result = service.heartbeat(
            actor=learner, lesson=lesson, position=second, playing=True, now=at(second)
        )
    assert result.watched_seconds == pytest.approx(45)
    assert not result.completed


def test_seeking_forward_credits_nothing(ctx):
    course = make_course(video_seconds=600)
    lesson, learner = first_lesson(course), user("student1")
    service.heartbeat(actor=learner, lesson=lesson, position=0, playing=True, now=at(0))
    service.heartbeat(actor=learner, lesson=lesson, position=5, playing=True, now=at(5))
    jump = service.heartbeat(actor=learner, lesson=lesson, position=540, playing=True, now=at(10))
    assert jump.watched_seconds == pytest.approx(5)
    # watching on from the new position counts again, the skipped part stays unwatched
    after = service.heartbeat(actor=learner, lesson=lesson, position=545, playing=True, now=at(15))
    assert after.watched_seconds == pytest.approx(10)
    progress = queries.lesson_progress(learner, lesson)
    assert progress.intervals == [[0.0, 5.0], [540.0, 545.0]]
    assert progress.last_position == 545


@pytest.mark.parametrize(("step", "every"), [(5, 0.5), (2, 0.2), (1, 0.05)])
def test_heartbeats_faster_than_real_time_credit_at_most_the_elapsed_time(ctx, step, every):
    course = make_course(video_seconds=2400)  # a 40-minute video
    lesson, learner = first_lesson(course), user("student1")
    # a script claims +step seconds of playback every `every` seconds, for 60 s of real time
    beats = round(60 / every)
    result = None
    for n in range(beats + 1):
        result = service.heartbeat(
            actor=learner, lesson=lesson, position=n * step, playing=True, now=at(n * every)
        )
    assert beats * step >= 600  # what the script claimed
    assert result.watched_seconds <= 60 * 1.1 + 2  # what the server credits
    assert not result.completed


def test_watching_a_forty_minute_video_takes_forty_minutes(ctx):
    course = make_course(video_seconds=2400)
    lesson, learner = first_lesson(course), user("student1")
    # two minutes of posting every position a player would report, at 20× speed
    result = None
    for n in range(0, 481):
        result = service.heartbeat(
            actor=learner, lesson=lesson, position=n * 5, playing=True, now=at(n * 0.25)
        )
    assert result.watched_seconds <= 120 * 1.1 + 2
    assert not result.completed


def test_lessons_watched_side_by_side_share_one_allowance(ctx):
    """Across every lesson and device, the time credited never exceeds the wall-clock time the
    server saw (× the tolerance) plus one allowance."""
    course = make_course(lessons=3)
    lessons = [lesson for unit in course.course_units for lesson in unit.lessons]
    learner = user("student1")
    shortest = min(lesson.published_revision.duration_seconds for lesson in lessons)
    seconds = int(shortest) // 5 * 5
    assert seconds >= 20
    # three tabs (or three phones) each "playing" another lesson in real time, side by side
    for second in range(0, seconds + 1, 5):
        for n, lesson in enumerate(lessons):
            service.heartbeat(
                actor=learner, lesson=lesson, position=second, playing=True, now=at(second + n / 10)
            )
    credited = sum(queries.lesson_progress(learner, lesson).watched_seconds for lesson in lessons)
    assert credited <= seconds * progress.RATE_TOLERANCE + progress.MAX_CREDIT_PER_HEARTBEAT
    # real time is still credited, shared among the lessons (each round the first lesson takes
    # what the others then lack)
    assert credited >= seconds


def test_a_course_cannot_be_completed_faster_than_its_length(ctx):
    course = make_course(lessons=3)
    lessons = [lesson for unit in course.course_units for lesson in unit.lessons]
    learner = user("student1")
    length = sum(lesson.published_revision.duration_seconds for lesson in lessons)
    # every lesson "watched" at once, for as long as the longest of them lasts
    longest = max(lesson.published_revision.duration_seconds for lesson in lessons)
    second = 0.0
    while second <= longest:
        for n, lesson in enumerate(lessons):
            service.heartbeat(
                actor=learner, lesson=lesson, position=second, playing=True, now=at(second + n)
            )
        second += 5
    assert longest < length * 0.9
    assert not queries.progress_of(learner, course).completed
    completed = [queries.lesson_progress(learner, lesson).completed_at for lesson in lessons]
    assert completed.count(None) >= 2


def test_the_same_position_posted_repeatedly_credits_nothing(ctx):
    course = make_course(video_seconds=100)
    lesson, learner = first_lesson(course), user("student1")
    for n in range(10):
        result = service.heartbeat(
            actor=learner, lesson=lesson, position=20, playing=True, now=at(n * 5)
        )
    assert result.watched_seconds == 0


def test_rewatching_does_not_count_twice_and_bad_positions_are_refused(ctx):
    course = make_course(video_seconds=100)
    lesson, learner = first_lesson(course), user("student1")
    for second in (0, 5, 10):
        service.heartbeat(
            actor=learner, lesson=lesson, position=second, playing=True, now=at(second)
        )
    service.heartbeat(actor=learner, lesson=lesson, position=0, playing=True, now=at(12))  # back
    result = None
    for n, second in enumerate((5, 10, 15)):
        result = service.heartbeat(
            actor=learner, lesson=lesson, position=second, playing=True, now=at(17 + 5 * n)
        )
    assert result.watched_seconds == pytest.approx(15)
    for bad in (-1, "abc", float("nan")):
        with pytest.raises(ServiceError):
            service.heartbeat(actor=learner, lesson=lesson, position=bad, playing=True, now=at(40))


def _watch(learner, lesson, seconds: float, start: datetime = T0) -> service.HeartbeatResult:
    result = None
    position = 0.0
    while True:
        result = service.heartbeat(
            actor=learner,
            lesson=lesson,
            position=position,
            playing=True,
            now=start + timedelta(seconds=position),
        )
        if position >= seconds or result.completed:
            return result
        position = min(seconds, position + 5)


# --- completion and coverage ----------------------------------------------------------------------


def test_completion_at_ninety_percent(ctx):
    course = make_course(video_seconds=60)
    lesson, learner = first_lesson(course), user("student1")
    assert not _watch(learner, lesson, 50).completed  # 83 %
    progress = queries.lesson_progress(learner, lesson)
    assert progress.completed_at is None
    result = service.heartbeat(actor=learner, lesson=lesson, position=55, playing=True, now=at(55))
    assert result.completed and result.watched_seconds == pytest.approx(55)


@pytest.mark.parametrize(
    ("audience", "username", "role", "kind"),
    [
        ("student", "student1", Role.STUDENT, FactKind.STUDENT_COURSE),
        ("teacher", "teacher1", Role.TEACHER, FactKind.TEACHER_TRAINED),
        ("parent", "parent1", Role.GUARDIAN, FactKind.PARENT_LEARNING),
    ],
)
def test_course_completion_records_the_tracks_coverage_fact(ctx, audience, username, role, kind):
    course = make_course(audience=audience, lessons=2)
    learner = user(username)
    term = org.current_term()
    lessons = [lesson for unit in course.course_units for lesson in unit.lessons]
    assert not coverage.has_fact(kind, learner.id, term)
    first = _watch(learner, lessons[0], lessons[0].published_revision.duration_seconds)
    assert first.completed and not first.course_completed
    assert not coverage.has_fact(kind, learner.id, term)
    last = _watch(
        learner, lessons[1], lessons[1].published_revision.duration_seconds, start=at(3600)
    )
    assert last.course_completed
    assert coverage.has_fact(kind, learner.id, term)
    completion = db.session.scalar(
        select(CourseCompletion).filter_by(user_id=learner.id, course_id=course.id)
    )
    assert completion.fact_kind == kind.value and completion.course_version == 1
    fact_unit = learner.units_for(role)[0]
    assert coverage.coverage(fact_unit, term)  # the rollup of the learner's unit moved
    assert queries.progress_of(learner, course).completed


def test_a_student_finishing_a_teacher_course_records_no_student_fact(ctx):
    course = make_course(audience="teacher", lessons=1)
    admin = user("school_admin")  # admins may open every track
    lesson = first_lesson(course)
    assert _watch(admin, lesson, lesson.published_revision.duration_seconds).course_completed
    completion = db.session.scalar(select(CourseCompletion).filter_by(user_id=admin.id))
    assert completion.fact_kind is None


def test_quiz_hook_holds_completion_until_a_check_vouches(ctx, monkeypatch):
    course = make_course(publish=False, lessons=1)
    lesson = first_lesson(course)
    lesson.draft_revision.quiz_id = 4242
    service.submit_for_review(actor=user("pref_admin"), course=course)
    service.publish(actor=user("pref_admin"), course=course)
    learner = user("student1")
    passed: set[int] = set()

    def quiz_passed(who, the_lesson, revision):
        if revision.quiz_id is None:
            return None
        return who.id in passed

    # only this check: the registry's contract, apart from the real quizzes package's check
    monkeypatch.setitem(features.registry().hooks, progress.LESSON_COMPLETION.name, [quiz_passed])
    watched = _watch(learner, lesson, lesson.published_revision.duration_seconds)
    assert not watched.completed
    passed.add(learner.id)
    assert service.refresh_completion(user=learner, lesson=lesson)
    assert queries.progress_of(learner, course).completed


def test_a_lesson_with_a_quiz_is_not_complete_without_any_check(ctx, monkeypatch):
    course = make_course(publish=False, lessons=1)
    lesson = first_lesson(course)
    lesson.draft_revision.quiz_id = 4242
    service.submit_for_review(actor=user("pref_admin"), course=course)
    service.publish(actor=user("pref_admin"), course=course)
    monkeypatch.setitem(features.registry().hooks, progress.LESSON_COMPLETION.name, [])
    duration = lesson.published_revision.duration_seconds
    assert not _watch(user("student1"), lesson, duration).completed


def test_progress_rows_are_one_per_learner_and_lesson(ctx):
    course = make_course(video_seconds=100)
    lesson, learner = first_lesson(course), user("student1")
    for n in range(3):
        service.heartbeat(actor=learner, lesson=lesson, position=n, playing=True, now=at(n))
    rows = db.session.scalars(select(LessonProgress).filter_by(user_id=learner.id)).all()
    assert len(rows) == 1
    mine = queries.my_courses(learner)
    assert course.id in {row.course.id for row in mine}


def test_completion_share_comes_from_the_environment():
    from flask import Flask

    import courses
    from elearn.config import ConfigError

    def start(environ: dict[str, str]) -> float:
        """The package's settings, registered as the package registers them."""
        probe = Flask("probe")
        declared = features.Feature(name="courses", settings=courses.SETTINGS)
        features.register(probe, declared, environ=environ)
        return probe.config["COURSES_COMPLETION_SHARE"]

    assert start({}) == 0.9
    assert start({"ELEARN_COMPLETION_SHARE": "0.75"}) == 0.75
    for bad in ("1.5", "0", "most"):
        with pytest.raises(ConfigError, match="ELEARN_COMPLETION_SHARE"):
            start({"ELEARN_COMPLETION_SHARE": bad})


def test_completion_share_is_read_at_call_time(ctx, app, monkeypatch):
    monkeypatch.setitem(app.config, "COURSES_COMPLETION_SHARE", 0.5)
    course = make_course(video_seconds=60)
    lesson, learner = first_lesson(course), user("student1")
    assert _watch(learner, lesson, 30).completed
