"""Read-only queries for lists: the banks one may use, the quizzes open to one."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, false, func, literal, or_, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql import Select

from elearn.extensions import db
from elearn.models import RoleAssignment, Term, Unit, User
from elearn.models._types import INT_MAX
from elearn.models.accounts import ADMIN_ROLES
from quizzes import rules
from quizzes.access import (
    CLASS_ROLES,
    STAFF_ROLES,
    may_edit_quiz,
    may_use_bank,
    results_scope,
)
from quizzes.models import (
    Question,
    QuestionBank,
    QuestionCategory,
    QuestionVersion,
    Quiz,
    QuizAttempt,
    QuizAudience,
)


def attempt_percent() -> Any:
    """An attempt's score as a percentage of its maximum, in SQL (0 when it has no maximum)."""
    return case(
        (
            QuizAttempt.max_score > 0,
            func.coalesce(QuizAttempt.score, 0) * 100.0 / QuizAttempt.max_score,
        ),
        else_=0.0,
    )


def audience_matches(quiz: Quiz) -> Any:
    """A condition on RoleAssignment joined to Unit: the role is one the quiz's audience names."""
    return or_(
        *[
            and_(RoleAssignment.role == audience.role, Unit.path.startswith(audience.unit.path))
            for audience in quiz.audiences
        ]
    )


def audience_people(quiz: Quiz, paths: Collection[str]) -> Any:
    """The audience under ``paths`` as a subquery: (user_id, path of the unit they are in it by).

    One row a person; someone in it by two roles counts once, at the first of the two units.
    """
    return (
        select(RoleAssignment.user_id.label("user_id"), func.min(Unit.path).label("path"))
        .join(Unit, Unit.id == RoleAssignment.unit_id)
        .where(audience_matches(quiz), or_(*[Unit.path.startswith(p) for p in paths]))
        .group_by(RoleAssignment.user_id)
        .subquery("people")
    )


def banks_for(actor: User) -> list[QuestionBank]:
    """Banks owned at, above (shared downward) or below the actor's staff units."""
    staff_paths = [a.unit.path for a in actor.roles if a.role in STAFF_ROLES]
    if not staff_paths:
        return []
    conditions = []
    for path in staff_paths:
        conditions.append(literal(path).startswith(Unit.path))  # at or above: shared down
        conditions.append(Unit.path.startswith(path))  # below: in an author's scope
    banks = db.session.scalars(
        select(QuestionBank)
        .join(Unit, Unit.id == QuestionBank.unit_id)
        .where(or_(*conditions))
        .order_by(QuestionBank.name)
    ).all()
    return [bank for bank in banks if may_use_bank(actor, bank)]


def question_filters(args: Mapping[str, str]) -> dict[str, Any]:
    """``bank_questions``' filters from a query string (?q=&type=&category=&difficulty=&archived=1);
    what does not parse is left out."""
    difficulty = str(args.get("difficulty") or "")
    category = str(args.get("category") or "")
    return {
        "text": str(args.get("q") or "").replace("\x00", "").strip()[:100] or None,
        "qtype": str(args.get("type") or "").replace("\x00", "") or None,
        "category_id": int(category) if category.isdigit() and int(category) <= INT_MAX else None,
        "difficulty": int(difficulty) if difficulty in {"1", "2", "3", "4", "5"} else None,
        "archived": args.get("archived") == "1",
    }


def question_tally(bank: QuestionBank) -> dict[str, int]:
    """How many of a bank's questions are in it and how many were taken out."""
    rows = db.session.execute(
        select(Question.is_archived, func.count(Question.id))
        .where(Question.bank_id == bank.id)
        .group_by(Question.is_archived)
    )
    counted = {bool(archived): n for archived, n in rows}
    return {"live": counted.get(False, 0), "archived": counted.get(True, 0)}


