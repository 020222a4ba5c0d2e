"""A lecture typed for 20:43 is at 20:43 on the school's clock: on its page, in the list, in its
reminder (sent at 20:13), and 12:43 UTC in the database, on PostgreSQL and on the embedded SQLite."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select, text

from elearn.extensions import db
from elearn.models import Notification
from live import service
from live.models import Lecture
from tests.conftest import post_form, unit_by_code, user

ROOT = Path(__file__).resolve().parents[2]
FLASK = str(Path(sys.executable).with_name("flask"))
TITLE = "晚间禁毒直播"
#: 20:43 in Asia/Shanghai
STORED = datetime(2030, 3, 1, 12, 43, tzinfo=UTC)


def _schedule_from_the_form(app, signed_in) -> int:
    with app.app_context():
        county = unit_by_code("C01").id
    form = {"title": TITLE, "starts_at": "2030-03-01T20:43", "unit_id": county, "role": ""}
    response = post_form(signed_in("expert1"), "/lectures/new", form, page="/lectures/new")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with app.app_context():
        return db.session.scalar(select(Lecture.id).where(Lecture.title == TITLE))


def test_a_lecture_typed_for_2043_is_stored_as_1243_utc_and_shown_at_2043(app, signed_in):
    lecture_id = _schedule_from_the_form(app, signed_in)
    with app.app_context():
        lecture = db.session.get(Lecture, lecture_id)
        assert lecture.starts_at == STORED and lecture.starts_at.tzinfo is not None
        stored = db.session.scalar(
            text(
                "SELECT to_char(starts_at AT TIME ZONE 'UTC', 'HH24:MI') FROM lectures WHERE id = :i"
            ),
            {"i": lecture_id},
        )
        assert stored == "12:43"
    student = signed_in("student1")
    room = student.get(f"/lectures/{lecture_id}").get_data(as_text=True)
    assert "20:43" in room and "04:43" not in room and "12:43" not in room
    listed = student.get("/lectures").get_data(as_text=True)
    line = listed[listed.index(TITLE) :][:600]
    assert "20:43" in line
    api = student.get(f"/api/v1/lectures/{lecture_id}").get_json()
    assert api["starts_at"] == "2030-03-01T12:43:00+00:00"


def test_a_year_the_zone_cannot_hold_is_refused_in_the_form(app, signed_in):
    with app.app_context():
        county = unit_by_code("C01").id
    form = {"title": TITLE, "starts_at": "0001-01-01T00:00", "unit_id": county, "role": ""}
    response = post_form(signed_in("expert1"), "/lectures/new", form, page="/lectures/new")
    assert response.status_code == 400 and "1900" in response.get_data(as_text=True)


def _reminders(lecture_id: int) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification).where(
                Notification.user_id == user("student1").id,
                Notification.kind == service.REMINDER_KIND,
                Notification.link == f"/lectures/{lecture_id}",
            )
        )
    )


def test_its_reminder_goes_out_at_2013_local_and_says_2043(app, signed_in):
    lecture_id = _schedule_from_the_form(app, signed_in)
    with app.test_request_context():
        service.send_due_reminders(now=datetime(2030, 3, 1, 12, 12, 59, tzinfo=UTC))  # 20:12:59
        assert not _reminders(lecture_id)
        service.send_due_reminders(now=datetime(2030, 3, 1, 12, 13, tzinfo=UTC))  # 20:13
        [notice] = _reminders(lecture_id)
        assert "20:43" in notice.body
        db.session.commit()
    inbox = signed_in("student1").get("/notifications").get_data(as_text=True)
    assert "20:43" in inbox


def test_the_api_takes_a_time_with_its_offset_and_refuses_one_without(app, signed_in):
    from tests.conftest import csrf_token

    with app.app_context():
        school = unit_by_code("S0101").id
    expert = signed_in("expert1")
    headers = {"X-CSRFToken": csrf_token(expert, "/")}

    def create(starts_at: str):
        body = {"title": TITLE, "starts_at": starts_at, "audience": [{"unit_id": school}]}
        return expert.post("/api/v1/lectures", json=body, headers=headers)

    naive = create("2030-03-01T20:43:00")
    assert naive.status_code == 422
    assert "+08:00" in naive.get_json()["message"] and "时区" in naive.get_json()["message"]
    assert create("9999-12-31T23:59:00+00:00").status_code == 422  # 10000-01-01 in Shanghai
    for written in ("2030-03-01T20:43:00+08:00", "2030-03-01T12:43:00Z"):
        created = create(written)
        assert created.status_code == 201, created.get_json()
        with app.app_context():
            assert db.session.get(Lecture, created.get_json()["id"]).starts_at == STORED


EMBEDDED = """
import json
from datetime import UTC, datetime

