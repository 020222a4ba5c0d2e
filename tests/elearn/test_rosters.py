"""Roster import: reading files, checking rows, importing all-or-nothing, the API and the pages."""

from __future__ import annotations

import csv
import io
import re
import zipfile

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from elearn.extensions import db
from elearn.models import AuditEvent, GuardianLink, Job, Role, RoleAssignment, Unit, User
from elearn.service import accounts, org, rosters
from elearn.service.roster_files import COLUMNS, RosterFileError, read_roster
from tests.conftest import csrf_token, unit_by_code, user

HEADER = COLUMNS


@pytest.fixture(autouse=True)
def _tasks_on_this_app(app):
    """Queue tasks on this app's (eager) Celery: any ``Celery()`` made elsewhere in the run (a
    probe in another test) becomes the current app, and a shared task would be sent there."""
    app.extensions["celery"].set_current()


def xlsx(rows: list[list[object]], header: list[str] = HEADER) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def csv_bytes(rows: list[list[object]], header: list[str] = HEADER, encoding="utf-8-sig") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


# A school roster for S0101 (a primary school with grades 五年级 (G5) and 六年级 (G6)).
GOOD = [
    ["", "五年级", "1班", "学生", "R0001", "张三", "", "", ""],
    ["", "五年级", "2班", "学生", "R0002", "李四", "", "", ""],
    ["", "6", "1", "教师", "RT01", "王老师", "13700000001", "", ""],
    ["", "五年级", "2班", "教师", "RT01", "王老师", "13700000001", "", ""],
    ["", "五年级", "1班", "家长", "", "张父", "13700000002", "R0001", "父亲"],
    ["", "", "", "家长", "", "张父", "13700000002", "R0002", "其他监护人"],
    ["", "", "", "家长", "", "王小明妈妈", "137 0000 0003", "DEMO-STUDENT1", "妈妈"],
]

LIMITS = rosters.RosterLimits(max_bytes=1024 * 1024, max_rows=1000, max_unpacked_bytes=4 << 20)


def run_job(unit_code: str, data: bytes, actor_name: str = "school_admin", limits=LIMITS) -> Job:
    """The service path the API takes: start, then the task as the worker runs it.

    The task ends its own app context, which ends the session: load objects again afterwards.
    """
    from elearn.tasks import import_roster

    job = rosters.start_import(
        actor=user(actor_name),
        unit=unit_by_code(unit_code),
        filename="roster.xlsx",
        data=data,
        limits=limits,
        locale="zh_Hans_CN",
    )
    job_id = job.id
    db.session.commit()
    import_roster.apply(args=[job_id])
    db.session.expire_all()
    return db.session.get(Job, job_id)


def messages(job: Job) -> str:
    return "\n".join(f"{e['row']}: {e['message']}" for e in job.errors)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def class_of(external_id: str) -> Unit:
    student = db.session.scalar(select(User).where(User.external_id == external_id))
    return next(a.unit for a in student.roles if a.role == Role.STUDENT)


# --- reading files --------------------------------------------------------------------------------


def test_xlsx_and_csv_read_the_same(ctx):
    # Excel keeps numbers typed into a General column as numbers (a phone even as a float)
    typed = [["", "五年级", "1班", "学生", 20240101, "张三", 13700000001.0, "", ""]]
    rows = [["", "五年级", "1班", "学生", "20240101", " 张三 ", "13700000001", "", ""]]
    from_xlsx = read_roster(xlsx(typed), max_rows=10, max_unpacked_bytes=1 << 22)
    from_csv = read_roster(csv_bytes(rows), max_rows=10, max_unpacked_bytes=1 << 22)
    from_gbk = read_roster(csv_bytes(rows, encoding="gb18030"), max_rows=10, max_unpacked_bytes=1)
    for table in (from_xlsx, from_csv, from_gbk):
        (row,) = table.rows
        assert row.number == 2
        assert row.get("编号") == "20240101" and row.get("手机号") == "13700000001"
        assert row.get("姓名") == "张三"


def test_headers_with_notes_and_blank_rows_keep_excel_row_numbers(ctx):
    header = ["年级", "班级", "角色", "编号（必填）", " 姓名 *"]
    data = xlsx(
        [["五年级", "1班", "学生", "A1", "甲"], [], ["五年级", "1班", "学生", "A2", "乙"]], header
    )
    table = read_roster(data, max_rows=10, max_unpacked_bytes=1 << 22)
    assert [r.number for r in table.rows] == [2, 4]
    assert table.rows[1].get("姓名") == "乙"


