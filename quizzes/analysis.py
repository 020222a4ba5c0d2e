"""Results of a quiz: score distribution, item analysis (facility, discrimination), by county."""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, case, event, func, not_, select, tuple_
from sqlalchemy.orm import Session, aliased

from elearn.extensions import cache, db
from elearn.models import Role, RoleAssignment, Unit, User
from quizzes import figures, richtext
from quizzes.access import ResultsScope
from quizzes.models import AttemptSlot, AttemptState, QuestionVersion, Quiz, QuizAttempt
from quizzes.queries import attempt_percent, audience_people

BINS = 10


@dataclass
class ItemStats:
    question_id: int
    name: str
    type: str
    answered: int = 0
    #: mean fraction earned (0 hard … 1 easy)
    facility: float | None = None
    #: upper 27% minus lower 27% facility (> 0.3 good, < 0.2 poor, < 0 suspect)
    discrimination: float | None = None
    by_county: dict[str, float] = field(default_factory=dict)


@dataclass
class Overview:
    """What every page of a quiz's results shows: counted once, kept until a result changes."""

    attempts: int
    #: of the graded best attempts (one waiting for a teacher has no final score yet)
    mean_percent: float | None
    #: counts of graded best-attempt percentages in ten bins: 0–9, 10–19, … 90–100
    distribution: list[int]
    items: list[ItemStats]
    #: taken, pending, passed, as the campaign page counts them (``quizzes.figures``)
    rates: figures.Rates = field(default_factory=figures.Rates)

    @property
    def pass_rate(self) -> float | None:
        return self.rates.pass_rate


@dataclass
class QuizResults(Overview):
    #: one page of the students, best score first (all of them: ``student_rows``)
    rows: list[dict[str, Any]] = field(default_factory=list)
    page: int = 1
    pages: int = 1

    # what the pager macro reads, as on a Flask-SQLAlchemy pagination
    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


def best_attempts(quiz: Quiz, *, people: Any = None) -> Any:
    """Each student's best finished attempt (ties: the first), with its percentage; a subquery.
    With ``people`` (a subquery of ``user_id``s), theirs only.

    Everything here is counted in the database: a prefecture's term exam has hundreds of
    thousands of attempts and millions of answers, none of which is loaded to be counted.
    """
    columns = [
        QuizAttempt.id,
        QuizAttempt.user_id,
        QuizAttempt.score,
        QuizAttempt.max_score,
        QuizAttempt.passed,
        QuizAttempt.finished_at,
        QuizAttempt.needs_manual_grading,
        attempt_percent().label("percent"),
    ]
    finished: tuple[Any, ...] = (
        QuizAttempt.quiz_id == quiz.id,
        QuizAttempt.state == AttemptState.FINISHED,
    )
    if people is not None:
        finished += (QuizAttempt.user_id.in_(select(people.c.user_id)),)
    retaken = db.session.scalar(select(QuizAttempt.id).where(*finished, QuizAttempt.number > 1))
    if retaken is None:
        # one finished attempt a student at most (a term exam): each is the best. Said plainly,
        # PostgreSQL's planner knows how many there are; behind a window function it guesses
        # 0.5% of them and looks up their answers one attempt at a time (10 s at 470,000).
        return select(*columns).where(*finished).subquery("best")
    ranked = (
        select(
            *columns,
            func.row_number()
            .over(
                partition_by=QuizAttempt.user_id,
                order_by=(QuizAttempt.score.desc().nulls_last(), QuizAttempt.id),
            )
            .label("nth"),
        )
        .where(*finished)
        .subquery("ranked")
    )
    return select(ranked).where(ranked.c.nth == 1).subquery("best")


def _bin(percent: Any) -> Any:
    """The distribution's bin of a percentage: 0 for 0–9.9…, 9 for 90–100 (portable SQL)."""
    return case(*[(percent >= 10 * n, n) for n in range(BINS - 1, 0, -1)], else_=0)


def _scoped_best(quiz: Quiz, scope: ResultsScope | None) -> Any:
    """The best attempts ``scope`` shows: every one, or its audience members'."""
    if scope is None or scope.whole:
        return best_attempts(quiz)
    return best_attempts(quiz, people=audience_people(quiz, scope.paths))


def _scope_key(scope: ResultsScope | None) -> str:
    if scope is None or scope.whole:
        return "*"
    return ",".join(scope.paths)