from sqlalchemy import select, text

import app as module
from elearn.extensions import db
from elearn.models import Notification, Unit, User
from elearn.service import accounts
from live import service
from live.models import Lecture
from quizzes.models import Quiz

app = module.app
app.config["WTF_CSRF_ENABLED"] = False
out = {}


def signed_in(username):
    with app.app_context():
        person = db.session.scalar(select(User).where(User.username == username))
        session_token = accounts.start_session(user=person, ip="127.0.0.1", user_agent="test")
        api_token, _ = accounts.issue_api_token(user=person, hours=1)
        db.session.commit()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = session_token
        session["_fresh"] = True
    return client, {"Authorization": "Bearer " + api_token}


expert, _ = signed_in("expert1")
student, _ = signed_in("student1")
teacher, teacher_api = signed_in("teacher1")
with app.app_context():
    county = db.session.scalar(select(Unit.id).where(Unit.code == "C01"))
form = {"title": "晚间禁毒直播", "starts_at": "2030-03-01T20:43", "unit_id": county, "role": ""}
out["form"] = expert.post("/lectures/new", data=form).status_code
with app.app_context():
    lecture = db.session.scalar(select(Lecture).where(Lecture.title == "晚间禁毒直播"))
    lecture_id = lecture.id
    out["starts_at"] = lecture.starts_at.isoformat()
    out["raw"] = db.session.scalar(
        text("SELECT starts_at FROM lectures WHERE id = :i"), {"i": lecture_id}
    )
room = student.get(f"/lectures/{lecture_id}").get_data(as_text=True)
out["room"] = "20:43" in room and "04:43" not in room
listed = student.get("/lectures").get_data(as_text=True)
out["list"] = "20:43" in listed[listed.index("晚间禁毒直播"):][:600]
out["api"] = student.get(f"/api/v1/lectures/{lecture_id}").get_json()["starts_at"]
with app.test_request_context():
    service.send_due_reminders(now=datetime(2030, 3, 1, 12, 12, 59, tzinfo=UTC))
    db.session.commit()
    link = f"/lectures/{lecture_id}"
    early = db.session.scalar(select(Notification.id).where(Notification.link == link))
    service.send_due_reminders(now=datetime(2030, 3, 1, 12, 13, tzinfo=UTC))
    db.session.commit()
    body = db.session.scalar(select(Notification.body).where(Notification.link == link))
    out["reminders"] = [early is None, body is not None and "20:43" in body]
    # the demo's quiz by teacher1, open since an hour before the seed: patch its close only
    author = db.session.scalar(select(User.id).where(User.username == "teacher1"))
    quiz_id = db.session.scalar(
        select(Quiz.id).where(Quiz.created_by_id == author, Quiz.opens_at.is_not(None))
    )
patched = teacher.patch(
    f"/api/v1/quizzes/{quiz_id}", json={"closes_at": "2030-03-01T20:43:00+08:00"},
    headers=teacher_api,
)
out["patch"] = [patched.status_code, patched.get_json().get("closes_at")]
print(json.dumps(out))
"""


def test_on_the_embedded_sqlite_too(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ELEARN_", "DATABASE_URL", "REDIS_URL", "S3_"))
    }
    # no video clips for the demo courses: this test is about times, and ffmpeg takes a minute
    env.update(
        ELEARN_DEMO="1",
        ELEARN_FFMPEG=str(tmp_path / "no-ffmpeg"),
        PYTHONPATH=str(ROOT),
        FLASK_APP=str(ROOT / "app.py"),
    )

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done

    run(FLASK, "db", "upgrade", "heads")
    run(FLASK, "elearn", "seed", "--scale", "demo")
    out = json.loads(run(sys.executable, "-c", EMBEDDED).stdout.strip().splitlines()[-1])
    assert out["form"] == 302
    assert out["starts_at"] == "2030-03-01T12:43:00+00:00"
    assert out["raw"].startswith("2030-03-01 12:43:00")  # UTC in SQLite's text
    assert out["room"] and out["list"]
    assert out["api"] == "2030-03-01T12:43:00+00:00"
    assert out["reminders"] == [True, True]  # not at 20:12:59, at 20:13, saying 20:43
    # one end of a quiz's window patched: compared with the stored other end, not a 500
    assert out["patch"] == [200, "2030-03-01T12:43:00+00:00"]