def _zip(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "status", "says"),
    [
        (b"", 400, "名单文件是空的"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, 400, ".xls"),
        (b"%PDF-1.7 whatever", 400, "既不是"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", 400, "既不是"),
        (_zip({"word/document.xml": b"<w/>", "[Content_Types].xml": b"<x/>"}), 400, "ZIP"),
        (b"PK\x03\x04 this is not really a zip", 400, "损坏"),
        (
            _zip({"[Content_Types].xml": b"<x/>", "xl/workbook.xml": b"<broken"}),
            400,
            "损坏",
        ),
        (
            # a bomb: 64 MB of zeros packed into a few dozen KB
            _zip({"[Content_Types].xml": b"<x/>", "xl/workbook.xml": b"\x00" * (64 << 20)}),
            413,
            "解压",
        ),
        (csv_bytes([], header=["年级", "班级", "角色"]), 400, "编号、姓名"),
        (csv_bytes([], header=["年级", "班级", "角色", "编号", "姓名", "姓名"]), 400, "两次"),
        (csv_bytes([]), 400, "没有任何人"),
        (b"x" * (LIMITS.max_bytes + 1), 413, "MB"),
        (
            csv_bytes([["", "五年级", "1班", "学生", f"A{i}", "某"] for i in range(1001)]),
            413,
            "1000",
        ),
    ],
    ids=[
        "empty",
        "old-xls",
        "pdf",
        "png",
        "word",
        "broken-zip",
        "broken-xlsx",
        "zip-bomb",
        "missing-header",
        "duplicate-header",
        "header-only",
        "oversized",
        "too-many-rows",
    ],
)
def test_unusable_files_are_refused_before_any_job(ctx, data, status, says):
    jobs = count(Job)
    with pytest.raises(RosterFileError) as raised:
        rosters.start_import(
            actor=user("school_admin"),
            unit=unit_by_code("S0101"),
            filename="x",
            data=data,
            limits=LIMITS,
            locale="zh_Hans_CN",
        )
    assert raised.value.status == status
    assert says in raised.value.message, raised.value.message
    assert count(Job) == jobs


def test_a_workbook_with_too_many_rows_fails_its_job(app, ctx, monkeypatch):
    # the request reads a workbook only up to its first person; the job counts the rows
    monkeypatch.setitem(app.config, "ROSTER_MAX_ROWS", 10)
    users = count(User)
    rows = [["", "五年级", "1班", "学生", f"W{i}", "某", "", "", ""] for i in range(12)]
    limits = rosters.RosterLimits(max_bytes=1 << 20, max_rows=10, max_unpacked_bytes=1 << 22)
    job = run_job("S0101", xlsx(rows), limits=limits)
    assert job.status == "failed" and count(User) == users
    assert job.errors[0]["row"] is None and "超过 10 人" in job.errors[0]["message"]


def test_county_roster_needs_the_school_code_column(ctx):
    header = [c for c in HEADER if c != "学校代码"]
    with pytest.raises(RosterFileError, match="学校代码"):
        rosters.start_import(
            actor=user("county_admin"),
            unit=unit_by_code("C01"),
            filename="x.csv",
            data=csv_bytes([["五年级", "1班", "学生", "A1", "甲"]], header=header),
            limits=LIMITS,
            locale="zh_Hans_CN",
        )


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("七年级", (7, "七年级", "G7")),
        ("7", (7, "七年级", "G7")),
        ("G8", (8, "八年级", "G8")),
        ("初一", (7, "初一", "G7")),
        ("高三", (12, "高三", "G12")),
        ("十二年级", (12, "高三", "G12")),
        ("大班", (0, "大班", "K3")),
        ("火箭", None),
    ],
)
def test_grades_as_people_write_them(text, parsed):
    from elearn.service.roster_places import parse_grade

    assert parse_grade(text) == parsed


# --- importing ------------------------------------------------------------------------------------


def test_good_roster_imports_everyone(ctx):
    users_before = count(User)
    job = run_job("S0101", xlsx(GOOD))
    school = unit_by_code("S0101")
    assert job.status == "done", messages(job)
    assert job.progress == 100 and job.errors == []
    result = job.result
    assert (
        result["students_created"],
        result["teachers_created"],
        result["guardians_created"],
    ) == (
        2,
        1,
        2,
    )
    assert result["classes_created"] == 1 and result["grades_created"] == 0
    assert result["links_created"] == 3
    assert count(User) == users_before + 5
    assert job.payload is None  # the people's data is not kept with the job

    grade = org.find_child(school, code="G5")
    new_class = org.find_child(grade, code="5-2")
    assert new_class is not None and new_class.name == "五年级2班"
    assert class_of("R0001").code == "5-1" and class_of("R0002").code == "5-2"

    teacher = user("RT01")
    assert teacher.external_id == "RT01" and teacher.phone == "13700000001"
    assert sorted(a.unit.code for a in teacher.roles) == ["5-2", "6-1"]
    assert teacher.must_change_password
    # no password until the importer opens the account slip: not the phone's last digits
    assert teacher.password_hash == accounts.UNUSABLE_PASSWORD
    assert not check_password_hash(teacher.password_hash, "000001")
    assert result["slips"] == 3  # 五年级1班, 五年级2班, the teachers

    father = user("13700000002")
    assert father.phone == "13700000002" and father.external_id is None
    links = {
        link.student.external_id: link.relation
        for link in db.session.scalars(select(GuardianLink).filter_by(guardian_id=father.id))
    }
    assert links == {"R0001": "父亲", "R0002": "其他监护人"}
    # the guardian role sits at each child's class
    assert sorted(a.unit.code for a in father.roles if a.role == Role.GUARDIAN) == ["5-1", "5-2"]
    mother = user("13700000003")
    link = db.session.scalar(select(GuardianLink).filter_by(guardian_id=mother.id))
    assert link.student.username == "student1" and link.relation == "母亲"

    event = db.session.scalar(select(AuditEvent).filter_by(action="roster.imported"))
    assert event.unit_id == school.id and event.details["counts"]["students_created"] == 2
    population = db.session.execute(
        select(func.count()).select_from(RoleAssignment).filter_by(unit_id=new_class.id)
    ).scalar()
    assert population == 3  # student, teacher and the father
    from elearn.models import UnitPopulation

    assert db.session.get(UnitPopulation, new_class.id).students == 1


