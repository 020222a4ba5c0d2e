"""The network classroom's use cases: authoring and review, visibility, progress and completion.

Other packages import from here: ``courses.service.LESSON_COMPLETION`` is where the quizzes
package adds "the lesson's quiz is passed" (see ``courses.service.progress``), and
``courses.service.refresh_completion`` re-checks a lesson once its quiz is passed.
"""

from courses.service.access import (
    audiences_for,
    authoring_units,
    can_author,
    can_manage,
    can_review_any,
    can_see_live,
    grade_band_of,
    student_grade_band,
)
from courses.service.authoring import (
    add_course_unit,
    add_lesson,
    create_course,
    sanitize_html,
    update_course,
    update_lesson,
)
from courses.service.progress import (
    LESSON_COMPLETION,
    HeartbeatResult,
    complete_attended_lesson,
    complete_course_if_due,
    heartbeat,
    merge_intervals,
    refresh_completion,
)
from courses.service.recordings import publish_recording
from courses.service.review import archive, publish, return_for_changes, submit_for_review
from courses.service.structure import (
    move_course_unit,
    move_lesson,
    remove_course_unit,
    remove_lesson,
    restore_lesson,
)

__all__ = [
    "complete_attended_lesson",
    "move_course_unit",
    "move_lesson",
    "remove_course_unit",
    "remove_lesson",
    "restore_lesson",
    "LESSON_COMPLETION",
    "HeartbeatResult",
    "add_course_unit",
    "add_lesson",
    "archive",
    "audiences_for",
    "authoring_units",
    "can_author",
    "can_manage",
    "can_review_any",
    "can_see_live",
    "complete_course_if_due",
    "create_course",
    "grade_band_of",
    "heartbeat",
    "merge_intervals",
    "publish",
    "publish_recording",
    "refresh_completion",
    "return_for_changes",
    "sanitize_html",
    "student_grade_band",
    "submit_for_review",
    "update_course",
    "update_lesson",
]
