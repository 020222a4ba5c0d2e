"""The demo prefecture: two counties, four schools, about 200 students, and the demo logins."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from elearn.extensions import db
from elearn.models import GuardianLink, Role, Unit, User
from elearn.service import accounts, coverage, coverage_hooks, org

DEMO_PASSWORD = "demo1234"
PREFECTURE_CODE = "DEMO"

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "子涵欣怡梓轩浩宇雨桐思远佳琪俊杰诗涵一诺语嫣明轩嘉怡"

#: (county code, county name, [(school code, school name, kind, is_rural)])
LAYOUT = [
    (
        "C01",
        "示范市",
        [
            ("S0101", "示范市第一小学", "primary", False),
            ("S0102", "示范市第二中学", "junior", False),
        ],
    ),
    (
        "C02",
        "山区县",
        [
            ("S0201", "山区县中心小学", "primary", True),
            ("S0202", "山区县民族中学", "junior", True),
        ],
    ),
]
GRADES = {"primary": [(5, "五年级"), (6, "六年级")], "junior": [(7, "七年级"), (8, "八年级")]}
STUDENTS_PER_CLASS = 25
RELATIONS = ["父亲", "母亲", "祖父", "祖母"]


def _name(i: int) -> str:
    return (
        SURNAMES[i % len(SURNAMES)] + GIVEN[(i * 2) % len(GIVEN)] + GIVEN[(i * 2 + 1) % len(GIVEN)]
    )


def _child(parent: Unit, code: str, name: str, **attrs: object) -> Unit:
    existing = org.find_child(parent, code=code)
    if existing is not None:
        return existing
    return org.create_unit(actor=None, parent=parent, name=name, code=code, **attrs)  # type: ignore[arg-type]  # the demo's unit attributes (school_kind, is_rural, grade_level) pass through **attrs


def _user(username: str, display_name: str, password_hash: str, **attrs: object) -> User:
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        user = User(
            username=username,
            display_name=display_name,
            password_hash=password_hash,
            is_active_account=True,
            failed_login_count=0,
            must_change_password=False,
            **attrs,
        )
        db.session.add(user)
        db.session.flush()
    return user


def _class_people(
    school_code: str, level: int, klass: Unit, serial: int, password_hash: str
) -> int:
    """A class's students and their guardians; returns the serial of the last student."""
    for n in range(1, STUDENTS_PER_CLASS + 1):
        serial += 1
        student = _user(
            f"s_{school_code}_{level}_{n:02d}",
            _name(serial),
            password_hash,
            external_id=f"DEMO-{school_code}-{level}-{n:02d}",
        )
        accounts.assign_role(actor=None, user=student, role=Role.STUDENT, unit=klass)
        guardian = _user(
            f"g_{school_code}_{level}_{n:02d}",
            _name(serial)[0] + "家长",
            password_hash,
            phone=f"139{serial:08d}",
        )
        accounts.assign_role(actor=None, user=guardian, role=Role.GUARDIAN, unit=klass)
        _link(guardian, student, RELATIONS[serial % len(RELATIONS)])
    return serial


def _schools(prefecture: Unit, password_hash: str) -> tuple[list[Unit], Unit]:
    """The counties, schools, grades and classes with their people; returns the schools and
    the first class."""
    schools: list[Unit] = []
    first_class: Unit | None = None
    serial = 0
    for county_code, county_name, school_specs in LAYOUT:
        county = _child(prefecture, county_code, county_name)
        for school_code, school_name, kind, rural in school_specs:
            school = _child(county, school_code, school_name, school_kind=kind, is_rural=rural)
            schools.append(school)
            for level, grade_name in GRADES[kind]:
                grade = _child(school, f"G{level}", grade_name, grade_level=level)
                klass = _child(grade, f"{level}-1", f"{grade_name}1班")
                first_class = first_class or klass
                teacher = _user(
                    f"t_{school_code}_{level}", _name(serial + 7) + "老师", password_hash
                )
                accounts.assign_role(actor=None, user=teacher, role=Role.TEACHER, unit=klass)
                serial = _class_people(school_code, level, klass, serial, password_hash)
    assert first_class is not None
    return schools, first_class


def seed_demo() -> list[tuple[str, str]]:
    """Create (or complete) the demo prefecture; idempotent. Returns the demo logins."""
    org.ensure_term_for(date.today())
    prefecture = db.session.scalar(
        select(Unit).where(Unit.parent_id.is_(None), Unit.code == PREFECTURE_CODE)
    ) or org.create_unit(actor=None, parent=None, name="示范州", code=PREFECTURE_CODE)
    # One hash for every demo account: scrypt is slow on purpose, and these share a password.
    password_hash = accounts.hash_password(DEMO_PASSWORD)
    schools, first_class = _schools(prefecture, password_hash)
    school1 = schools[0]
    county1 = school1.parent
    assert county1 is not None
    named = [
        (
            "pref_admin",
            "州管理员",
            Role.PREFECTURE_ADMIN,
            prefecture,
            "prefecture admin (州管理员)",
        ),
        ("county_admin", "示范市管理员", Role.COUNTY_ADMIN, county1, "county admin (县管理员)"),
        ("school_admin", "第一小学管理员", Role.SCHOOL_ADMIN, school1, "school admin (学校管理员)"),
        ("teacher1", "李老师", Role.TEACHER, first_class, "teacher (教师)"),
        ("student1", "王小明", Role.STUDENT, first_class, "student (学生)"),
        ("parent1", "王爸爸", Role.GUARDIAN, first_class, "guardian of student1 (家长)"),
        ("expert1", "张专家", Role.EXPERT, prefecture, "expert lecturer (禁毒专家)"),
    ]
    logins = []
    users: dict[str, User] = {}
    for username, display, role, unit, description in named:
        extra = {"phone": "13800000001"} if username == "parent1" else {}
        if username == "student1":
            extra = {"external_id": "DEMO-STUDENT1"}
        user = _user(username, display, password_hash, **extra)
        accounts.assign_role(actor=None, user=user, role=role, unit=unit)
        users[username] = user
        logins.append((username, description))
    _link(users["parent1"], users["student1"], "父亲")
    for school in schools:
        coverage_hooks.school_connected(school)
    db.session.flush()
    coverage.recount_population(prefecture)
    return logins


def _link(guardian: User, student: User, relation: str) -> None:
    exists = db.session.scalar(
        select(GuardianLink.id).filter_by(guardian_id=guardian.id, student_id=student.id)
    )
    if exists is None:
        db.session.add(
            GuardianLink(guardian_id=guardian.id, student_id=student.id, relation=relation)
        )