def test_reimporting_the_same_file_changes_nothing(ctx):
    assert run_job("S0101", xlsx(GOOD)).status == "done"
    snapshot = (count(User), count(RoleAssignment), count(GuardianLink), count(Unit))
    hashes = {u.username: u.password_hash for u in db.session.scalars(select(User))}
    again = run_job("S0101", csv_bytes(GOOD))  # the same roster, saved as CSV
    assert again.status == "done", messages(again)
    assert (count(User), count(RoleAssignment), count(GuardianLink), count(Unit)) == snapshot
    assert again.result["students_unchanged"] == 2 and again.result["guardians_unchanged"] == 2
    assert again.result["students_created"] == again.result["students_updated"] == 0
    assert again.result["classes_created"] == 0 and again.result["links_created"] == 0
    assert {u.username: u.password_hash for u in db.session.scalars(select(User))} == hashes


def test_a_changed_name_or_class_updates_the_person(ctx):
    assert run_job("S0101", xlsx(GOOD)).status == "done"
    changed = [list(row) for row in GOOD]
    changed[0] = ["", "六年级", "1班", "学生", "R0001", "张三丰", "", "", ""]  # moves class
    changed[2][5] = changed[3][5] = "王老师2"
    changed[3][2] = "1班"  # the teacher now teaches 5-1 instead of 5-2
    changed[4][8] = "母亲"
    job = run_job("S0101", xlsx(changed))
    assert job.status == "done", messages(job)
    assert job.result["students_updated"] == 1 and job.result["students_unchanged"] == 1
    assert job.result["teachers_updated"] == 1 and job.result["guardians_updated"] == 1
    student = user("R0001")
    assert student.display_name == "张三丰"
    assert [a.unit.code for a in student.roles] == ["6-1"]
    teacher = user("RT01")
    assert teacher.display_name == "王老师2"
    assert sorted(a.unit.code for a in teacher.roles) == ["5-1", "6-1"]
    father = user("13700000002")
    assert sorted(a.unit.code for a in father.roles) == ["5-2", "6-1"]  # followed the child
    link = db.session.scalar(
        select(GuardianLink).filter_by(guardian_id=father.id, student_id=student.id)
    )
    assert link.relation == "母亲"


def test_county_import_names_the_school_of_each_row_and_creates_grades(ctx):
    rows = [
        ["S0101", "五年级", "1班", "学生", "C0001", "甲", "", "", ""],
        ["S0102", "初一", "(3)班", "学生", "C0002", "乙", "", "", ""],
        ["S0102", "初一", "3", "家长", "", "乙妈妈", "13700000009", "C0002", "母亲"],
    ]
    job = run_job("C01", csv_bytes(rows), actor_name="county_admin")
    assert job.status == "done", messages(job)
    s0102 = unit_by_code("S0102")
    grade = org.find_child(s0102, code="G7")
    assert grade.name == "七年级"  # the existing grade, found by its level
    assert class_of("C0002").name == "七年级3班" and class_of("C0002").parent_id == grade.id
    assert job.result["grades_created"] == 0 and job.result["classes_created"] == 1
    high = run_job(
        "C01",
        csv_bytes([["S0102", "高一", "1班", "学生", "C0003", "丙", "", "", ""]]),
        actor_name="county_admin",
    )
    assert high.status == "done" and high.result["grades_created"] == 1
    assert class_of("C0003").parent.name == "高一"


def _errors_of(rows, unit_code="S0101", actor="school_admin") -> str:
    users = count(User)
    job = run_job(unit_code, csv_bytes(rows), actor_name=actor)
    assert job.status == "failed"
    assert count(User) == users  # nothing half-written
    assert job.payload is None
    return messages(job)


