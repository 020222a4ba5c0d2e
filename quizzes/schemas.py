"""The assessment API's JSON shapes, each stated once (see ``elearn/api/schemas.py``).

The routes in ``quizzes/api.py`` and ``quizzes/survey_api.py`` validate and render with these,
and the document at /api/v1/openapi.json is built from them. The exam lanes
(``quizzes/lanes/``) answer in front of Flask with orjson, from the same
service functions; ``tests/quizzes/test_lane_contract.py`` checks their replies against the
document's ``Attempt`` and ``SavedAnswer``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_smorest.fields import Upload
from marshmallow import INCLUDE, fields, post_dump, validate

from elearn.api.schemas import (
    Body,
    Choice,
    Count,
    JsonValue,
    Out,
    Query,
    RowId,
    RowIds,
    Text,
    When,
)
from elearn.models._types import INT_MAX
from quizzes.models import QuizKind, QuizMode, ReviewPolicy

#: the roles a quiz or campaign is sent to
ROLES = ["student", "teacher", "guardian"]
#: the most entries one request may list (items of a quiz, audience rows, target units)
MAX_ITEMS = 200
MAX_TARGETS = 2000


def _values(enum: type[StrEnum]) -> list[str]:
    return [member.value for member in enum]


class OpenOut(Out):
    """A shape whose fields vary with a question's type: the declared ones are always there,
    the type's own (options, items, prompts and choices, blanks, max_length...) pass through."""

    @post_dump(pass_original=True)
    def _keep_type_fields(self, data: dict[str, Any], original: Any, **kwargs: Any) -> Any:
        if isinstance(original, dict):
            return {**{k: v for k, v in original.items() if k not in data}, **data}
        return data


# -- banks and questions ------------------------------------------------------------------------


class QuestionBankOut(Out):
    id = fields.Integer()
    name = fields.String()
    unit_id = fields.Integer()
    unit_name = fields.String()
    questions = fields.Integer()
    can_edit = fields.Boolean()


class BankCreate(Body):
    name = Text(120, min_length=1, required=True)
    unit_id = RowId(required=True)


class Created(Out):
    id = fields.Integer()


class BankQuestionsQuery(Query):
    quick = fields.Integer(
        validate=validate.OneOf([0, 1]),
        metadata={"description": 'only quick-quiz questions, with "stem" and "type_label"'},
    )
    q = Text(metadata={"description": "words in the name, stem or topic"})
    type = Text(32)
    category = RowId(strict=False)
    difficulty = fields.Integer(validate=validate.Range(min=1, max=5))
    archived = fields.Integer(
        validate=validate.OneOf([0, 1]),
        metadata={"description": "the questions taken out of the bank instead"},
    )


class BankQuestion(Out):
    """A question of a bank, without answers (with ``quick=1``: type_label and a plain stem)."""

    id = fields.Integer()
    type = fields.String(allow_none=True)
    name = fields.String()
    version = fields.Integer(allow_none=True)
    category_id = fields.Integer(allow_none=True)
    topic = fields.String(allow_none=True)
    grade_band = fields.String(allow_none=True)
    difficulty = fields.Integer(allow_none=True)
    type_label = fields.String()
    stem = fields.String()


class Restored(Out):
    id = fields.Integer()
    archived = fields.Boolean()


class ImportUpload(Query):
    file = Upload(required=True)
    format = Choice(["gift", "moodlexml", "xlsx"], required=True)


class ImportProblem(Out):
    line = fields.Integer()
    message = fields.String()


class ImportResult(Out):
    imported = fields.Integer()
    errors = fields.List(fields.Nested(ImportProblem))
    skipped = fields.List(fields.Nested(ImportProblem))
    message = fields.String(metadata={"description": "with a 422: the file was rejected whole"})


class ExportQuery(Query):
    format = Choice(["gift", "moodlexml", "xlsx"], required=True)


# -- quizzes -------------------------------------------------------------------------------------


class QuizSummary(Out):
    id = fields.Integer()
    title = fields.String()
    opens_at = When(allow_none=True)
    closes_at = When(allow_none=True)
    time_limit = fields.Integer(allow_none=True, attribute="time_limit_seconds")
    attempts_left = fields.Integer(allow_none=True)


class QuizItem(Body):
    ONE_OF = ("question_id", "category_id")
    ONE_OF_MESSAGE = _l("Each item needs a question_id or a category_id.")

    question_id = RowId()
    category_id = RowId()
    count = fields.Integer(strict=True, validate=validate.Range(min=1, max=500))
    mark = fields.Float(validate=validate.Range(min=0.01, max=1000))


class QuizAudience(Body):
    unit_id = RowId(required=True)
    role = Choice(ROLES, load_default="student")


def _time_limit(**kwargs: Any) -> fields.Integer:
    return fields.Integer(
        strict=True,
        allow_none=True,
        validate=validate.Range(min=30, max=86400),
        metadata={"description": "seconds"},
        **kwargs,
    )