def bank_questions(
    bank: QuestionBank,
    *,
    text: str | None = None,
    qtype: str | None = None,
    category_id: int | None = None,
    difficulty: int | None = None,
    archived: bool = False,
    excluding: Collection[int] = (),
) -> Select[Question]:
    """A bank's questions, oldest first, narrowed by words in the name, stem or topic, the
    current version's type, the category and the difficulty; archived ones apart; those
    ``excluding`` left out."""
    query = select(Question).where(Question.bank_id == bank.id, Question.is_archived.is_(archived))
    if excluding:
        query = query.where(Question.id.not_in(excluding))
    if text or qtype:
        query = query.join(QuestionVersion, QuestionVersion.id == Question.current_version_id)
    if text:
        query = query.where(
            or_(
                QuestionVersion.name.icontains(text, autoescape=True),
                QuestionVersion.stem.icontains(text, autoescape=True),
                Question.topic.icontains(text, autoescape=True),
            )
        )
    if qtype:
        query = query.where(QuestionVersion.type == qtype)
    if category_id:
        query = query.where(Question.category_id == category_id)
    if difficulty:
        query = query.where(Question.difficulty == difficulty)
    return query.order_by(Question.id)


def question_counts(bank_ids: list[int]) -> dict[int, int]:
    if not bank_ids:
        return {}
    rows = db.session.execute(
        select(Question.bank_id, func.count(Question.id))
        .where(Question.bank_id.in_(bank_ids), Question.is_archived.is_(False))
        .group_by(Question.bank_id)
    )
    return {bank_id: count for bank_id, count in rows}


def quizzes_open_to(actor: User, now: datetime) -> Select[Quiz]:
    """Published quizzes whose audience holds one of the actor's roles, not yet closed."""
    matches = [
        and_(QuizAudience.role == a.role, literal(a.unit.path).startswith(Unit.path))
        for a in actor.roles
    ]
    audience = (
        select(QuizAudience.quiz_id)
        .join(Unit, Unit.id == QuizAudience.unit_id)
        .where(or_(*matches) if matches else false())
    )
    return (
        select(Quiz)
        .where(
            rules.published_sql(),
            Quiz.id.in_(audience),
            rules.not_closed_sql(now),
        )
        .order_by(Quiz.closes_at.nulls_last(), Quiz.id)
    )


def attempts_of(quiz: Quiz, user: User) -> list[QuizAttempt]:
    return list(
        db.session.scalars(
            select(QuizAttempt)
            .where(QuizAttempt.quiz_id == quiz.id, QuizAttempt.user_id == user.id)
            .order_by(QuizAttempt.number)
        )
    )


def quizzes_managed_by(user: User) -> list[Quiz]:
    """Quizzes the user edits: those they wrote, and those owned under the units they administer."""
    admin_paths = [a.unit.path for a in user.roles if a.role in ADMIN_ROLES]
    found = db.session.scalars(
        select(Quiz)
        .join(Unit, Unit.id == Quiz.unit_id)
        .where(or_(Quiz.created_by_id == user.id, *[Unit.path.startswith(p) for p in admin_paths]))
        .order_by(Quiz.created_at.desc())
        .limit(100)
    ).all()
    return [q for q in found if may_edit_quiz(user, q)]


def quizzes_followed_by(user: User) -> list[Quiz]:
    """Quizzes whose results the user sees for their part of the audience without editing them:
    a term exam or a school's quiz for their class (a teacher), or their school (an admin)."""
    audience_unit = aliased(Unit)
    related = []
    for a in user.roles:
        above = literal(a.unit.path).startswith(audience_unit.path)
        if a.role == "teacher":
            related.append(and_(QuizAudience.role.in_(CLASS_ROLES), above))
        elif a.role in ADMIN_ROLES:
            related.append(or_(above, audience_unit.path.startswith(a.unit.path)))
    if not related:
        return []
    audiences = (
        select(QuizAudience.quiz_id)
        .join(audience_unit, audience_unit.id == QuizAudience.unit_id)
        .where(or_(*related))
    )
    found = db.session.scalars(
        select(Quiz)
        .where(Quiz.id.in_(audiences), Quiz.is_anonymous.is_(False))
        .order_by(Quiz.created_at.desc())
        .limit(100)
    ).all()
    return [q for q in found if not may_edit_quiz(user, q) and results_scope(user, q)]