def test_every_bad_row_is_reported_and_nothing_is_imported(ctx):
    rows = [
        ["", "五年级", "1班", "学生", "B0001", "好人", "", "", ""],  # fine on its own
        ["", "五年级", "1班", "校长", "B0002", "某", "", "", ""],
        ["", "五年级", "1班", "学生", "B0003", "", "", "", ""],
        ["", "五年级", "1班", "教师", "B0004", "某", "1380000", "", ""],
        ["", "五年级", "1班", "学生", "", "无编号", "", "", ""],
        ["", "五年纪", "1班", "学生", "B0005", "某", "", "", ""],
        ["", "五年级", "1班", "家长", "", "某家长", "", "B0001", "父亲"],
        ["", "五年级", "1班", "家长", "", "某家长", "13700000011", "B0001", "邻居"],
        ["", "五年级", "1班", "家长", "", "某家长", "13700000012", "NOBODY", "父亲"],
        ["S9999", "五年级", "1班", "学生", "B0006", "某", "", "", ""],
        ["", "五年级", "1班", "学生", "1.23457E+11", "某", "", "", ""],
    ]
    report = _errors_of(rows)
    expected = {
        3: "未知角色",
        4: "姓名",
        5: "不是 11 位手机号",
        6: "编号为空",
        7: "年级",
        8: "手机号",
        9: "关系",
        10: "NOBODY",
        11: "S9999",
        12: "文本",
    }
    for row, says in expected.items():
        assert re.search(rf"^{row}: .*{re.escape(says)}", report, re.M), (row, says, report)
    assert not re.search(r"^2: ", report, re.M)


def test_contradicting_rows_name_both_rows(ctx):
    rows = [
        ["", "五年级", "1班", "学生", "D0001", "张三", "", "", ""],
        ["", "五年级", "1班", "学生", "D0001", "张三", "", "", ""],  # a stray copy
        ["", "六年级", "1班", "学生", "D0001", "张三", "", "", ""],
        ["", "五年级", "1班", "教师", "D0001", "张三", "", "", ""],
        ["", "五年级", "1班", "家长", "", "家长甲", "13700000021", "D0001", "父亲"],
        ["", "五年级", "1班", "家长", "", "家长乙", "13700000021", "D0001", "母亲"],
        ["", "五年级", "1班", "学生", "D0002", "李四", "13700000022", "", ""],
        ["", "五年级", "1班", "教师", "D0003", "王五", "13700000022", "", ""],
    ]
    report = _errors_of(rows)
    said = {int(line.split(":")[0]): line for line in report.splitlines()}
    assert set(said) == {3, 4, 5, 7, 9}, report
    for row, needles in {
        3: ["重复", "第 2 行"],
        4: ["D0001", "第 2 行"],
        5: ["D0001", "第 2 行", "学生"],
        7: ["13700000021", "家长甲", "第 6 行"],
        9: ["13700000022", "李四", "第 8 行"],
    }.items():
        assert all(needle in said[row] for needle in needles), said[row]


def test_repeated_teacher_and_parent_rows_are_reported(ctx):
    rows = [
        ["", "五年级", "1班", "学生", "J0001", "甲", "", "", ""],
        ["", "五年级", "1班", "教师", "JT01", "乙老师", "", "", ""],
        ["", "六年级", "1班", "教师", "JT01", "乙老师", "", "", ""],  # a second class: fine
        ["", "五年级", "1班", "教师", "JT01", "乙老师", "", "", ""],
        ["", "", "", "家长", "", "甲爸爸", "13700000051", "J0001", "父亲"],
        ["", "", "", "家长", "", "甲爸爸", "13700000051", "J0001", "父亲"],
    ]
    report = _errors_of(rows)
    said = {int(line.split(":")[0]): line for line in report.splitlines()}
    assert set(said) == {5, 7}, report
    assert "第 3 行" in said[5] and "第 6 行" in said[7]


def test_accounts_of_another_school_are_not_taken(ctx):
    # DEMO-S0201-5-01 is a student of 山区县中心小学 (S0201); 13900000101 a parent there
    rows = [
        ["", "五年级", "1班", "学生", "DEMO-S0201-5-01", "冒名", "", "", ""],
        ["", "五年级", "1班", "学生", "E0001", "某", "13900000101", "", ""],
        ["", "五年级", "1班", "教师", "teacher1", "某", "", "", ""],
        ["", "五年级", "1班", "家长", "", "家长", "13700000031", "DEMO-S0201-5-02", "父亲"],
    ]
    report = _errors_of(rows)
    assert re.search(r"^2: .*DEMO-S0201-5-01.*其他学校", report, re.M), report
    assert re.search(r"^3: .*13900000101.*已属于另一个账号", report, re.M), report
    assert re.search(r"^4: .*teacher1.*登录名", report, re.M), report
    assert re.search(r"^5: .*DEMO-S0201-5-02", report, re.M), report
    assert "冒名" not in {u.display_name for u in db.session.scalars(select(User))}


def test_a_parent_cannot_take_over_a_students_account(ctx):
    first = [["", "五年级", "1班", "学生", "K0001", "有手机的学生", "13700000041", "", ""]]
    assert run_job("S0101", csv_bytes(first)).status == "done"
    report = _errors_of([["", "", "", "家长", "", "家长", "13700000041", "K0001", "父亲"]])
    assert re.search(r"^2: .*13700000041.*已属于另一个账号", report, re.M), report


