"""Care files (关爱帮教档案): only the caseworkers, the school's designated admin and, after
handover, the county office open a file (a 404 for everyone else, each read in the access
log); the notes encrypted at rest and rotated; exports approved by a second admin and downloaded
once; closed files purged; the refusals write nothing."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet, InvalidToken
from openpyxl import load_workbook
from sqlalchemy import func, select, text

from elearn.extensions import db
from elearn.models import RoleAssignment, Unit
from elearn.models._types import utcnow
from parents.care import crypto, service, tasks
from parents.care.models import (
    CareAccessLog,
    CareDesignation,
    CareFile,
    CareFollowup,
)
from tests.conftest import CARE_KEY, unit_by_code, user
from tests.quizzes.conftest import bearer

NOTES = "家访：父亲长期在外务工，孩子与祖母同住，近期多次旷课"
NARRATIVE = "曾与校外涉毒人员接触"
TALK = "谈心谈话：孩子愿意回校，约定每周与班主任见面"
CONSENT = {"given_by": "王爸爸", "relation": "父亲", "method": "written"}
NOT_ENTITLED = ["pref_admin", "county_admin", "t_S0101_6", "parent1", "student1", "expert1"]


def _post(client, path, username, body=None):
    return client.post(path, json=body or {}, headers=bearer(username))


def _get(client, path, username):
    return client.get(path, headers=bearer(username))


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _open(client, **extra) -> int:
    body = {
        "subject_id": user("student1").id,
        "caseworkers": [{"user_id": user("teacher1").id, "kind": "counsellor"}],
        "risk_factors": ["long_absence", "left_behind"],
        "notes": NOTES,
        "narrative": NARRATIVE,
        "consent": CONSENT,
        **extra,
    }
    created = _post(client, "/api/v1/care-files", "school_admin", body)
    assert created.status_code == 201, created.get_json()
    return created.get_json()["id"]


def _log(file_id: int) -> list[tuple[str, str]]:
    rows = db.session.execute(
        select(CareAccessLog.action, CareAccessLog.actor_id)
        .where(CareAccessLog.file_id == file_id)
        .order_by(CareAccessLog.id)
    ).all()
    names = {user(n).id: n for n in ["school_admin", "teacher1", "county_admin"]}
    return [(action, names.get(actor, str(actor))) for action, actor in rows]


def test_only_the_entitled_open_a_file_and_each_read_is_logged(client, ctx):
    assert user("t_S0101_6") is not None  # another teacher of student1's school
    file_id = _open(client)
    # the creating school admin is now the school's designated admin
    assert (
        db.session.get(CareDesignation, unit_by_code("S0101").id).user_id == user("school_admin").id
    )

    for username in ["school_admin", "teacher1"]:
        opened = _get(client, f"/api/v1/care-files/{file_id}", username)
        assert opened.status_code == 200, (username, opened.get_json())
        body = opened.get_json()
        assert body["notes"] == NOTES and body["narrative"] == NARRATIVE
        assert body["caseworkers"][0]["kind"] == "counsellor"
    for username in NOT_ENTITLED:
        refused = _get(client, f"/api/v1/care-files/{file_id}", username)
        assert refused.status_code == 404, username
        assert NOTES not in refused.get_data(as_text=True)
        # the same answer as for a file that does not exist
        assert _get(client, "/api/v1/care-files/999999", username).status_code == 404
        assert (
            _post(client, f"/api/v1/care-files/{file_id}/followups", username, {"notes": "x"})
        ).status_code == 404
    # the page too
    assert client.get(f"/care/files/{file_id}", headers=bearer("pref_admin")).status_code == 404

    # a follow-up by the caseworker
    talk = _post(client, f"/api/v1/care-files/{file_id}/followups", "teacher1",
                 {"notes": TALK, "next_step": "下周再次家访"})  # fmt: skip
    assert talk.status_code == 201, talk.get_json()

    # handover: the county office may open it now; the prefecture admin still may not
    assert _post(client, f"/api/v1/care-files/{file_id}/handover", "teacher1").status_code == 403
    assert (
        _post(client, f"/api/v1/care-files/{file_id}/handover", "school_admin").status_code == 200
    )
    county = _get(client, f"/api/v1/care-files/{file_id}", "county_admin")
    assert county.status_code == 200 and county.get_json()["followups"][0]["notes"] == TALK
    assert _get(client, f"/api/v1/care-files/{file_id}", "pref_admin").status_code == 404

    # the access log: every read and change, none of the refusals; the designated admin's only
    assert _get(client, f"/api/v1/care-files/{file_id}/access-log", "teacher1").status_code == 403
    for username in ["pref_admin", "parent1", "county_admin"]:
        assert _get(client, f"/api/v1/care-files/{file_id}/access-log", username).status_code in {
            403,
            404,
        }
    entries = _get(client, f"/api/v1/care-files/{file_id}/access-log", "school_admin")
    assert entries.status_code == 200
    assert [(e["action"], e["actor"]) for e in entries.get_json()] == [
        ("create", "第一小学管理员"),
        ("consent", "第一小学管理员"),
        ("read", "第一小学管理员"),
        ("read", "李老师"),
        ("followup", "李老师"),
        ("handover", "第一小学管理员"),
        ("read", "示范市管理员"),
        ("log_read", "第一小学管理员"),
    ]


def test_the_notes_are_unreadable_in_the_database_without_the_key(client, ctx):
    file_id = _open(client)
    _post(client, f"/api/v1/care-files/{file_id}/followups", "teacher1", {"notes": TALK})
    db.session.expire_all()
    connection = db.session.connection()
    narrative, notes = connection.execute(
        text("SELECT narrative_enc, notes_enc FROM care_files WHERE id = :id"), {"id": file_id}
    ).one()
    (talk,) = connection.execute(
        text("SELECT notes_enc FROM care_followups WHERE file_id = :id"), {"id": file_id}
    ).one()
    # nothing in any care table holds the text (a dump of the database alone reveals nothing)
    for table in ["care_files", "care_followups", "care_access_log", "care_consents"]:
        dumped = " ".join(
            str(row) for row in connection.execute(text(f"SELECT * FROM {table}")).all()
        )
        for secret in [NOTES, NARRATIVE, TALK, "旷课"]:
            assert secret not in dumped, table
    # tokens: the key opens them, another key does not
    assert Fernet(CARE_KEY.encode()).decrypt(notes.encode()).decode() == NOTES
    for token in [narrative, notes, talk]:
        with pytest.raises(InvalidToken):
            Fernet(Fernet.generate_key()).decrypt(token.encode())


def test_rotation_re_encrypts_with_the_newest_key(client, ctx, app):
    file_id = _open(client)
    _post(client, f"/api/v1/care-files/{file_id}/followups", "teacher1",
          {"notes": TALK, "next_step": "下周家访"})  # fmt: skip
    new = Fernet.generate_key().decode()
    saved = app.config["CARE_KEYS"]
    try:
        app.config["CARE_KEYS"] = (new, CARE_KEY)  # the new key first, the old still read
        assert service.rotate() == 4  # narrative, notes, the talk's notes and next step
        db.session.flush()
        db.session.expire_all()
        app.config["CARE_KEYS"] = (new,)  # the old key gone: everything still reads
        file = db.session.get(CareFile, file_id)
        assert crypto.decrypt(file.notes_enc) == NOTES
        followup = db.session.scalar(select(CareFollowup).where(CareFollowup.file_id == file_id))
        assert crypto.decrypt(followup.notes_enc) == TALK
        with pytest.raises(InvalidToken):
            Fernet(CARE_KEY.encode()).decrypt(file.notes_enc.encode())
        opened = _get(client, f"/api/v1/care-files/{file_id}", "teacher1")
        assert opened.status_code == 200 and opened.get_json()["notes"] == NOTES
        # without any key: a clear 503, and nothing written
        app.config["CARE_KEYS"] = ()
        before = _count(CareFile), _count(CareAccessLog)
        refused = _post(client, "/api/v1/care-files", "school_admin", {
            "subject_id": user("s_S0101_5_02").id, "risk_factors": ["dropout"],
        })  # fmt: skip
        assert refused.status_code == 503
        assert "ELEARN_CARE_KEYS" in refused.get_json()["message"]
        assert (_count(CareFile), _count(CareAccessLog)) == before
    finally:
        app.config["CARE_KEYS"] = saved


def test_an_export_needs_a_second_admin_and_downloads_once(client, ctx):
    file_id = _open(client)
    school = unit_by_code("S0101")
    # only the designated admin asks
    assert _post(client, "/api/v1/care-exports", "teacher1",
                 {"school_id": school.id, "reason": "年度台账"}).status_code == 403  # fmt: skip
    asked = _post(client, "/api/v1/care-exports", "school_admin",
                  {"school_id": school.id, "reason": "年度台账"})  # fmt: skip
    assert asked.status_code == 201, asked.get_json()
    export_id = asked.get_json()["id"]
    download = f"/api/v1/care-exports/{export_id}/download"
    assert _get(client, download, "school_admin").status_code == 409  # not approved yet
    # not by the requester; not by anyone but the school's admins and the county office
    assert (
        _post(client, f"/api/v1/care-exports/{export_id}/approve", "school_admin").status_code
        == 403
    )
    for username in ["pref_admin", "teacher1", "parent1"]:
        assert (
            _post(client, f"/api/v1/care-exports/{export_id}/approve", username).status_code == 404
        )
    approved = _post(client, f"/api/v1/care-exports/{export_id}/approve", "county_admin")
    assert approved.status_code == 200 and approved.get_json()["approved_by"] == "示范市管理员"
    assert _get(client, download, "county_admin").status_code == 404  # the requester's only
    got = _get(client, download, "school_admin")
    assert got.status_code == 200, got.get_data(as_text=True)[:300]
    sheet = load_workbook(io.BytesIO(got.data)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][1] == "王小明" and NOTES in rows[1]
    again = _get(client, download, "school_admin")
    assert again.status_code == 410
    assert ("exported", "school_admin") in _log(file_id)


def test_closed_files_are_purged_after_the_period_and_their_log_stays(client, ctx, app):
    file_id = _open(client)
    closed = _post(client, f"/api/v1/care-files/{file_id}/close", "school_admin",
                   {"reason": "已返校，情况稳定"})  # fmt: skip
    assert closed.status_code == 200
    assert tasks.purge_care_files() == 0  # closed today: kept for CARE_PURGE_DAYS
    file = db.session.get(CareFile, file_id)
    file.closed_at = utcnow() - timedelta(days=app.config["CARE_PURGE_DAYS"] + 1)
    db.session.flush()
    assert tasks.purge_care_files() == 1
    db.session.expire_all()
    assert db.session.get(CareFile, file_id) is None
    assert _count(CareFollowup) == 0
    assert _log(file_id)[-1] == ("purged", "None")
    assert "parents.purge_care_files" in app.config["CELERY"]["beat_schedule"]


def test_the_access_log_is_append_only(client, ctx):
    file_id = _open(client)
    connection = db.session.connection()
    with pytest.raises(Exception, match="append-only"), connection.begin_nested():
        connection.execute(
            text("UPDATE care_access_log SET action = 'x' WHERE file_id = :id"),
            {"id": file_id},
        )
    with pytest.raises(Exception, match="append-only"), connection.begin_nested():
        connection.execute(text("DELETE FROM care_access_log WHERE file_id = :id"), {"id": file_id})


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        # a student of another school
        ({"subject_id": "other-school"}, 404, "没有这名学生"),
        # not a student at all
        ({"subject_id": "teacher1"}, 404, "没有这名学生"),
        ({"risk_factors": ["astrology"]}, 422, None),
        ({"risk_factors": []}, 422, None),
        # notes for a child under 14 (birth date unknown) without the guardian's consent
        ({"consent": None}, 409, "监护人同意"),
        ({"caseworkers": [{"user_id": "other-teacher", "kind": "teacher"}]}, 400, "不是本校教职工"),
        ({"caseworkers": [{"user_id": "teacher1", "kind": "priest"}]}, 422, None),
        ({"notes": "x" * 5001}, 422, None),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(client, ctx, change, status, message):
    other_school = unit_by_code("S0102")
    ids = {}
    ids["other-school"] = db.session.scalar(
        select(RoleAssignment.user_id)
        .join(Unit, Unit.id == RoleAssignment.unit_id)
        .where(Unit.path.startswith(other_school.path), RoleAssignment.role == "student")
        .limit(1)
    )
    ids["other-teacher"] = db.session.scalar(
        select(RoleAssignment.user_id)
        .join(Unit, Unit.id == RoleAssignment.unit_id)
        .where(Unit.path.startswith(other_school.path), RoleAssignment.role == "teacher")
        .limit(1)
    )
    ids["teacher1"] = user("teacher1").id
    body = {
        "subject_id": user("student1").id,
        "risk_factors": ["dropout"],
        "notes": NOTES,
        "consent": CONSENT,
    }
    for key, value in change.items():
        if key == "subject_id":
            value = ids.get(value) or user(value).id
        if key == "caseworkers":
            value = [{**c, "user_id": ids[c["user_id"]]} for c in value]
        if value is None:
            body.pop(key)
        else:
            body[key] = value
    before = [_count(m) for m in (CareFile, CareAccessLog, CareDesignation)]
    refused = _post(client, "/api/v1/care-files", "school_admin", body)
    assert refused.status_code == status, refused.get_json()
    if message:
        assert message in refused.get_json()["message"]
    assert [_count(m) for m in (CareFile, CareAccessLog, CareDesignation)] == before


def test_a_second_open_file_and_a_non_designated_admin_are_refused(client, ctx):
    _open(client)
    again = _post(client, "/api/v1/care-files", "school_admin",
                  {"subject_id": user("student1").id, "risk_factors": ["dropout"]})  # fmt: skip
    assert again.status_code == 409
    # a teacher of the school opens no file (the designated admin does)
    by_teacher = _post(client, "/api/v1/care-files", "teacher1",
                       {"subject_id": user("s_S0101_5_02").id, "risk_factors": ["dropout"]})  # fmt: skip
    assert by_teacher.status_code == 403
    # the county admin, not staff of the school, is told there is no such student
    by_county = _post(client, "/api/v1/care-files", "county_admin",
                      {"subject_id": user("s_S0101_5_02").id, "risk_factors": ["dropout"]})  # fmt: skip
    assert by_county.status_code == 404


def test_followup_needs_consent_under_14_and_consent_is_recorded_once(client, ctx):
    created = _post(client, "/api/v1/care-files", "school_admin",
                    {"subject_id": user("student1").id, "risk_factors": ["dropout"],
                     "caseworker_ids": [user("teacher1").id]})  # fmt: skip
    assert created.status_code == 201
    file_id = created.get_json()["id"]
    assert _get(client, f"/api/v1/care-files/{file_id}", "teacher1").get_json()["consent_needed"]
    talk = _post(client, f"/api/v1/care-files/{file_id}/followups", "teacher1", {"notes": TALK})
    assert talk.status_code == 409 and "监护人同意" in talk.get_json()["message"]
    recorded = _post(client, f"/api/v1/care-files/{file_id}/consent", "teacher1", CONSENT)
    assert recorded.status_code == 201
    assert (
        _post(client, f"/api/v1/care-files/{file_id}/consent", "teacher1", CONSENT).status_code
        == 409
    )
    talk = _post(client, f"/api/v1/care-files/{file_id}/followups", "teacher1", {"notes": TALK})
    assert talk.status_code == 201
    # 14 or older: no consent needed
    older = _post(client, "/api/v1/care-files", "school_admin",
                  {"subject_id": user("s_S0101_5_02").id, "risk_factors": ["dropout"],
                   "birth_date": "2008-01-01", "notes": NOTES})  # fmt: skip
    assert older.status_code == 201, older.get_json()


def test_counts_without_names_for_admins_over_the_unit(client, ctx):
    _open(client)
    _post(client, "/api/v1/care-files", "school_admin",
          {"subject_id": user("s_S0101_5_02").id, "risk_factors": ["dropout"]})  # fmt: skip
    counts = _get(client, "/api/v1/care-files/counts", "pref_admin")
    assert counts.status_code == 200
    body = counts.get_json()
    assert (body["total"], body["open"]) == (2, 2)
    (school,) = body["schools"]
    assert (school["unit_id"], school["open"]) == (unit_by_code("S0101").id, 2)
    assert [c["unit_id"] for c in body["counties"]] == [unit_by_code("S0101").parent_id]
    assert "王小明" not in counts.get_data(as_text=True)
    for username in ["teacher1", "parent1", "student1", "expert1"]:
        assert _get(client, "/api/v1/care-files/counts", username).status_code == 404
    # a county admin of another county sees nothing of this one
    page = client.get("/care/counts", headers=bearer("pref_admin"))
    assert page.status_code == 200 and "王小明" not in page.get_data(as_text=True)


def test_pages_for_the_designated_admin_and_the_caseworker(client, ctx):
    file_id = _open(client)
    page = client.get(f"/care/files/{file_id}", headers=bearer("teacher1"))
    assert page.status_code == 200 and NOTES in page.get_data(as_text=True)
    log_page = client.get(f"/care/files/{file_id}/log", headers=bearer("school_admin"))
    assert log_page.status_code == 200
    assert client.get(f"/care/files/{file_id}/log", headers=bearer("teacher1")).status_code == 403
    index = client.get("/care", headers=bearer("school_admin")).get_data(as_text=True)
    assert "王小明" in index
    assert client.get("/care", headers=bearer("parent1")).status_code == 404


def test_the_terms_screening_is_counted_without_names(client, ctx):
    from parents.care.models import CareScreeningEntry

    found = service.screen(user("school_admin"), user("s_S0101_5_02"), ["dropout", "left_behind"])
    again = service.screen(user("school_admin"), user("s_S0101_5_02"), ["dropout"])
    assert again.id == found.id and again.criteria == ["dropout"]  # one entry per student a term
    # a teacher screens nobody; a student of another school is not found
    from elearn.service.errors import Forbidden, NotFound

    with pytest.raises(Forbidden):
        service.screen(user("teacher1"), user("s_S0101_5_03"), ["dropout"])
    with pytest.raises(NotFound):
        service.screen(user("school_admin"), user("s_S0102_7_01"), ["dropout"])
    assert _count(CareScreeningEntry) == 1
    counts = _get(client, "/api/v1/care-files/counts", "county_admin").get_json()
    assert (counts["screened"], counts["total"]) == (1, 0)
    page = client.get("/care/screening", headers=bearer("school_admin")).get_data(as_text=True)
    assert user("s_S0101_5_02").display_name in page


def test_the_designated_admin_is_explicit_and_can_be_handed_on(client, ctx):
    from elearn.service import accounts

    file_id = _open(client)
    school = unit_by_code("S0101")
    second = accounts.create_user(
        username="school_admin2", display_name="第一小学副校长", password=None
    )
    accounts.assign_role(actor=None, user=second, role="school_admin", unit=school)
    db.session.commit()
    path = f"/api/v1/care-designations/{school.id}"
    # not a school admin of the school; not by a teacher or the prefecture admin
    assert client.put(path, json={"user_id": user("teacher1").id},
                      headers=bearer("school_admin")).status_code == 400  # fmt: skip
    for username in ["teacher1", "pref_admin", "school_admin2"]:
        refused = client.put(path, json={"user_id": second.id}, headers=bearer(username))
        assert refused.status_code == 403, username
    # the county office hands it on
    moved = client.put(path, json={"user_id": second.id}, headers=bearer("county_admin"))
    assert moved.status_code == 200 and moved.get_json()["name"] == "第一小学副校长"
    assert _get(client, f"/api/v1/care-files/{file_id}", "school_admin").status_code == 404
    assert (
        _get(client, f"/api/v1/care-files/{file_id}/access-log", "school_admin2").status_code == 200
    )
