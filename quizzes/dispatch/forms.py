"""Forms of the dispatch pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    FloatField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional


class CampaignForm(FlaskForm):
    """A term exam or survey sent to grades, schools and roles (choices filled by the view)."""

    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    unit_id = SelectField(_l("Sent by"), coerce=int)
    kind = SelectField(
        _l("Kind"),
        choices=[SelectChoice("exam", _l("Term exam")), SelectChoice("survey", _l("Survey"))],
    )
    source = SelectField(_l("Questions from"), validators=[DataRequired()])
    anonymous = BooleanField(_l("Anonymous (surveys only): no answer is kept with a name"))
    roles = SelectMultipleField(
        _l("Who takes it"),
        choices=[
            SelectChoice("student", _l("Students")),
            SelectChoice("teacher", _l("Teachers of the units")),
            SelectChoice("guardian", _l("Guardians of the students")),
        ],
        default=["student"],
        validators=[DataRequired()],
    )
    grade_levels = SelectMultipleField(_l("Grades"), coerce=int)
    unit_ids = SelectMultipleField(_l("Schools and units"), coerce=int)
    opens_at = DateTimeLocalField(_l("Opens"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    closes_at = DateTimeLocalField(
        _l("Closes"), format="%Y-%m-%dT%H:%M", validators=[DataRequired()]
    )
    time_limit_minutes = IntegerField(
        _l("Time limit (minutes, empty for none)"), validators=[Optional(), NumberRange(1, 1440)]
    )
    pass_mark = FloatField(_l("Pass mark (%)"), default=60, validators=[NumberRange(0, 100)])
    excellent_mark = FloatField(
        _l("Excellent from (%)"), default=85, validators=[NumberRange(0, 100)]
    )