def test_school_code_must_be_the_schools_own(ctx):
    report = _errors_of([["S0102", "五年级", "1班", "学生", "F0001", "某", "", "", ""]])
    assert re.search(r"^2: .*S0102", report, re.M)


def test_a_parent_with_children_in_two_schools_keeps_one_account(ctx):
    # parent1 (13800000001) is a guardian at S0101; their second child goes to S0102
    rows = [
        ["S0102", "七年级", "1班", "学生", "G0001", "二宝", "", "", ""],
        ["S0102", "七年级", "1班", "家长", "", "另一个名字", "13800000001", "G0001", "父亲"],
    ]
    job = run_job("C01", csv_bytes(rows), actor_name="county_admin")
    assert job.status == "done", messages(job)
    parent = user("parent1")
    assert parent.display_name == "王爸爸"  # another school's account: linked, not renamed
    assert {a.unit.parent.parent.code for a in parent.roles} == {"S0101", "S0102"}


def test_a_finished_job_is_not_run_again(ctx):
    from elearn.tasks import import_roster

    job_id = run_job("S0101", xlsx(GOOD)).id
    users = count(User)
    import_roster.apply(args=[job_id])
    db.session.expire_all()
    assert count(User) == users
    assert (
        db.session.scalar(
            select(func.count()).select_from(AuditEvent).filter_by(action="roster.imported")
        )
        == 1
    )


def test_row_errors_are_in_english_for_an_english_uploader(ctx):
    from elearn.tasks import import_roster

    job = rosters.start_import(
        actor=user("school_admin"),
        unit=unit_by_code("S0101"),
        filename="x.csv",
        data=csv_bytes([["", "五年级", "1班", "校长", "H1", "某", "", "", ""]]),
        limits=LIMITS,
        locale="en",
    )
    job_id = job.id
    db.session.commit()
    import_roster.apply(args=[job_id])
    db.session.expire_all()
    assert "is unknown" in db.session.get(Job, job_id).errors[0]["message"]


# --- the API --------------------------------------------------------------------------------------


def _post(client, unit_id, data: bytes | None, filename="roster.xlsx", **extra):
    token = csrf_token(client, "/")
    form = {"unit": str(unit_id), **extra}
    if data is not None:
        form["file"] = (io.BytesIO(data), filename)
    return client.post(
        "/api/v1/rosters",
        data=form,
        headers={"X-CSRFToken": token},
        content_type="multipart/form-data",
    )


def test_api_template_downloads(as_user):
    client = as_user("school_admin")
    for kind in ("xlsx", "csv"):
        response = client.get(f"/api/v1/rosters/template?format={kind}")
        assert response.status_code == 200
        assert "attachment" in response.headers["Content-Disposition"]
        assert response.headers["Content-Type"].count("charset") <= 1
        table = read_roster(response.data, max_rows=100, max_unpacked_bytes=1 << 24)
        assert table.columns == COLUMNS
        assert {row.get("角色") for row in table.rows} == {"学生", "教师", "家长"}
    bad = client.get("/api/v1/rosters/template?format=pdf")
    assert bad.status_code == 422 and "xlsx" in bad.get_json()["errors"]["format"][0]


def test_api_upload_then_follow_the_job(as_user):
    client = as_user("school_admin")
    school_id = unit_by_code("S0101").id
    response = _post(client, school_id, xlsx(GOOD))
    assert response.status_code == 202, response.get_data(as_text=True)
    job_id = response.get_json()["job_id"]
    assert response.headers["Location"].endswith(f"/api/v1/jobs/{job_id}")
    job = client.get(f"/api/v1/jobs/{job_id}").get_json()
    assert job["status"] == "done" and job["progress"] == 100 and job["errors"] == []
    assert job["result"]["students_created"] == 2 and "locale" not in job["result"]
    csv_job = _post(client, school_id, csv_bytes(GOOD), filename="roster.csv").get_json()
    assert (
        client.get(f"/api/v1/jobs/{csv_job['job_id']}").get_json()["result"]["students_unchanged"]
        == 2
    )


def test_api_new_accounts_sign_in_with_the_password_of_their_slip(as_user, app):
    client = as_user("school_admin")
    job_id = _post(client, unit_by_code("S0101").id, xlsx(GOOD)).get_json()["job_id"]
    from tests.conftest import login

    assert login(app.test_client(), "13700000002", "000002").status_code == 401
    job = client.get(f"/api/v1/jobs/{job_id}").get_json()
    passwords = {}
    for slip in job["slips"]:
        opened = client.post(
            f"/api/v1/jobs/{job_id}/slips/{slip['id']}",
            headers={"X-CSRFToken": csrf_token(client, "/")},
        )
        assert opened.status_code == 200 and opened.headers["Cache-Control"] == "no-store"
        passwords.update(slip_rows(opened.data))
    parent = app.test_client()
    response = login(parent, "13700000002", passwords["13700000002"]["password"])
    assert response.status_code == 302
    assert "password" in response.headers["Location"]  # sent to change it first
    assert parent.get("/").status_code == 302  # and held there until it is changed


