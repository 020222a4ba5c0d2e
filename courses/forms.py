"""Flask-WTF forms of the authoring pages, and the translated labels of every choice."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

LABELS: dict[str, dict[str, object]] = {
    "audience": {
        "student": _l("Students"),
        "teacher": _l("Teachers (training track)"),
        "parent": _l("Parents (parent school)"),
    },
    "grade_band": {
        "kindergarten": _l("Kindergarten"),
        "lower_primary": _l("Primary grades 1–3"),
        "upper_primary": _l("Primary grades 4–6"),
        "junior": _l("Junior secondary (grades 7–9)"),
        "senior": _l("Senior secondary (grades 10–12)"),
        "vocational": _l("Vocational school"),
    },
    "category": {
        "audio_video": _l("Audio and video"),
        "text_pictures": _l("Text and pictures"),
        "courseware": _l("Excellent courseware"),
        "typical_case": _l("Typical cases"),
        "lecture_recording": _l("Lecture recordings"),
    },
    "drug_type": {
        "general": _l("Drugs in general"),
        "methamphetamine": _l("Methamphetamine"),
        "heroin": _l("Heroin"),
        "cannabis": _l("Cannabis"),
        "ketamine": _l("Ketamine"),
        "new_psychoactive": _l("New psychoactive substances"),
    },
    "subject": {
        "morality_law": _l("Morality and law"),
        "chinese": _l("Chinese"),
        "biology": _l("Biology"),
        "chemistry": _l("Chemistry"),
        "physical_education": _l("Physical education and health"),
        "mental_health": _l("Mental health"),
        "class_meeting": _l("Class meeting"),
    },
    "format": {
        "video": _l("Video"),
        "audio": _l("Audio"),
        "document": _l("Document"),
        "rich_text": _l("Text and pictures"),
        "mixed": _l("Mixed"),
    },
    "kind": {
        "video": _l("Video"),
        "audio": _l("Audio"),
        "document": _l("Document"),
        "rich_text": _l("Rich text"),
    },
    "role": {
        "dedicated": _l("Dedicated lesson"),
        "infiltration": _l("Subject infiltration lesson"),
    },
    "status": {
        "draft": _l("Draft"),
        "in_review": _l("In review"),
        "published": _l("Published"),
        "archived": _l("Archived"),
    },
}


def choices(name: str, *, blank: bool = False) -> list[SelectChoice]:
    options = [SelectChoice(value, label) for value, label in LABELS[name].items()]
    return ([SelectChoice("", _l("—"))] if blank else []) + options


class CourseForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    unit = SelectField(_l("Owner unit"), coerce=int)
    audience = SelectField(_l("Audience"), choices=choices("audience"))
    grade_band = SelectField(
        _l("Grade band (student courses)"), choices=choices("grade_band", blank=True), default=""
    )
    category = SelectField(_l("Category"), choices=choices("category"))
    drug_type = SelectField(_l("Drug type"), choices=choices("drug_type", blank=True), default="")
    subject = SelectField(_l("Subject"), choices=choices("subject", blank=True), default="")


class CourseUnitForm(FlaskForm):
    title = StringField(_l("Unit title"), validators=[DataRequired(), Length(max=200)])


class LessonForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    course_unit = SelectField(_l("Course unit"), coerce=int)
    kind = SelectField(_l("Kind of lesson"), choices=choices("kind"))
    asset_id = SelectField(_l("File (one of my uploads)"), choices=[], validate_choice=False)
    body_html = TextAreaField(_l("Text (for rich-text lessons, or notes under the media)"))
    role = SelectField(_l("Lesson role (1+N)"), choices=choices("role"))
    subject = SelectField(
        _l("Subject (for subject infiltration lessons)"),
        choices=choices("subject", blank=True),
        default="",
    )


class StructureForm(FlaskForm):
    """Move (direction up/down) or confirm a removal: a CSRF-protected POST."""

    direction = HiddenField()


class ReviewForm(FlaskForm):
    comment = TextAreaField(_l("Comment for the author"), validators=[Optional(), Length(max=2000)])
    decision = HiddenField()
