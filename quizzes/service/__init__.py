"""Assessment use cases: typed functions with an explicit actor; they flush, never commit."""

from quizzes.service.attempts import (
    FinishResult,
    attempt_view,
    close_expired_attempts,
    finish_attempt,
    grade_slot,
    review_rows,
    review_view,
    save_answer,
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
from quizzes.service.quick import (
    MAX_QUICK_QUESTIONS,
    answer_key,
    grade_answer,
    public_question,
    quick_questions,
)
from quizzes.service.quizzes import attempts_left, create_quiz, draw_questions

__all__ = [
    "MAX_QUICK_QUESTIONS",
    "answer_key",
    "grade_answer",
    "public_question",
    "quick_questions",
    "FinishResult",
    "ImportResult",
    "add_question",
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
    "grade_slot",
    "import_questions",
    "review_rows",
    "review_view",
    "save_answer",
    "start_attempt",
    "submit_attempt",
]
