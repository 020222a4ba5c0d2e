"""Forms of the assessment pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    FloatField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from quizzes.interchange.xlsx import SCORING_LABELS


class BankForm(FlaskForm):
    name = StringField(_l("Bank name"), validators=[DataRequired(), Length(max=120)])
    unit_id = SelectField(_l("Owned by"), coerce=int)


class ImportForm(FlaskForm):
    format = SelectField(
        _l("Format"),
        choices=[
            SelectChoice("xlsx", _l("Excel template (.xlsx)")),
            SelectChoice("gift", "GIFT"),
            SelectChoice("moodlexml", "Moodle XML"),
        ],
    )
    file = FileField(_l("File"), validators=[FileRequired()])


#: what students see after submitting, and when (the page shows the labels)
REVIEW_POLICIES = [
    SelectChoice("immediately", _l("Right after submitting")),
    SelectChoice("after_close", _l("After the quiz closes")),
    SelectChoice("never", _l("Never (score only)")),
]
MODES = [
    SelectChoice("self_paced", _l("Students on their own (shuffled)")),
    SelectChoice("class", _l("Teacher-led class (fixed order)")),
]


class QuizSettingsForm(FlaskForm):
    """The settings a quiz keeps changeable after it is created."""

    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    opens_at = DateTimeLocalField(_l("Opens"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    closes_at = DateTimeLocalField(_l("Closes"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    time_limit_minutes = IntegerField(
        _l("Time limit (minutes, empty for none)"), validators=[Optional(), NumberRange(1, 1440)]
    )
    attempts_allowed = IntegerField(
        _l("Attempts allowed (0 for unlimited)"), default=1, validators=[NumberRange(0, 100)]
    )
    pass_mark = FloatField(_l("Pass mark (%)"), default=60, validators=[NumberRange(0, 100)])
    review_policy = SelectField(_l("Students see the answers"), choices=REVIEW_POLICIES)
    mode = SelectField(_l("Mode"), choices=MODES)
    one_per_page = BooleanField(_l("One question per screen"), default=True)


class QuizForm(QuizSettingsForm):
    """A new quiz: its settings, where it is owned, whether it goes out at once."""

    unit_id = SelectField(_l("Class or unit taking it"), coerce=int)
    publish = BooleanField(_l("Publish now"), default=True)


class QuestionEditForm(FlaskForm):
    """One question in the teachers' spreadsheet layout: stem, options A–F, answer, tags."""

    stem = TextAreaField(_l("Stem"), validators=[DataRequired()])
    option_a = StringField("A")
    option_b = StringField("B")
    option_c = StringField("C")
    option_d = StringField("D")
    option_e = StringField("E")
    option_f = StringField("F")
    answer = StringField(_l("Correct answer"))
    category = StringField(_l("Question category"), validators=[Optional(), Length(max=250)])
    topic = StringField(_l("Topic"), validators=[Optional(), Length(max=64)])
    grade_band = StringField(_l("Grade band"), validators=[Optional(), Length(max=32)])
    difficulty = IntegerField(_l("Difficulty (1-5)"), validators=[Optional(), NumberRange(1, 5)])
    mark = FloatField(_l("Mark"), default=1, validators=[NumberRange(0.01, 1000)])
    feedback = TextAreaField(_l("Feedback shown in the review"))
    #: multiple-answer questions only; its values are the spreadsheet's words (checked there)
    scoring = RadioField(
        _l("Scoring"),
        choices=[
            SelectChoice(
                SCORING_LABELS["penalty"],
                _l(
                    "Wrong choices cost marks: the wrong options together cost the full mark "
                    "(each an equal share), never below 0; ticking every option earns nothing"
                ),
            ),
            SelectChoice(
                SCORING_LABELS["all_or_nothing"],
                _l("All or nothing: the mark only for exactly the right options"),
            ),
        ],
        default=SCORING_LABELS["penalty"],
        validate_choice=False,
    )
    media_asset_id = HiddenField(validators=[Optional(), Length(max=32)])
    remove_media = BooleanField(_l("Remove the picture or recording"))

    OPTION_FIELDS = ("option_a", "option_b", "option_c", "option_d", "option_e", "option_f")
