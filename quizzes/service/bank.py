"""Question banks: create, add and edit questions (new versions), import and export."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from elearn.extensions import db
from elearn.models import Unit, User
from elearn.service import audit
from elearn.service.errors import ServiceError
from quizzes.access import may_author_at
from quizzes.interchange import ParseError, ParseResult, QuestionDraft, gift, moodlexml, xlsx
from quizzes.models import Question, QuestionBank, QuestionCategory, QuestionVersion, QuizItem
from quizzes.qtypes import QUESTION_TYPES
from quizzes.service.attachments import attachable

FORMATS = ("gift", "moodlexml", "xlsx")
MAX_QUESTIONS_PER_IMPORT = 2000


def create_bank(*, actor: User, name: str, unit: Unit) -> QuestionBank:
    """A new question bank owned at ``unit`` (shared with everyone below it)."""
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise ServiceError(_("Give the bank a name (at most 120 characters)."), field="name")
    if not may_author_at(actor, unit):
        raise ServiceError(_("You cannot create a bank at this unit."), status=403)
    bank = QuestionBank(name=name, unit_id=unit.id, unit=unit, created_by_id=actor.id)
    db.session.add(bank)
    db.session.flush()
    audit.record(
        "quiz.bank_created", actor=actor, unit_id=unit.id, target_type="bank", target_id=bank.id
    )
    return bank


def ensure_category(bank: QuestionBank, path: str | None) -> QuestionCategory | None:
    """The category at ``path`` ("毒品知识/新型毒品"), created on the way."""
    parent: QuestionCategory | None = None
    for part in [p.strip() for p in (path or "").split("/") if p.strip()]:
        existing = db.session.scalar(
            select(QuestionCategory).where(
                QuestionCategory.bank_id == bank.id,
                QuestionCategory.name == part[:120],
                QuestionCategory.parent_id.is_(None)
                if parent is None
                else QuestionCategory.parent_id == parent.id,
            )
        )
        if existing is None:
            existing = QuestionCategory(
                bank_id=bank.id, name=part[:120], parent_id=parent.id if parent else None
            )
            db.session.add(existing)
            db.session.flush()
        parent = existing
    return parent


def check_draft(draft: QuestionDraft) -> list[str]:
    """What keeps a draft from becoming a question (translated messages)."""
    question_type = QUESTION_TYPES.get(draft.type)
    if question_type is None:
        return [_("Unknown question type '%(type)s'.", type=draft.type)]
    errors = []
    if not (draft.stem or "").strip():
        errors.append(_("The stem is empty."))
    if draft.difficulty is not None and not 1 <= draft.difficulty <= 5:
        errors.append(_("Difficulty must be a whole number from 1 to 5."))
    if draft.default_mark <= 0:
        errors.append(_("The mark must be a number."))
    return errors + question_type.validate(draft.data, draft.grading)


def add_question(*, actor: User | None, bank: QuestionBank, draft: QuestionDraft) -> Question:
    """Add a question (version 1) to a bank; the draft must pass ``check_draft``."""
    errors = check_draft(draft)
    if errors:
        raise ServiceError(" ".join(errors), status=422)
    category = ensure_category(bank, draft.category)
    question = Question(
        bank_id=bank.id,
        category_id=category.id if category else None,
        grade_band=draft.grade_band,
        topic=draft.topic,
        difficulty=draft.difficulty,
        created_by_id=actor.id if actor else None,
        is_archived=False,
    )
    db.session.add(question)
    db.session.flush()
    _new_version(question, draft, actor, number=1)
    return question


def _new_version(
    question: Question, draft: QuestionDraft, actor: User | None, *, number: int
) -> QuestionVersion:
    version = QuestionVersion(
        question_id=question.id,
        number=number,
        type=draft.type,
        name=(draft.name or "")[:255],
        stem=draft.stem,
        data=draft.data,
        grading=draft.grading,
        default_mark=draft.default_mark,
        general_feedback=draft.general_feedback or "",
        created_by_id=actor.id if actor else None,
    )
    db.session.add(version)
    db.session.flush()
    question.current_version_id = version.id
    db.session.flush()
    db.session.expire(question, ["current_version"])
    return version


def edit_question(*, actor: User, question: Question, draft: QuestionDraft) -> QuestionVersion:
    """Editing never rewrites history: a new version is served to new attempts only."""
    errors = check_draft(draft)
    if errors:
        raise ServiceError(" ".join(errors), status=422)
    last = db.session.scalar(
        select(QuestionVersion.number)
        .where(QuestionVersion.question_id == question.id)
        .order_by(QuestionVersion.number.desc())
        .limit(1)
    )
    question.topic, question.grade_band = draft.topic, draft.grade_band
    question.difficulty = draft.difficulty
    category = ensure_category(question.bank, draft.category)
    question.category_id = category.id if category else question.category_id
    return _new_version(question, draft, actor, number=(last or 0) + 1)


#: the edit page's fields, in the order of the spreadsheet template's columns
ROW_FIELDS = (
    ["category", "stem"]
    + [f"option_{c}" for c in "abcdef"]
    + ["answer", "topic", "grade_band", "difficulty", "mark", "feedback", "scoring"]
)


def editable(question: Question) -> bool:
    """Types the edit page can hold (the spreadsheet's); others are edited by import."""
    version = question.current_version
    return version is not None and version.type in xlsx.EXPORT_NAMES


def row_of(question: Question) -> dict[str, Any]:
    """The question's current version as the edit page's fields."""
    cells = xlsx.draft_to_row(draft_of(question))
    return dict(zip(ROW_FIELDS, cells[1:], strict=True))


def edit_question_row(
    *,
    actor: User,
    question: Question,
    row: dict[str, Any],
    media_asset_id: str | None = None,
    remove_media: bool = False,
) -> QuestionVersion:
    """Save the edit page: the fields become a new version (old attempts keep theirs)."""
    version = question.current_version
    if question.is_archived:
        raise ServiceError(
            _("This question was taken out of its bank: put it back to edit it."), status=409
        )
    if version is None or version.type not in xlsx.EXPORT_NAMES:
        raise ServiceError(_("This question type is edited by importing a file."), status=422)
    cells = [xlsx.EXPORT_NAMES[version.type]] + [str(row.get(f) or "") for f in ROW_FIELDS]
    try:
        draft = xlsx.row_to_draft(cells)
    except ValueError as error:
        raise ServiceError(str(error), status=422) from None
    draft.name = version.name if version.name and version.name != version.stem[:60] else ""
    draft.name = draft.name or draft.stem[:60]
    media = None if remove_media else version.media_asset_id
    if media_asset_id and not remove_media:
        media = attachable(actor=actor, asset_id=media_asset_id).id
    new = edit_question(actor=actor, question=question, draft=draft)
    new.media_asset_id = media  # the picture or recording is part of the version
    db.session.flush()
    audit.record(
        "quiz.question_edited",
        actor=actor,
        unit_id=question.bank.unit_id,
        target_type="question",
        target_id=question.id,
        version=new.number,
    )
    return new


def quizzes_using(question: Question) -> int:
    """How many quizzes hold the question as a fixed item (they keep it when it is archived)."""
    return (
        db.session.scalar(
            select(func.count(func.distinct(QuizItem.quiz_id))).where(
                QuizItem.question_id == question.id
            )
        )
        or 0
    )


def set_archived(*, actor: User, question: Question, archived: bool) -> bool:
    """Take a question out of its bank (or put it back); returns whether anything changed.

    Nothing is deleted: attempts point at its versions, and quizzes holding it as a fixed item
    keep serving it. An archived question is no longer listed, picked for a quiz or a quick
    quiz, or drawn at random.
    """
    if not may_author_at(actor, question.bank.unit):
        raise ServiceError(_("Only the bank's authors can change its questions."), status=403)
    if question.is_archived == archived:
        return False
    question.is_archived = archived
    db.session.flush()
    audit.record(
        "quiz.question_archived" if archived else "quiz.question_restored",
        actor=actor,
        unit_id=question.bank.unit_id,
        target_type="question",
        target_id=question.id,
    )
    return True


@dataclass
class ImportResult:
    imported: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"imported": self.imported, "errors": self.errors, "skipped": self.skipped}