def test_api_row_errors_fail_the_job_with_chinese_messages(as_user):
    client = as_user("school_admin")
    users = count(User)
    rows = [["", "五年级", "1班", "学生", "X1", "某", "12345", "", ""]]
    job_id = _post(client, unit_by_code("S0101").id, csv_bytes(rows), "r.csv").get_json()["job_id"]
    job = client.get(f"/api/v1/jobs/{job_id}").get_json()
    assert job["status"] == "failed"
    assert job["errors"] == [{"row": 2, "message": job["errors"][0]["message"]}]
    assert "手机号" in job["errors"][0]["message"]
    assert job["result"]["error_count"] == 1
    assert count(User) == users


def test_api_refuses_bad_files_at_once(as_user, app):
    client = as_user("school_admin")
    school_id = unit_by_code("S0101").id
    jobs = count(Job)
    response = _post(client, school_id, b"%PDF-1.4", "roster.xlsx")
    assert response.status_code == 400 and "既不是" in response.get_json()["message"]
    response = _post(client, school_id, None)
    assert response.status_code == 422 and "file" in response.get_json()["errors"]
    app.config["ROSTER_MAX_BYTES"] = 1000
    try:
        response = _post(client, school_id, xlsx(GOOD))
    finally:
        app.config["ROSTER_MAX_BYTES"] = 10 * 1024 * 1024
    assert response.status_code == 413 and "MB" in response.get_json()["message"]
    assert count(Job) == jobs


def test_api_scopes(as_user):
    school_admin = as_user("school_admin")
    school_id, other_school_id = unit_by_code("S0101").id, unit_by_code("S0201").id
    grade_id = org.find_child(unit_by_code("S0101"), code="G5").id
    assert _post(school_admin, other_school_id, xlsx(GOOD)).status_code == 404
    teacher = as_user("teacher1")
    assert _post(teacher, school_id, xlsx(GOOD)).status_code == 403
    assert _post(school_admin, grade_id, xlsx(GOOD)).status_code == 403  # not a school
    job_id = _post(school_admin, school_id, xlsx(GOOD)).get_json()["job_id"]
    county_admin = as_user("county_admin")  # sees the school, but the job is not theirs
    assert county_admin.get(f"/api/v1/jobs/{job_id}").status_code == 404
    assert county_admin.get("/api/v1/jobs/nope").status_code == 404


