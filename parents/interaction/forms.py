"""The form a message is written with on the conversation page."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, TextAreaField, TimeField
from wtforms.validators import DataRequired, Length

from elearn.models._types import BIGINT_MAX
from parents.interaction.models import MAX_AUTO_REPLY, MAX_TEXT


class MessageForm(FlaskForm):
    text = TextAreaField(_l("Message"), validators=[DataRequired(), Length(max=MAX_TEXT)])


class ReleaseForm(FlaskForm):
    """A reviewer delivers one held message."""

    message_id = HiddenField(validators=[DataRequired()], filters=[lambda v: _row_id(v)])


def _row_id(value: object) -> int | None:
    text = str(value or "")
    return int(text) if text.isdigit() and 1 <= int(text) <= BIGINT_MAX else None


class StartForm(FlaskForm):
    """Start a conversation with one person, or with every guardian of a class."""

    user_id = HiddenField(filters=[lambda v: _row_id(v)])
    class_id = HiddenField(filters=[lambda v: _row_id(v)])


class QuietHoursForm(FlaskForm):
    """A staff member's quiet hours, in local time, and their automatic reply."""

    enabled = BooleanField(_l("Quiet hours on"))
    starts = TimeField(_l("From"), validators=[DataRequired()])
    ends = TimeField(_l("Until"), validators=[DataRequired()])
    auto_reply = TextAreaField(
        _l("Automatic reply (empty: the default, which says when you will read it)"),
        validators=[Length(max=MAX_AUTO_REPLY)],
    )


class OfficeForm(FlaskForm):
    """An urgent message to a school's office."""

    school_id = SelectField(_l("School"), coerce=int, validators=[DataRequired()])
    text = TextAreaField(_l("Message"), validators=[DataRequired(), Length(max=MAX_TEXT)])


class ExportForm(FlaskForm):
    """An admin exports a conversation's full record (audited)."""
