"""Assessment use cases: typed functions with an explicit actor; they flush, never commit."""

from quizzes.rules import TimeUp
from quizzes.service.attempt_views import attempt_clock, attempt_view, review_rows, review_view
from quizzes.service.attempts import (
    FinishResult,
    close_expired_attempts,
    finish_attempt,
    grade_slot,
    start_attempt,
    submit_attempt,
)
from quizzes.service.bank import (
    ImportResult,
    add_question,
    create_bank,
    edit_question,
    ensure_category,
    export_questions,
    import_questions,
)
from quizzes.service.draws import draw_questions
from quizzes.service.grading import grade_points, manual_rows
from quizzes.service.quick import (
    MAX_QUICK_QUESTIONS,
    answer_key,
    grade_answer,
    public_question,
    quick_questions,
)
from quizzes.service.quizzes import (
    attempts_left,
    close_quiz,
    create_quiz,
    delete_quiz,
    deletion_blockers,
    has_closed,
    in_progress_count,
    times_taken,
    update_quiz,
)
from quizzes.service.saves import issue_save_key, save_answer

__all__ = [
    "close_quiz",
    "delete_quiz",
    "deletion_blockers",
    "has_closed",
    "in_progress_count",
    "times_taken",
    "update_quiz",
    "MAX_QUICK_QUESTIONS",
    "answer_key",
    "grade_answer",
    "public_question",
    "quick_questions",
    "FinishResult",
    "ImportResult",
    "TimeUp",
    "add_question",
    "attempt_clock",
    "attempt_view",
    "attempts_left",
    "close_expired_attempts",
    "create_bank",
    "create_quiz",
    "draw_questions",
    "edit_question",
    "ensure_category",
    "export_questions",
    "finish_attempt",
    "issue_save_key",
    "grade_points",
    "grade_slot",
    "manual_rows",
    "import_questions",
    "review_rows",
    "review_view",
    "save_answer",
    "start_attempt",
    "submit_attempt",
]
