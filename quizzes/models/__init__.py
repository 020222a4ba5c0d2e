"""The assessment tables: question banks and versions, quizzes, attempts."""

from quizzes.models.bank import Question, QuestionBank, QuestionCategory, QuestionVersion
from quizzes.models.quiz import (
    AttemptSlot,
    AttemptState,
    Quiz,
    QuizAttempt,
    QuizAudience,
    QuizItem,
    QuizMode,
    ReviewPolicy,
)

__all__ = [
    "AttemptSlot",
    "AttemptState",
    "Question",
    "QuestionBank",
    "QuestionCategory",
    "QuestionVersion",
    "Quiz",
    "QuizAttempt",
    "QuizAudience",
    "QuizItem",
    "QuizMode",
    "ReviewPolicy",
]