def parse_file(fmt: str, payload: bytes) -> ParseResult:
    if fmt == "gift":
        try:
            text = payload.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = payload.decode("gb18030")  # files saved by Chinese Windows editors
            except UnicodeDecodeError:
                return ParseResult(errors=[ParseError(0, _("The file is not UTF-8 text."))])
        return gift.parse(text)
    if fmt == "moodlexml":
        return moodlexml.parse(payload)
    if fmt == "xlsx":
        return xlsx.parse(payload)
    raise ServiceError(_("Choose a format: gift, moodlexml or xlsx."), field="format")


def import_questions(*, actor: User, bank: QuestionBank, fmt: str, payload: bytes) -> ImportResult:
    """Import a whole file or nothing: any error in any question rejects the file."""
    parsed = parse_file(fmt, payload)
    errors = [e.as_dict() for e in parsed.errors]
    for draft in parsed.drafts:
        errors += [{"line": draft.line, "message": m} for m in check_draft(draft)]
    if len(parsed.drafts) > MAX_QUESTIONS_PER_IMPORT:
        errors.append({"line": 0, "message": _("At most 2000 questions per file.")})
    if not parsed.drafts and not errors:
        errors.append({"line": 0, "message": _("The file holds no questions.")})
    result = ImportResult(skipped=[s.as_dict() for s in parsed.skipped])
    if errors:
        result.errors = sorted(errors, key=lambda e: e["line"])
        return result
    for draft in parsed.drafts:
        add_question(actor=actor, bank=bank, draft=draft)
    result.imported = len(parsed.drafts)
    audit.record(
        "quiz.questions_imported",
        actor=actor,
        unit_id=bank.unit_id,
        target_type="bank",
        target_id=bank.id,
        format=fmt,
        count=result.imported,
    )
    return result