def _pass_mark(**kwargs: Any) -> fields.Float:
    return fields.Float(validate=validate.Range(min=0, max=100), **kwargs)


class QuizCreate(Body):
    title = Text(200, min_length=1, required=True)
    description = Text()
    unit_id = RowId(required=True)
    items = fields.List(
        fields.Nested(QuizItem), required=True, validate=validate.Length(min=1, max=MAX_ITEMS)
    )
    audience = fields.List(
        fields.Nested(QuizAudience), required=True, validate=validate.Length(min=1, max=MAX_ITEMS)
    )
    opens_at = When(allow_none=True)
    closes_at = When(allow_none=True)
    time_limit = _time_limit()
    attempts_allowed = fields.Integer(
        strict=True, validate=validate.Range(min=0, max=100), load_default=1
    )
    pass_mark = _pass_mark(load_default=60)
    review_policy = Choice(_values(ReviewPolicy), load_default=ReviewPolicy.IMMEDIATELY.value)
    mode = Choice(_values(QuizMode), load_default=QuizMode.SELF_PACED.value)
    shuffle_questions = fields.Boolean(load_default=True)
    shuffle_options = fields.Boolean(load_default=True)
    one_per_page = fields.Boolean(load_default=True)
    publish = fields.Boolean(load_default=False)


class QuizPatch(Body):
    """Some of a quiz's settings; the others stay."""

    title = Text(200, min_length=1)
    description = Text()
    opens_at = When(allow_none=True)
    closes_at = When(allow_none=True)
    time_limit = _time_limit()
    attempts_allowed = fields.Integer(
        strict=True, validate=validate.Range(min=0, max=100), metadata={"description": "0: any"}
    )
    pass_mark = _pass_mark()
    review_policy = Choice(_values(ReviewPolicy))
    mode = Choice(_values(QuizMode))
    one_per_page = fields.Boolean()
    published = fields.Boolean()


class QuizSettings(Out):
    id = fields.Integer()
    title = fields.String()
    description = fields.String()
    unit_id = fields.Integer()
    kind = Choice(_values(QuizKind))
    published = fields.Boolean(attribute="is_published")
    opens_at = When(allow_none=True)
    closes_at = When(allow_none=True)
    time_limit = fields.Integer(
        allow_none=True, attribute="time_limit_seconds", metadata={"description": "seconds"}
    )
    attempts_allowed = fields.Integer(metadata={"description": "0 for unlimited"})
    pass_mark = fields.Float()
    review_policy = Choice(_values(ReviewPolicy))
    mode = Choice(_values(QuizMode))
    one_per_page = fields.Boolean()
    taken = fields.Integer()
    in_progress = fields.Integer()
    deletion_blockers = fields.List(fields.String())


class QuizChanged(QuizSettings):
    changed = fields.List(fields.String(), metadata={"description": "the settings that changed"})


# -- attempts ------------------------------------------------------------------------------------


class Question(OpenOut):
    """A question as an attempt shows it: no answer, no grading data."""

    class Meta:
        unknown = INCLUDE  # documented as additionalProperties: true

    id = fields.Integer()
    position = fields.Integer()
    type = fields.String()
    stem = fields.String(metadata={"description": "HTML, made safe"})
    mark = fields.Float()
    media = fields.Dict(allow_none=True, metadata={"description": "a short-lived signed URL"})


class SavedSlot(Out):
    answer = fields.Raw(allow_none=True)
    seq = fields.Integer()


class Clock(Out):
    """The countdown's facts, from the server's clock."""

    state = fields.String()
    deadline = When(allow_none=True)
    server_now = When()
    seconds_left = fields.Integer(allow_none=True)


class Attempt(Out):
    """An attempt in progress (or an anonymous survey session: its token is the attempt_id)."""

    attempt_id = fields.Raw(
        metadata={"oneOf": [{"type": "integer"}, {"type": "string"}], "description": "id or token"}
    )
    quiz_id = fields.Integer()
    title = fields.String()
    state = fields.String()
    started_at = When(allow_none=True)
    deadline = When(allow_none=True)
    server_now = When()
    seconds_left = fields.Integer(allow_none=True)
    one_per_page = fields.Boolean()
    questions = fields.List(fields.Nested(Question))
    answers = fields.Dict(
        keys=fields.String(),
        values=fields.Nested(SavedSlot),
        metadata={"description": "the saved answers by question id"},
    )
    anonymous = fields.Boolean(metadata={"description": "anonymous surveys only"})
    urls = fields.Dict(
        keys=fields.String(), values=fields.String(), metadata={"description": "surveys only"}
    )


class AnswerSave(Body):
    answer = JsonValue(allow_none=True, metadata={"description": "shaped as the type asks"})
    seq = fields.Integer(
        strict=True,
        required=True,
        validate=validate.Range(min=1, max=INT_MAX),
        metadata={"description": "higher than the saved answer's"},
    )