def test_api_upload_needs_the_csrf_token_with_a_session_cookie(as_user):
    client = as_user("school_admin")
    response = client.post(
        "/api/v1/rosters",
        data={"unit": str(unit_by_code("S0101").id), "file": (io.BytesIO(xlsx(GOOD)), "r.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400


def test_openapi_documents_the_roster_api(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "post" in paths["/api/v1/rosters"]
    assert "get" in paths["/api/v1/rosters/template"]
    assert "get" in paths["/api/v1/jobs/{job_id}"]


# --- the pages ------------------------------------------------------------------------------------


def test_unit_page_has_the_import_button_for_admins(as_user):
    school_id = unit_by_code("S0101").id
    grade_id = org.find_child(unit_by_code("S0101"), code="G5").id
    client = as_user("school_admin")
    page = client.get(f"/admin/units/{school_id}").get_data(as_text=True)
    assert f"/admin/units/{school_id}/roster" in page and "导入名单" in page
    page = client.get(f"/admin/units/{grade_id}").get_data(as_text=True)
    assert "/roster" not in page


def test_upload_page_explains_and_imports(as_user):
    client = as_user("school_admin")
    url = f"/admin/units/{unit_by_code('S0101').id}/roster"
    page = client.get(url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for needle in ("关联学生编号", "format=xlsx", "format=csv", 'name="csrf_token"', "账号单"):
        assert needle in html, needle
    token = csrf_token(client, url)
    response = client.post(
        url,
        data={"csrf_token": token, "file": (io.BytesIO(xlsx(GOOD)), "名单.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    job_page = client.get(response.headers["Location"])
    html = job_page.get_data(as_text=True)
    assert job_page.status_code == 200 and "已导入" in html and "名单.xlsx" in html
    assert "<td>2</td>" in html  # two students created


def test_upload_page_shows_file_problems_and_row_errors(as_user):
    client = as_user("school_admin")
    url = f"/admin/units/{unit_by_code('S0101').id}/roster"
    token = csrf_token(client, url)
    refused = client.post(
        url,
        data={
            "csrf_token": token,
            "file": (io.BytesIO(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"), "a.xls"),
        },
        content_type="multipart/form-data",
    )
    assert refused.status_code == 400 and "另存为" in refused.get_data(as_text=True)
    missing = client.post(url, data={"csrf_token": token}, content_type="multipart/form-data")
    assert missing.status_code == 400 and "选择" in missing.get_data(as_text=True)
    rows = [["", "五年级", "1班", "学生", "Y1", "", "", "", ""]]
    response = client.post(
        url,
        data={"csrf_token": token, "file": (io.BytesIO(csv_bytes(rows)), "r.csv")},
        content_type="multipart/form-data",
    )
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "未导入" in html and "<td>2</td>" in html and "姓名" in html


def test_roster_pages_are_scoped(as_user):
    school_id, other_school_id = unit_by_code("S0101").id, unit_by_code("S0201").id
    school_admin = as_user("school_admin")
    assert school_admin.get(f"/admin/units/{other_school_id}/roster").status_code == 404
    job_id = _post(school_admin, school_id, xlsx(GOOD)).get_json()["job_id"]
    assert school_admin.get(f"/admin/jobs/{job_id}").status_code == 200
    assert as_user("county_admin").get(f"/admin/jobs/{job_id}").status_code == 404
    assert as_user("teacher1").get(f"/admin/units/{school_id}/roster").status_code == 403


# --- account slips: random initial passwords, shown once to the importer ------------------------


def slip_rows(data: bytes) -> dict[str, dict[str, str]]:
    """username → the row of an account slip spreadsheet (read with openpyxl)."""
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(data)).active
    rows = list(sheet.iter_rows(values_only=True))
    header = [str(h) for h in rows[0]]
    assert header[:6] == ["学校", "班级", "姓名", "角色", "用户名", "初始密码"], header
    found: dict[str, dict[str, str]] = {}
    for row in rows[1:]:
        entry = dict(zip(header, [str(v or "") for v in row], strict=True))
        assert entry["用户名"] not in found, "each person once"
        found[entry["用户名"]] = {"password": entry["初始密码"], **entry}
    return found


def page_slip(html: str) -> tuple[dict[str, str], bytes]:
    """The print page's (username → password) and the spreadsheet it carries."""
    import base64

    logins = re.findall(r'class="mono slip-login">([^<]+)<', html)
    passwords = re.findall(r'class="mono slip-password">([^<]+)<', html)
    assert len(logins) == len(set(logins)) == len(passwords), "each person once"
    data = re.search(r'href="data:[^;]+;base64,([^"]+)"', html).group(1)
    return dict(zip(logins, passwords, strict=True)), base64.b64decode(data)


def open_slips(client, job_id: str) -> dict[str, str]:
    """Open every slip of a job through its page; username → initial password."""
    html = client.get(f"/admin/jobs/{job_id}").get_data(as_text=True)
    urls = re.findall(r'action="(/admin/jobs/[0-9a-f]+/slips/\d+)"', html)
    assert urls, "the job page offers its account slips"
    found: dict[str, str] = {}
    for url in urls:
        page = client.post(url, data={"csrf_token": csrf_token(client, f"/admin/jobs/{job_id}")})
        assert page.status_code == 200, page.get_data(as_text=True)[:300]
        shown, workbook = page_slip(page.get_data(as_text=True))
        rows = slip_rows(workbook)
        assert {k: v["password"] for k, v in rows.items()} == shown  # the Excel says the same
        assert not set(shown) & set(found)
        found.update(shown)
    return found


def test_imported_accounts_get_random_passwords_on_a_slip_per_class(as_user, app):
    client = as_user("school_admin")
    job_id = _post(client, unit_by_code("S0101").id, xlsx(GOOD)).get_json()["job_id"]
    passwords = open_slips(client, job_id)
    # every new account once: two students, the teacher, two parents
    assert sorted(passwords) == ["13700000002", "13700000003", "R0001", "R0002", "RT01"]
    for login_name, password in passwords.items():
        assert len(password) == 10 and password.isalnum()
        assert login_name[-6:] not in password and login_name[-4:] not in password
    assert "13700000001"[-6:] not in passwords["RT01"]  # not the teacher's phone either
    assert len(set(passwords.values())) == len(passwords)
    # the database holds hashes only, and the slips no password at all
    from elearn.models import AccountSlip

    with app.app_context():
        for login_name, password in passwords.items():
            stored = user(login_name).password_hash
            assert stored.startswith("scrypt:") and password not in stored
            assert check_password_hash(stored, password)
        dumped = repr([(s.user_ids, s.kind) for s in db.session.scalars(select(AccountSlip))])
        assert not any(p in dumped for p in passwords.values())
    student = app.test_client()
    from tests.conftest import login

    response = login(student, "R0001", passwords["R0001"])
    assert response.headers["Location"].startswith("/account/password")


def test_the_class_slip_groups_students_with_their_parents(as_user, app):
    client = as_user("school_admin")
    job_id = _post(client, unit_by_code("S0101").id, xlsx(GOOD)).get_json()["job_id"]
    slips = client.get(f"/api/v1/jobs/{job_id}").get_json()["slips"]
    by_name = {s["unit_name"]: s for s in slips}
    assert by_name["五年级1班"]["accounts"] == 3  # R0001, 张父, 王小明妈妈 (student1's mother)
    assert by_name["五年级2班"]["accounts"] == 1
    assert by_name["示范市第一小学"]["kind"] == "teachers"
    page = client.post(
        f"/admin/jobs/{job_id}/slips/{by_name['五年级1班']['id']}",
        data={"csrf_token": csrf_token(client, "/")},
    ).get_data(as_text=True)
    assert page.count('class="slip-card"') == 3
    for needle in ("示范市第一小学", "五年级1班", "张三", "张父", "张三、李四 的家长", "/login"):
        assert needle in page, needle
    assert re.search(r"/static/css/slips(-[0-9a-f]+)?\.css", page)  # hashed when built


def test_a_slip_is_shown_once_and_to_its_importer_only(as_user, app):
    client = as_user("school_admin")
    job_id = _post(client, unit_by_code("S0101").id, xlsx(GOOD)).get_json()["job_id"]
    slip_id = client.get(f"/api/v1/jobs/{job_id}").get_json()["slips"][0]["id"]
    url = f"/admin/jobs/{job_id}/slips/{slip_id}"
    # another admin (who sees the school) gets nothing, not even that it exists
    county = as_user("county_admin")
    assert county.post(url, data={"csrf_token": csrf_token(county, "/")}).status_code == 404
    api = f"/api/v1/jobs/{job_id}/slips/{slip_id}"
    assert county.post(api, headers={"X-CSRFToken": csrf_token(county, "/")}).status_code == 404
    first = client.post(url, data={"csrf_token": csrf_token(client, "/")})
    assert first.status_code == 200
    again = client.post(url, data={"csrf_token": csrf_token(client, "/")})
    assert again.status_code == 410 and "已经显示过" in again.get_data(as_text=True)
    by_api = client.post(api, headers={"X-CSRFToken": csrf_token(client, "/")})
    assert by_api.status_code == 410 and "重置" in by_api.get_json()["message"]
    shown = client.get(f"/admin/jobs/{job_id}").get_data(as_text=True)
    assert "已显示" in shown and url not in shown


def test_a_class_reset_makes_new_passwords_and_a_new_slip(as_user, app):
    client = as_user("school_admin")
    job_id = _post(client, unit_by_code("S0101").id, xlsx(GOOD)).get_json()["job_id"]
    first = open_slips(client, job_id)
    klass = class_of("R0001").id
    page = client.get(f"/admin/units/{klass}").get_data(as_text=True)
    assert f"/admin/units/{klass}/account-slip" in page
    reset = client.post(
        f"/admin/units/{klass}/account-slip", data={"csrf_token": csrf_token(client, "/")}
    )
    assert reset.status_code == 200 and reset.headers["Cache-Control"] == "no-store"
    fresh, workbook = page_slip(reset.get_data(as_text=True))
    # the class's accounts still on an initial password: its student and the two parents
    assert sorted(fresh) == ["13700000002", "13700000003", "R0001"]
    assert set(slip_rows(workbook)) == set(fresh)
    from tests.conftest import login

    assert login(app.test_client(), "R0001", first["R0001"]).status_code == 401
    assert login(app.test_client(), "R0001", fresh["R0001"]).status_code == 302
    # a teacher of the school sees the class but may not
    teacher = as_user("teacher1")
    refused = teacher.post(
        f"/admin/units/{klass}/account-slip", data={"csrf_token": csrf_token(teacher, "/")}
    )
    assert refused.status_code == 403


def test_a_reset_withdraws_the_accounts_from_a_slip_not_opened_yet(as_user, app):
    client = as_user("school_admin")
    job_id = _post(client, unit_by_code("S0101").id, xlsx(GOOD)).get_json()["job_id"]
    klass = class_of("R0001").id
    reset = client.post(
        f"/admin/units/{klass}/account-slip", data={"csrf_token": csrf_token(client, "/")}
    )
    fresh, _workbook = page_slip(reset.get_data(as_text=True))
    assert "R0001" in fresh
    late = open_slips(client, job_id)  # the import's slips, opened afterwards
    assert "R0001" not in late and "R0002" in late
    from tests.conftest import login

    assert login(app.test_client(), "R0001", fresh["R0001"]).status_code == 302


def test_a_name_that_looks_like_a_formula_stays_text_in_the_slip(ctx):
    from openpyxl import load_workbook

    from elearn.service.slips import IssuedSlip, SlipEntry, workbook

    issued = IssuedSlip(
        school="示范市第一小学",
        unit="五年级1班",
        entries=[SlipEntry('=HYPERLINK("http://evil.example","点我")', "student", "R9", "abc")],
    )
    sheet = load_workbook(
        io.BytesIO(workbook(issued, login_url="http://x/login", role_labels={}))
    ).active
    cell = sheet.cell(row=2, column=3)
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")
