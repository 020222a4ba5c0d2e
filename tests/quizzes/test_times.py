"""A quiz's window typed as 20:43 opens at 20:43 on the school's clock (12:43 UTC); the API takes a
time with its offset only; the results export shows the school's clock."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from openpyxl import load_workbook
from sqlalchemy import select

from elearn.extensions import db
from quizzes import service
from quizzes.models import Quiz
from tests.conftest import csrf_token, user
from tests.quizzes.conftest import bearer

OPENS = datetime(2030, 3, 1, 12, 43, tzinfo=UTC)  # 20:43 in Asia/Shanghai


def test_a_window_typed_in_the_form_is_the_schools_clock(ctx, signed_in):
    client = signed_in("teacher1")
    klass = next(a.unit for a in user("teacher1").roles if a.role == "teacher")
    demo = db.session.scalar(select(Quiz).where(Quiz.title == "禁毒知识小测验"))
    created = client.post(
        "/quizzes/new",
        data={
            "csrf_token": csrf_token(client, "/quizzes/new"),
            "title": "晚间小测",
            "unit_id": klass.id,
            "opens_at": "2030-03-01T20:43",
            "closes_at": "2030-03-02T20:43",
            "attempts_allowed": 1,
            "pass_mark": 60,
            "review_policy": "never",
            "mode": "self_paced",
            "question_id": [str(demo.items[0].question_id)],
        },
    )
    assert created.status_code == 302, created.get_data(as_text=True)[:2000]
    quiz = db.session.scalar(select(Quiz).where(Quiz.title == "晚间小测"))
    # not 12:37: pytz's Asia/Shanghai attached with replace() is local mean time, +08:06
    assert quiz.opens_at == OPENS and quiz.closes_at == datetime(2030, 3, 2, 12, 43, tzinfo=UTC)
    settings = client.get(f"/quizzes/{quiz.id}/settings").get_data(as_text=True)
    assert 'value="2030-03-01T20:43"' in settings and 'value="2030-03-02T20:43"' in settings
    results = client.get(f"/quizzes/{quiz.id}/results").get_data(as_text=True)
    assert "20:43" in results and "12:43" not in results


def test_the_api_takes_a_time_with_its_offset_only(client, quiz_factory):
    quiz = quiz_factory()
    quiz_id = quiz.id
    db.session.commit()
    teacher = bearer("teacher1")
    url = f"/api/v1/quizzes/{quiz_id}"
    naive = client.patch(url, json={"closes_at": "2030-03-01T20:43:00"}, headers=teacher)
    assert naive.status_code == 422
    assert "+08:00" in naive.get_json()["message"] and "时区" in naive.get_json()["message"]
    garbled = client.patch(url, json={"closes_at": "明晚八点"}, headers=teacher)
    assert garbled.status_code == 422 and "ISO 8601" in garbled.get_json()["message"]
    patched = client.patch(url, json={"closes_at": "2030-03-01T20:43:00+08:00"}, headers=teacher)
    assert patched.status_code == 200 and patched.get_json()["closes_at"] == OPENS.isoformat()


def test_the_results_export_shows_the_schools_clock(quiz_factory, signed_in):
    quiz = quiz_factory()
    attempt = service.start_attempt(actor=user("student1"), quiz=quiz)
    service.submit_attempt(actor=user("student1"), attempt_id=attempt.id)
    attempt.finished_at = OPENS
    quiz_id = quiz.id
    db.session.commit()
    export = signed_in("teacher1").get(f"/quizzes/{quiz_id}/results.xlsx")
    assert export.status_code == 200
    sheet = load_workbook(io.BytesIO(export.data)).worksheets[0]
    header, *rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    column = header.index("交卷时间")
    # the taker's row (the audience members who did not take part follow, without a time)
    assert [row[column] for row in rows if row[column]] == ["2030-03-01 20:43"]
