"""A lecture's recording becomes a course for the lecture's audience: its track from the roles
(training → teachers, guardians → parent school) and its grade band from the grades the audience
sits in, so the students it was for find it among their courses."""

from __future__ import annotations

from courses import queries as course_queries
from courses.models import Course, Lesson
from elearn.extensions import db
from live.service import broadcast
from tests.conftest import unit_by_code, user
from tests.live.test_recording import _streamed_lecture


def _recording_course(**lecture) -> Course:
    recorded, _asset = _streamed_lecture(**lecture)
    assert broadcast.publish_recording(recorded) == "published"
    return db.session.get(Lesson, recorded.recording_lesson_id).course


def _suggested_to(username: str) -> set[int]:
    return {row.course.id for row in course_queries.my_courses(user(username), limit=500)}


def test_a_class_lecture_gives_a_course_of_the_classs_grade_band(ctx):
    klass = next(a.unit for a in user("student1").roles if a.role == "student")  # 五年级1班
    course = _recording_course(audience=[{"unit_id": klass.id, "role": "student"}])
    assert (course.audience, course.grade_band) == ("student", "upper_primary")
    assert course.id in _suggested_to("student1")


def test_a_junior_schools_lecture_is_for_junior_school(ctx):
    course = _recording_course(audience=[{"unit_id": unit_by_code("S0102").id}])
    assert (course.audience, course.grade_band) == ("student", "junior")
    assert course.id not in _suggested_to("student1")  # a primary pupil


def test_a_lecture_across_bands_gives_a_course_for_every_grade(ctx):
    # the demo county: a primary school (grades 5-6) and a junior school (grades 7-8)
    course = _recording_course(audience=[{"unit_id": unit_by_code("C01").id}])
    assert (course.audience, course.grade_band) == ("student", None)
    assert course.id in _suggested_to("student1")
    assert course.id in _suggested_to("s_S0102_7_01")


def test_trainings_go_to_the_teachers_track_and_parents_lectures_to_the_parent_school(ctx):
    county = unit_by_code("C01").id
    training = _recording_course(
        audience=[{"unit_id": county, "role": "teacher"}], is_training=True
    )
    assert (training.audience, training.grade_band) == ("teacher", None)
    parents = _recording_course(audience=[{"unit_id": county, "role": "guardian"}])
    assert (parents.audience, parents.grade_band) == ("parent", None)
