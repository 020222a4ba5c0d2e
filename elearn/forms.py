"""The carrier's Flask-WTF forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional


class LoginForm(FlaskForm):
    login = StringField(_l("Username or phone number"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=128)])
    next = HiddenField()


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=128)])
    next = HiddenField()


class UnitForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    code = StringField(_l("Code"), validators=[Optional(), Length(max=64)])
    school_kind = SelectField(
        _l("Kind of school"),
        choices=[
            SelectChoice("kindergarten", _l("Kindergarten")),
            SelectChoice("primary", _l("Primary school")),
            SelectChoice("junior", _l("Junior secondary school")),
            SelectChoice("senior", _l("Senior secondary school")),
            SelectChoice("vocational", _l("Vocational school")),
            SelectChoice("university", _l("University")),
        ],
        validators=[Optional()],
    )
    is_rural = BooleanField(_l("Rural school"))
    grade_level = IntegerField(_l("Grade level (0 = kindergarten)"), validators=[Optional()])


class TermForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=64)])
    starts_on = DateField(_l("Starts on"), validators=[DataRequired()])
    ends_on = DateField(_l("Ends on"), validators=[DataRequired()])


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), validators=[DataRequired()])
    #: the units the actor may give a role at, with their full names (set by the view)
    unit_id = SelectField(_l("Unit"), coerce=int, validators=[DataRequired()])


class ConfirmForm(FlaskForm):
    """An empty form: its CSRF token is the confirmation of a destructive action."""


class RosterUploadForm(FlaskForm):
    # No check of the file name's extension here: the service recognises .xlsx and .csv by their
    # content and says what to do with anything else (an old .xls, a Word file, a renamed PDF).
    file = FileField(
        _l("Roster file (.xlsx or .csv)"),
        validators=[FileRequired(_l("Choose the roster file to upload."))],
    )
