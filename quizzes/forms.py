"""Forms of the assessment pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    FloatField,
    IntegerField,
    SelectField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional


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


class QuizForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    unit_id = SelectField(_l("Class or unit taking it"), coerce=int)
    opens_at = DateTimeLocalField(_l("Opens"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    closes_at = DateTimeLocalField(_l("Closes"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    time_limit_minutes = IntegerField(
        _l("Time limit (minutes, empty for none)"), validators=[Optional(), NumberRange(1, 1440)]
    )
    attempts_allowed = IntegerField(
        _l("Attempts allowed (0 for unlimited)"), default=1, validators=[NumberRange(0, 100)]
    )
    pass_mark = FloatField(_l("Pass mark (%)"), default=60, validators=[NumberRange(0, 100)])
    review_policy = SelectField(
        _l("Students see the answers"),
        choices=[
            SelectChoice("immediately", _l("Right after submitting")),
            SelectChoice("after_close", _l("After the quiz closes")),
            SelectChoice("never", _l("Never (score only)")),
        ],
    )
    mode = SelectField(
        _l("Mode"),
        choices=[
            SelectChoice("self_paced", _l("Students on their own (shuffled)")),
            SelectChoice("class", _l("Teacher-led class (fixed order)")),
        ],
    )
    one_per_page = BooleanField(_l("One question per screen"), default=True)
    publish = BooleanField(_l("Publish now"), default=True)