def results(
    quiz: Quiz, *, scope: ResultsScope | None = None, page: int = 1, per_page: int = 50
) -> QuizResults:
    """Each student's best finished attempt (of those ``scope`` shows: all by default): the
    summary, the distribution, the item analysis (kept in the cache until a result of the quiz
    changes) and one page of the students."""
    best = _scoped_best(quiz, scope)
    version = _results_version(quiz.id)
    # 2: the shape of Overview; the quiz's creation time: a new database numbers quizzes anew
    created = quiz.created_at
    stamp = created.timestamp() if created else ""
    key = f"quiz-results:2:{quiz.id}:{stamp}:{version}:{_scope_key(scope)}"
    overview = cache.get(key)
    if not isinstance(overview, Overview):
        overview = _overview(best)
        cache.set(key, overview)
    pages = max(1, -(-overview.attempts // per_page))
    page = min(max(1, page), pages)
    return QuizResults(
        **vars(overview),
        rows=list(_rows(best, offset=(page - 1) * per_page, limit=per_page)),
        page=page,
        pages=pages,
    )


def _overview(best: Any) -> Overview:
    graded = not_(best.c.needs_manual_grading.is_(True))
    binned = _bin(best.c.percent)
    took, pending, passed, _excellent, mean, *distribution = db.session.execute(
        select(
            *figures.tally(best),
            func.avg(case((graded, best.c.percent))),
            *[func.sum(case((and_(graded, binned == n), 1), else_=0)) for n in range(BINS)],
        ).select_from(best)
    ).one()
    rates = figures.Rates()
    rates.add(0, took, pending, passed, 0)
    return Overview(
        attempts=took,
        mean_percent=round(float(mean), 1) if mean is not None else None,
        distribution=[n or 0 for n in distribution],
        items=_item_analysis(best, took),
        rates=rates,
    )


# --- when results change --------------------------------------------------------------------
# A quiz's results are counted again only when one of them changed: each change (an attempt
# graded, by the server or a teacher) gives the quiz a new random version once its transaction
# has committed, and the overview is kept under the version it was counted at. A count that
# began before the commit is kept under the old version, which nobody asks for again; a version
# the cache lost is made anew, so an old overview is never taken for a current one.

_CHANGED = "quiz_results_changed"


def results_changed(quiz_id: int) -> None:
    """A result of the quiz changed in this session's transaction (see above)."""
    db.session.info.setdefault(_CHANGED, set()).add(quiz_id)


def _results_version(quiz_id: int) -> str:
    key = f"quiz-results-version:{quiz_id}"
    version = cache.get(key)
    if version is None:
        cache.add(key, secrets.token_hex(8))
        version = cache.get(key)
    return str(version)


@event.listens_for(Session, "after_commit")
def _new_versions(session: Session) -> None:
    for quiz_id in session.info.pop(_CHANGED, ()):
        cache.set(f"quiz-results-version:{quiz_id}", secrets.token_hex(8))


@event.listens_for(Session, "after_rollback")
def _no_change(session: Session) -> None:
    session.info.pop(_CHANGED, None)


class Places:
    """The class and school of each row's unit path, named from a few lookups: the units are
    read a batch of rows at a time and kept (a prefecture's export has 700,000 rows and some
    thousands of classes)."""

    def __init__(self) -> None:
        self.units: dict[int, tuple[str, str]] = {}

    @staticmethod
    def _ids(path: str | None) -> list[int]:
        return [int(part) for part in (path or "").strip("/").split("/") if part]

    def load(self, paths: Iterable[str | None]) -> None:
        missing = {i for path in paths for i in self._ids(path)} - self.units.keys()
        for found in db.session.execute(
            select(Unit.id, Unit.name, Unit.type).where(Unit.id.in_(missing))
        ):
            self.units[found.id] = (found.name, found.type)

    def names(self, path: str | None) -> tuple[str, str]:
        """(class, school): the unit of ``path`` and the school above it ("" when none)."""
        ids = self._ids(path)
        if not ids:
            return "", ""
        school = next((self.units[i][0] for i in ids if self.units[i][1] == "school"), "")
        return self.units[ids[-1]][0], school


def class_path(user_id: Any) -> Any:
    """The path of the class a student sits in (the first, for the rare one in two)."""
    return (
        select(Unit.path)
        .join(RoleAssignment, RoleAssignment.unit_id == Unit.id)
        .where(RoleAssignment.user_id == user_id, RoleAssignment.role == Role.STUDENT)
        .order_by(Unit.path)
        .limit(1)
        .scalar_subquery()
    )


def _rows(best: Any, *, offset: int = 0, limit: int | None = None) -> Iterator[dict[str, Any]]:
    query = (
        select(best, User.display_name, class_path(best.c.user_id).label("place"))
        .join(User, User.id == best.c.user_id)
        .order_by(best.c.percent.desc(), best.c.user_id)
        .offset(offset)
        .limit(limit)
    )
    places = Places()
    for batch in db.session.execute(query.execution_options(yield_per=2000)).partitions():
        places.load(row.place for row in batch)
        for row in batch:
            class_name, school = places.names(row.place)
            yield {
                "name": row.display_name,
                "class": class_name,
                "school": school,
                "score": row.score,
                "max_score": row.max_score,
                "percent": round(row.percent, 1),
                "passed": row.passed,
                "finished_at": row.finished_at,
                "attempt_id": row.id,
                "needs_grading": row.needs_manual_grading,
                "user_id": row.user_id,
            }


def student_rows(quiz: Quiz, scope: ResultsScope | None = None) -> Iterator[dict[str, Any]]:
    """Every student's best attempt (of those ``scope`` shows), best first, read in batches."""
    return _rows(_scoped_best(quiz, scope))


def _item_analysis(best: Any, count: int) -> list[ItemStats]:
    """Facility and discrimination of each question, and its facility in each county.

    Discrimination compares the top 27% of students (by percentage; ties broken by id) with
    the bottom 27%, as the classical item analysis does. The two groups' edges are found
    first; then one pass over the answers sums them by question and county, and the counties
    are added up here into each question's figures.
    """
    if not count:
        return []
    group = max(1, round(count * 0.27))
    ranked = select(
        best.c.percent,
        best.c.user_id,
        func.row_number().over(order_by=(best.c.percent, best.c.user_id)).label("rank"),
    ).subquery("by_rank")
    edges = dict(
        (rank, (percent, user_id))
        for percent, user_id, rank in db.session.execute(
            select(ranked).where(ranked.c.rank.in_([group, count - group + 1]))
        )
    )
    rows = _answers_by_county(best, edges[group], edges[count - group + 1])
    # question id → [answered, sum, upper sum, upper n, lower sum, lower n, version]
    totals: dict[int, list[float]] = defaultdict(lambda: [0, 0.0, 0.0, 0, 0.0, 0, 0])
    by_county: dict[int, dict[str, float]] = defaultdict(dict)
    for question_id, county, n, total, up, up_n, low, low_n, version_id in rows:
        tally = totals[question_id]
        for index, value in enumerate((n, total, up, up_n, low, low_n)):
            tally[index] += value or 0
        tally[6] = max(tally[6], version_id)
        if county:
            by_county[question_id][county] = round(float(total or 0) / n, 3)
    labels = {
        v.id: (v.name or richtext.plain(v.stem)[:40], v.type)
        for v in db.session.scalars(
            select(QuestionVersion).where(QuestionVersion.id.in_({t[6] for t in totals.values()}))
        )
    }
    items = []
    for question_id, (n, total, up, up_n, low, low_n, version_id) in sorted(totals.items()):
        name, qtype = labels[int(version_id)]
        items.append(
            ItemStats(
                question_id=question_id,
                name=name,
                type=qtype,
                answered=int(n),
                facility=round(total / n, 3),
                discrimination=round(up / up_n - low / low_n, 3)
                if up_n and low_n and count >= 4
                else None,
                by_county=dict(sorted(by_county[question_id].items())),
            )
        )
    return items


def _answers_by_county(
    best: Any, lower_edge: tuple[Any, Any], upper_edge: tuple[Any, Any]
) -> Sequence[Any]:
    """The graded answers summed by question and county: how many, their sum, and the sum and
    count of those of the upper and lower groups (at or beyond the edges), with the newest
    version seen."""
    # each taker with the class they sit in (the first, for the rare one in two), and each class
    # with its county: a small table, so the answers are summed by question and county at once
    takers = (
        select(
            best.c.id,
            best.c.percent,
            best.c.user_id,
            func.min(RoleAssignment.unit_id).label("unit_id"),
        )
        .outerjoin(
            RoleAssignment,
            and_(RoleAssignment.user_id == best.c.user_id, RoleAssignment.role == Role.STUDENT),
        )
        .group_by(best.c.id, best.c.percent, best.c.user_id)
        .subquery("takers")
    )
    classes, counties = aliased(Unit), aliased(Unit)
    county_of = (
        select(classes.id.label("unit_id"), counties.name.label("county"))
        .join(counties, and_(counties.type == "county", classes.path.startswith(counties.path)))
        .subquery("county_of")
    )
    key = tuple_(takers.c.percent, takers.c.user_id)
    lower, upper = key <= tuple_(*lower_edge), key >= tuple_(*upper_edge)
    fraction = AttemptSlot.fraction
    return db.session.execute(
        select(
            AttemptSlot.question_id,
            county_of.c.county,
            func.count(),
            func.sum(fraction),
            func.sum(case((upper, fraction))),
            func.count(case((upper, 1))),
            func.sum(case((lower, fraction))),
            func.count(case((lower, 1))),
            func.max(AttemptSlot.version_id),
        )
        .join(takers, takers.c.id == AttemptSlot.attempt_id)
        .outerjoin(county_of, county_of.c.unit_id == takers.c.unit_id)
        .where(fraction.is_not(None))
        .group_by(AttemptSlot.question_id, county_of.c.county)
    ).all()
