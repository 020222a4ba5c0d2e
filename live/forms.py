"""The form a lecturer schedules a lecture with."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateTimeLocalField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length


class LectureForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    starts_at = DateTimeLocalField(
        _l("Starts at"), format="%Y-%m-%dT%H:%M", validators=[DataRequired()]
    )
    #: choices are the units within the lecturer's scope, filled in by the view
    unit_id = SelectField(_l("For"), coerce=int, choices=[], validate_choice=True)
    role = SelectField(
        _l("Who watches"),
        choices=[
            SelectChoice("", _l("Everyone there")),
            SelectChoice("student", _l("Students")),
            SelectChoice("teacher", _l("Teachers")),
            SelectChoice("guardian", _l("Guardians")),
        ],
    )
    is_training = BooleanField(_l("Teacher training (教师培训)"))
    #: choices are the lessons the lecturer can see, filled in by the view; 0 is none
    lesson_id = SelectField(
        _l("Stands for a course lesson (attending completes it)"),
        coerce=int,
        choices=[],
        validate_choice=True,
        default=0,
    )