class SavedAnswer(Out):
    question_id = fields.Integer()
    seq = fields.Integer()
    saved_at = When()
    deadline = When(allow_none=True)
    server_now = When()
    seconds_left = fields.Integer(allow_none=True)


class ReviewItem(OpenOut):
    class Meta:
        unknown = INCLUDE  # documented as additionalProperties: true

    id = fields.Integer()
    position = fields.Integer()
    type = fields.String()
    stem = fields.String()
    your_answer = fields.Raw(allow_none=True)
    correct_answer = fields.Raw(allow_none=True)
    fraction = fields.Float(allow_none=True)
    mark = fields.Float()
    feedback = fields.String(allow_none=True)


class AttemptResult(Out):
    attempt_id = fields.Integer()
    state = fields.String()
    score = fields.Float(allow_none=True)
    max_score = fields.Float(allow_none=True)
    passed = fields.Boolean(allow_none=True)
    needs_manual_grading = fields.Boolean()
    closed_reason = fields.String(allow_none=True)
    review = fields.List(
        fields.Nested(ReviewItem),
        allow_none=True,
        metadata={"description": "as the review policy allows; null otherwise"},
    )


class LateSubmission(AttemptResult):
    error = fields.Integer()
    message = fields.String()


# -- anonymous surveys ---------------------------------------------------------------------------


class SurveyKept(Out):
    question_id = fields.Integer()
    seq = fields.Integer()


class SurveySubmitted(Out):
    state = fields.String()
    anonymous = fields.Boolean()
    review = fields.Raw(allow_none=True, metadata={"type": "object", "nullable": True})
    next_url = fields.String()


# -- campaigns -----------------------------------------------------------------------------------


class Targets(Body):
    unit_ids = RowIds(max_items=MAX_TARGETS)
    grade_levels = fields.List(
        fields.Integer(strict=True, validate=validate.Range(min=0, max=20)),
        validate=validate.Length(max=20),
    )
    roles = fields.List(Choice(ROLES), validate=validate.Length(min=1, max=len(ROLES)))


class CampaignCreate(Body):
    title = Text(200, min_length=1, required=True)
    kind = Choice([QuizKind.EXAM.value, QuizKind.SURVEY.value], required=True)
    unit_id = RowId(required=True, metadata={"description": "the sending county or prefecture"})
    targets = fields.Nested(Targets)
    items = fields.List(fields.Nested(QuizItem), validate=validate.Length(max=MAX_ITEMS))
    template = Choice(["knowledge", "satisfaction"])
    anonymous = fields.Boolean(load_default=False)
    opens_at = When(allow_none=True)
    closes_at = When(allow_none=True)
    time_limit = _time_limit()
    pass_mark = _pass_mark(load_default=60)
    excellent_mark = _pass_mark(load_default=85)


class CampaignCreated(Out):
    id = fields.Integer()
    quiz_id = fields.Integer()


class UnitQuery(Query):
    unit = RowId(strict=False, metadata={"description": "a county, school or class; the sender's"})


class ReminderBody(Body):
    unit_id = RowId()


class UnitRates(Out):
    unit_id = fields.Integer()
    name = fields.String()
    expected = fields.Integer()
    took = fields.Integer()
    pending = fields.Integer(
        metadata={"description": "taken, waiting for a hand grade: in no pass or excellent rate"}
    )
    participation_rate = fields.Float(allow_none=True)
    pass_rate = fields.Float(allow_none=True, metadata={"description": "not for anonymous ones"})
    excellent_rate = fields.Float(allow_none=True)


class Participation(Out):
    campaign_id = fields.Integer()
    title = fields.String()
    unit = fields.Nested(UnitRates)
    children = fields.List(fields.Nested(UnitRates))
    not_taken = fields.List(fields.Dict())
    not_taken_count = fields.Integer()


class Reminded(Out):
    reminded = Count()


class SurveyResults(Out):
    responses = fields.Integer()
    hidden = fields.Boolean(metadata={"description": "true for a group smaller than five"})
    questions = fields.Dict(
        keys=fields.String(),
        values=fields.Dict(keys=fields.String(), values=fields.Integer()),
        metadata={"description": "by question id: how often each answer was given"},
    )
    awareness_rate = fields.Float(allow_none=True, metadata={"description": "知晓率"})
    satisfaction_rate = fields.Float(allow_none=True, metadata={"description": "满意率"})


class GradeIn(Body):
    # the range (0 to the question's mark) is the service's to say, with the mark in the message
    points = fields.Float(
        required=True, metadata={"description": "points given, from 0 to the question's mark"}
    )


class GradeOut(Out):
    attempt_id = fields.Integer()
    question_id = fields.Integer()
    points = fields.Float()
    mark = fields.Float()
    score = fields.Float(allow_none=True)
    max_score = fields.Float()
    passed = fields.Boolean(allow_none=True)
    needs_manual_grading = fields.Boolean()