def _category_path(category: QuestionCategory | None) -> str | None:
    parts = []
    while category is not None:
        parts.append(category.name)
        category = (
            db.session.get(QuestionCategory, category.parent_id) if category.parent_id else None
        )
    return "/".join(reversed(parts)) or None


def draft_of(question: Question) -> QuestionDraft:
    version = question.current_version
    assert version is not None
    return QuestionDraft(
        type=version.type,
        stem=version.stem,
        data=dict(version.data),
        grading=dict(version.grading),
        name=version.name,
        category=_category_path(question.category),
        general_feedback=version.general_feedback,
        default_mark=version.default_mark,
        topic=question.topic,
        grade_band=question.grade_band,
        difficulty=question.difficulty,
    )


EXPORT_TYPES = {
    "gift": ("text/plain; charset=utf-8", "txt"),
    "moodlexml": ("application/xml", "xml"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
}


def export_questions(*, actor: User, bank: QuestionBank, fmt: str) -> tuple[bytes, str, str]:
    """The bank's current questions as a file: (content, mimetype, file extension); audited."""
    if fmt not in EXPORT_TYPES:
        raise ServiceError(_("Choose a format: gift, moodlexml or xlsx."), field="format")
    questions = db.session.scalars(
        select(Question)
        .where(Question.bank_id == bank.id, Question.is_archived.is_(False))
        .order_by(Question.category_id.nulls_first(), Question.id)
    ).all()
    drafts = [draft_of(q) for q in questions]
    try:
        if fmt == "gift":
            content = gift.export(drafts).encode("utf-8")
        elif fmt == "moodlexml":
            content = moodlexml.export(drafts)
        else:
            content = xlsx.export(drafts)
    except ValueError as error:
        raise ServiceError(str(error), status=422) from None
    mimetype, extension = EXPORT_TYPES[fmt]
    audit.record(
        "quiz.questions_exported",
        actor=actor,
        unit_id=bank.unit_id,
        target_type="bank",
        target_id=bank.id,
        format=fmt,
        count=len(drafts),
    )
    return content, mimetype, extension
