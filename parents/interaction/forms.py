"""The form a message is written with on the conversation page."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField
from wtforms.validators import DataRequired, Length

from elearn.models._types import BIGINT_MAX
from parents.interaction.models import MAX_TEXT


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