def builder_banks(banks: list[QuestionBank]) -> list[dict]:
    """For the quiz builder: each bank with how many questions it holds and its categories
    with theirs (for random draws), counted in the database."""
    ids = [bank.id for bank in banks]
    sizes = dict(
        db.session.execute(
            select(Question.bank_id, func.count(Question.id))
            .where(Question.bank_id.in_(ids), Question.is_archived.is_(False))
            .group_by(Question.bank_id)
        ).all()
    )
    categories: dict[int, list[tuple[QuestionCategory, int]]] = {}
    for category, size in db.session.execute(
        select(QuestionCategory, func.count(Question.id))
        .join(Question, Question.category_id == QuestionCategory.id)
        .where(QuestionCategory.bank_id.in_(ids), Question.is_archived.is_(False))
        .group_by(QuestionCategory.id)
        .order_by(QuestionCategory.name)
    ).all():
        categories.setdefault(category.bank_id, []).append((category, size))
    return [
        {"bank": bank, "size": sizes.get(bank.id, 0), "categories": categories.get(bank.id, [])}
        for bank in banks
    ]


def chosen_questions(banks: list[QuestionBank], ids: Collection[int]) -> list[Question]:
    """The questions picked so far, of those banks, in the order they were picked."""
    if not ids:
        return []
    found = {
        q.id: q
        for q in db.session.scalars(
            select(Question).where(
                Question.id.in_(ids),
                Question.bank_id.in_([bank.id for bank in banks]),
                Question.is_archived.is_(False),
            )
        )
    }
    return [found[i] for i in ids if i in found]


def assessment_record(student: User, *, policy_at: datetime | None = None) -> list[dict]:
    """The student's best finished attempt at each quiz, newest first, with the term it fell in.

    ``policy_at`` (for a guardian's eyes): each result only as its quiz's review policy allows
    at that moment (``result_shown``; the score, maximum and pass are None otherwise)."""
    # the service imports this module (through analysis): import it when asked
    from quizzes.rules import review_allowed

    attempts = db.session.scalars(
        select(QuizAttempt)
        .where(QuizAttempt.user_id == student.id, QuizAttempt.state == "finished")
        .order_by(QuizAttempt.finished_at.desc())
    ).all()
    terms = db.session.scalars(select(Term).order_by(Term.starts_on.desc())).all()
    best: dict[int, QuizAttempt] = {}
    for attempt in attempts:
        current = best.get(attempt.quiz_id)
        if current is None or (attempt.score or 0) > (current.score or 0):
            best[attempt.quiz_id] = attempt
    rows = []
    for attempt in sorted(best.values(), key=lambda a: a.finished_at or a.started_at, reverse=True):
        finished = attempt.finished_at or attempt.started_at
        day = finished.date()
        term = next((t for t in terms if t.starts_on <= day <= t.ends_on), None)
        rows.append(
            {
                "quiz_id": attempt.quiz_id,
                "title": attempt.quiz.title,
                "kind": attempt.quiz.kind,
                "term": term.name if term else "",
                "score": attempt.score,
                "max_score": attempt.max_score,
                "passed": attempt.passed,
                "finished_at": finished,
                "attempt_id": attempt.id,
                "result_shown": True,
            }
        )
        if policy_at is not None and not review_allowed(attempt, policy_at):
            rows[-1].update(result_shown=False, score=None, max_score=None, passed=None)
    return rows


def question_versions(question: Question) -> list:
    """Every version of a question, newest first (with who made it)."""
    return list(
        db.session.scalars(
            select(QuestionVersion)
            .where(QuestionVersion.question_id == question.id)
            .order_by(QuestionVersion.number.desc())
        )
    )


def unit_names(paths: Collection[str]) -> list[str]:
    """The names of the units at the ends of ``paths``, in path order."""
    ids = [int(path.strip("/").rsplit("/", 1)[-1]) for path in paths]
    names = dict(db.session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(ids))).all())
    return [names[i] for i in ids if i in names]


def user_names(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = db.session.execute(select(User.id, User.display_name).where(User.id.in_(ids)))
    return {user_id: name for user_id, name in rows}
