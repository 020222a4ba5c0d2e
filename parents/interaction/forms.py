"""The form a message is written with on the conversation page."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from parents.interaction.models import MAX_TEXT


class MessageForm(FlaskForm):
    text = TextAreaField(_l("Message"), validators=[DataRequired(), Length(max=MAX_TEXT)])
