"""The scale seed, on a tiny spec in the test database (the full sizes are timed in bench/)."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from elearn.auth import login_throttle
from elearn.extensions import db
from elearn.models import GuardianLink, Role, RoleAssignment, Unit, UnitPopulation, User
from elearn.seed import scale
from elearn.seed.scale_plan import KIND_GRADES, plan_schools
from elearn.seed.scale_rows import account_count
from elearn.service import accounts
from tests.conftest import SECRET

TINY = scale.ScaleSpec(
    code="TEST-SCALE",
    name="测试州",
    counties=3,
    schools=12,
    teachers=120,
    students=900,
    guardians=1_670,
    universities=1,
    username_prefix="tsc",
    guardian_phone_prefix="152",
    teacher_phone_prefix="182",
)


def _root(spec: scale.ScaleSpec = TINY) -> Unit:
    root = db.session.scalar(select(Unit).where(Unit.parent_id.is_(None), Unit.code == spec.code))
    assert root is not None
    return root


def _seed(spec: scale.ScaleSpec = TINY) -> str:
    report = scale.seed(spec, echo=lambda _line: None)
    db.session.commit()
    return report


def _table_counts() -> tuple[int, ...]:
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Unit, User, RoleAssignment, GuardianLink, UnitPopulation)
    )


def _scale_users(spec: scale.ScaleSpec = TINY):
    return select(User).where(User.username.startswith(spec.username_prefix))


def _people_under(unit: Unit, role: str) -> int:
    return db.session.scalar(
        select(func.count(RoleAssignment.user_id.distinct()))
        .join(Unit, Unit.id == RoleAssignment.unit_id)
        .where(Unit.path.startswith(unit.path), RoleAssignment.role == role)
    )


def test_the_counts_of_the_spec_land(ctx):
    report = _seed()
    root = _root()
    population = db.session.get(UnitPopulation, root.id)
    assert (population.schools, population.teachers, population.students, population.guardians) == (
        12,
        120,
        900,
        1_670,
    )
    by_type = dict(
        db.session.execute(
            select(Unit.type, func.count())
            .where(Unit.path.startswith(root.path))
            .group_by(Unit.type)
        ).all()
    )
    assert by_type["prefecture"] == 1 and by_type["county"] == 3 and by_type["school"] == 12
    assert db.session.scalar(select(func.count()).select_from(_scale_users().subquery())) == (
        120 + 900 + 1_670
    )
    assert "seeded" in report and "900" in report


def test_a_second_run_changes_nothing(ctx):
    _seed()
    before = _table_counts()
    report = _seed()
    assert _table_counts() == before
    assert "already seeded" in report


def test_populations_match_the_people_under_each_unit(ctx):
    _seed()
    root = _root()
    units = db.session.scalars(
        select(Unit).where(Unit.path.startswith(root.path), Unit.type.in_(["county", "school"]))
    ).all()
    for unit in [root, *units]:
        population = db.session.get(UnitPopulation, unit.id)
        assert population.teachers == _people_under(unit, Role.TEACHER), unit
        assert population.students == _people_under(unit, Role.STUDENT), unit
        assert population.guardians == _people_under(unit, Role.GUARDIAN), unit
    rural = sum(1 for unit in units if unit.type == "school" and unit.is_rural)
    assert db.session.get(UnitPopulation, root.id).rural_schools == rural


def test_every_student_has_a_guardian_and_some_share_one(ctx):
    _seed()
    students = (
        select(RoleAssignment.user_id)
        .join(Unit, Unit.id == RoleAssignment.unit_id)
        .where(Unit.path.startswith(_root().path), RoleAssignment.role == Role.STUDENT)
    )
    orphans = db.session.scalar(
        select(func.count())
        .select_from(students.subquery())
        .where(
            ~select(GuardianLink.id)
            .where(GuardianLink.student_id == students.subquery().c.user_id)
            .exists()
        )
    )
    assert orphans == 0
    per_student = db.session.execute(
        text(
            "SELECT n, count(*) FROM (SELECT student_id, count(*) AS n FROM guardian_links"
            " WHERE student_id IN (SELECT id FROM users WHERE username LIKE 'tscs%')"
            " GROUP BY student_id) t GROUP BY n"
        )
    ).all()
    counts = dict(per_student)
    assert set(counts) <= {1, 2} and counts[2] > counts[1] > 0  # most have two, some one
    assert sum(counts.values()) == 900
    siblings = db.session.scalar(
        text(
            "SELECT count(*) FROM (SELECT guardian_id FROM guardian_links"
            " WHERE guardian_id IN (SELECT id FROM users WHERE username LIKE 'tscg%')"
            " GROUP BY guardian_id HAVING count(*) > 1) t"
        )
    )
    assert siblings > 0


def test_schools_are_a_plausible_mix(ctx):
    _seed()
    root = _root()
    schools = db.session.scalars(
        select(Unit).where(Unit.path.startswith(root.path), Unit.type == "school")
    ).all()
    grades_per_kind = {"kindergarten": 3, "primary": 6, "junior": 3, "senior": 3, "vocational": 3}
    for school in schools:
        grades = db.session.scalars(select(Unit).where(Unit.parent_id == school.id)).all()
        if school.school_kind in grades_per_kind:
            assert len(grades) == grades_per_kind[school.school_kind], school
        assert all(
            db.session.scalar(select(func.count()).where(Unit.parent_id == grade.id)) >= 1
            for grade in grades
        )
    ordinary = [s for s in schools if s.school_kind != "university"]
    assert sum(1 for s in ordinary if s.is_rural) == round(0.65 * len(ordinary))
    assert {s.school_kind for s in schools} >= {"kindergarten", "primary", "junior", "university"}


def test_accounts_are_unique_and_none_can_sign_in(ctx, app):
    _seed()
    users = db.session.scalars(_scale_users()).all()
    assert len({u.username for u in users}) == len(users)
    phones = [u.phone for u in users if u.phone]
    assert len(set(phones)) == len(phones) and all(accounts.PHONE_RE.match(p) for p in phones)
    assert {u.password_hash for u in users} == {accounts.UNUSABLE_PASSWORD}
    for user in (users[0], users[-1]):
        result = accounts.authenticate(user.username, "", ip=None, throttle=login_throttle())
        assert result.user is None


def test_generation_is_deterministic(ctx):
    """The same seed and sizes give the same people; code and prefixes only tell roots apart."""
    twin = replace(
        TINY,
        code="TEST-SCALE-2",
        username_prefix="tsd",
        guardian_phone_prefix="153",
        teacher_phone_prefix="183",
    )
    _seed()
    _seed(twin)

    def people(spec: scale.ScaleSpec) -> list[tuple[str, str]]:
        rows = db.session.execute(
            _scale_users(spec).with_only_columns(User.username, User.display_name)
        ).all()
        return sorted((username[len(spec.username_prefix) :], name) for username, name in rows)

    assert people(TINY) == people(twin)
    assert len(people(TINY)) == 120 + 900 + 1_670


def test_impossible_numbers_are_refused(ctx):
    too_few = replace(TINY, guardians=100)
    with pytest.raises(scale.ScaleSeedError):
        scale.seed(too_few, echo=lambda _line: None)


def test_sqlite_is_refused_with_a_message(tmp_path):
    env = {
        **os.environ,
        "ELEARN_SECRET_KEY": SECRET,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
        "ELEARN_LOG_JSON": "0",
    }
    env.pop("REDIS_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "elearn", "seed", "--scale", "county"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "need PostgreSQL" in result.stderr


def test_an_unfinished_run_is_cleaned_up_and_redone(ctx):
    _seed()
    before = _table_counts()
    root = _root()
    # what a run that died before counting populations would have left behind
    db.session.execute(
        text(
            "DELETE FROM unit_populations WHERE unit_id IN (SELECT id FROM units WHERE path LIKE :p)"
        ),
        {"p": root.path + "%"},
    )
    db.session.execute(text("DELETE FROM users WHERE username LIKE 'tscs%' AND id % 2 = 0"))
    db.session.commit()
    report = _seed()
    assert "seeded" in report and "already" not in report
    assert _table_counts() == before
    assert db.session.get(UnitPopulation, _root().id).students == 900


def test_the_foreign_keys_are_back_as_they_were(ctx):
    query = text(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE contype = 'f' AND conrelid IN ('role_assignments'::regclass,"
        " 'guardian_links'::regclass) ORDER BY 1, 2"
    )
    before = db.session.execute(query).all()
    _seed()
    assert db.session.execute(query).all() == before
    assert len(before) == 4


@pytest.mark.parametrize("spec", [scale.PREFECTURE, scale.COUNTY], ids=["prefecture", "county"])
def test_the_real_specs_plan_their_exact_numbers(spec):
    schools = plan_schools(spec, random.Random(spec.seed))
    assert len(schools) == spec.schools
    assert sum(s.students for s in schools) == spec.students
    assert sum(s.teachers for s in schools) == spec.teachers
    assert sum(account_count(s) for s in schools) == spec.teachers + spec.students + spec.guardians
    ordinary = [s for s in schools if s.kind != "university"]
    assert 0.6 <= sum(s.is_rural for s in ordinary) / len(ordinary) <= 0.7
    classes = [size for s in schools for size in s.class_sizes]
    assert 40 <= sum(classes) / len(classes) <= 50
    assert all(len(s.class_sizes) % len(KIND_GRADES[s.kind]) == 0 for s in schools)
    assert all(s.teachers >= len(s.class_sizes) for s in schools)  # a head teacher per class
