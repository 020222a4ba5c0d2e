"""The assessment tables: question banks and versions, quizzes, attempts."""

from quizzes.models.bank import Question, QuestionBank, QuestionCategory, QuestionVersion
from quizzes.models.campaign import Campaign, QuizKind, SurveyParticipation, SurveyResponse
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
    "Campaign",
    "Question",
    "QuestionBank",
    "QuestionCategory",
    "QuestionVersion",
    "Quiz",
    "QuizAttempt",
    "QuizAudience",
    "QuizItem",
    "QuizKind",
    "QuizMode",
    "ReviewPolicy",
    "SurveyParticipation",
    "SurveyResponse",
]
