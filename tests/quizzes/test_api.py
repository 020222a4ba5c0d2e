"""The assessment API: banks, imports (whole file or nothing), export, quizzes, CSRF, OpenAPI."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from elearn.extensions import db
from quizzes.models import Question, QuestionBank, Quiz
from tests.conftest import unit_by_code, user
from tests.quizzes.conftest import bearer
from tests.quizzes.interchange_helpers import FIXTURES

XML = FIXTURES / "moodle" / "xml" / "tests" / "fixtures"


def new_bank(client, headers, unit_code="S0101", name="七年级题库"):
    response = client.post(
        "/api/v1/question-banks",
        json={"name": name, "unit_id": unit_by_code(unit_code).id},
        headers=headers,
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def upload(client, headers, bank_id, content: bytes, fmt: str, name="questions.txt"):
    return client.post(
        f"/api/v1/question-banks/{bank_id}/imports",
        data={"format": fmt, "file": (io.BytesIO(content), name)},
        headers=headers,
        content_type="multipart/form-data",
    )


def count(bank_id):
    return db.session.scalar(select(func.count(Question.id)).where(Question.bank_id == bank_id))


def test_banks_list_is_shared_downward(client):
    teacher = bearer("teacher1")
    listed = client.get("/api/v1/question-banks", headers=teacher).get_json()
    assert any(b["name"] == "禁毒知识题库（示范）" and not b["can_edit"] for b in listed)
    assert client.get("/api/v1/question-banks", headers=bearer("student1")).get_json() == []


def test_create_bank_only_where_one_may_author(client):
    headers = bearer("teacher1")
    new_bank(client, headers)
    other_school = client.post(
        "/api/v1/question-banks",
        json={"name": "x", "unit_id": unit_by_code("S0201").id},
        headers=headers,
    )
    assert other_school.status_code == 404
    empty = client.post(
        "/api/v1/question-banks",
        json={"name": " ", "unit_id": unit_by_code("S0101").id},
        headers=headers,
    )
    assert empty.status_code == 422 and empty.get_json()["errors"]["name"]


def test_gift_import_and_export_round_trip(client):
    from tests.quizzes.test_gift import CHINESE

    headers = bearer("teacher1")
    bank_id = new_bank(client, headers)
    response = upload(client, headers, bank_id, CHINESE.encode(), "gift")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["imported"] == 6 and count(bank_id) == 6
    exported = client.get(f"/api/v1/question-banks/{bank_id}/export?format=gift", headers=headers)
    assert exported.status_code == 200
    text = exported.get_data(as_text=True)
    assert "全角符号｛题干｝＝～＃：" in text and "$CATEGORY: $course$/禁毒知识/新型毒品" in text
    again = new_bank(client, headers, name="副本")
    assert upload(client, headers, again, exported.data, "gift").get_json()["imported"] == 6
    from elearn.models import AuditEvent

    audited = db.session.scalar(select(AuditEvent).filter_by(action="quiz.questions_exported"))
    assert audited is not None and audited.details["count"] == 6


def test_rejected_files_import_nothing_and_say_where(client):
    headers = bearer("teacher1")
    bank_id = new_bank(client, headers)
    source = "Good?{T}\n\nAlso good{=yes}\n\n::Broken::Which? {=a ~b\n"
    response = upload(client, headers, bank_id, source.encode(), "gift")
    assert response.status_code == 422
    body = response.get_json()
    assert body["imported"] == 0 and body["errors"][0]["line"] == 5 and body["message"]
    assert count(bank_id) == 0
    for name in ("error_invalid_grades.xml", "broken_cloze_questions.xml"):
        response = upload(client, headers, bank_id, (XML / name).read_bytes(), "moodlexml", name)
        assert response.status_code == 422 and response.get_json()["errors"]
        assert count(bank_id) == 0


def test_moodle_xml_and_xlsx_imports(client):
    from tests.quizzes.test_xlsx import GOOD, workbook

    headers = bearer("teacher1")
    bank_id = new_bank(client, headers)
    ok = upload(
        client,
        headers,
        bank_id,
        (XML / "nested_categories_with_questions.xml").read_bytes(),
        "moodlexml",
        "q.xml",
    )
    assert ok.status_code == 200 and ok.get_json()["imported"] == count(bank_id) > 0
    before = count(bank_id)
    sheet = upload(client, headers, bank_id, workbook(GOOD), "xlsx", "q.xlsx")
    assert sheet.get_json()["imported"] == len(GOOD) and count(bank_id) == before + len(GOOD)
    exported = client.get(
        f"/api/v1/question-banks/{bank_id}/export?format=moodlexml", headers=headers
    )
    assert exported.status_code == 200 and b"<quiz>" in exported.data


def test_only_authors_import_into_a_bank(client):
    demo_bank = db.session.scalar(
        select(QuestionBank.id).where(QuestionBank.name == "禁毒知识题库（示范）")
    )
    response = upload(client, bearer("teacher1"), demo_bank, b"Q{T}", "gift")
    assert response.status_code == 404  # shared with the teacher to use, not to change


def test_create_quiz_with_stratified_random_draws(client):
    from quizzes import service
    from quizzes.models import QuestionCategory

    headers = bearer("teacher1")
    bank_id = new_bank(client, headers)
    lines = []
    for topic in ("毒品识别", "拒毒技能"):
        for n in range(6):
            lines.append(f"::{topic}{n}::{topic}第{n}题{{T}}")
    upload(client, headers, bank_id, "\n\n".join(["$CATEGORY: 抽题"] + lines).encode(), "gift")
    questions = db.session.scalars(select(Question).where(Question.bank_id == bank_id)).all()
    for q in questions:
        q.topic = q.current_version.name[:4]
        q.difficulty = 1 + int(q.current_version.name[-1]) % 2
    db.session.flush()
    category_id = db.session.scalar(
        select(QuestionCategory.id).where(QuestionCategory.bank_id == bank_id)
    )
    klass_id = next(a.unit for a in user("teacher1").roles if a.role == "teacher").id
    db.session.commit()
    response = client.post(
        "/api/v1/quizzes",
        json={
            "title": "随机抽题测验",
            "unit_id": klass_id,
            "items": [{"category_id": category_id, "count": 4, "mark": 5}],
            "audience": [{"unit_id": klass_id, "role": "student"}],
            "time_limit": 600,
            "publish": True,
        },
        headers=headers,
    )
    assert response.status_code == 201, response.get_json()
    quiz = db.session.get(Quiz, response.get_json()["id"])
    attempt = service.start_attempt(actor=user("student1"), quiz=quiz)
    drawn = [db.session.get(Question, s.question_id) for s in attempt.slots]
    strata = sorted((q.topic, q.difficulty) for q in drawn)
    assert len(drawn) == 4 and len(set(strata)) == 4  # one from each topic × difficulty
    too_many = client.post(
        "/api/v1/quizzes",
        json={
            "title": "x",
            "unit_id": klass_id,
            "items": [{"category_id": category_id, "count": 99}],
            "audience": [{"unit_id": klass_id, "role": "student"}],
        },
        headers=headers,
    )
    assert too_many.status_code == 400 and "12" in too_many.get_json()["message"]


def test_quizzes_open_to_the_caller(client):
    listed = client.get("/api/v1/quizzes", headers=bearer("student1")).get_json()
    demo = next(q for q in listed if q["title"] == "禁毒知识小测验")
    assert demo["time_limit"] == 600 and demo["attempts_left"] == 3
    assert set(demo) == {"id", "title", "opens_at", "closes_at", "time_limit", "attempts_left"}
    other = client.get("/api/v1/quizzes", headers=bearer("s_S0201_5_01")).get_json()
    assert all(q["title"] != "禁毒知识小测验" for q in other)


def test_demo_quiz_starts_with_ten_questions_and_no_answers(client):
    headers = bearer("student1")
    quiz_id = next(
        q["id"]
        for q in client.get("/api/v1/quizzes", headers=headers).get_json()
        if q["title"] == "禁毒知识小测验"
    )
    response = client.post(f"/api/v1/quizzes/{quiz_id}/attempts", headers=headers)
    assert response.status_code == 201
    body = response.get_json()
    assert len(body["questions"]) == 10 and body["seconds_left"] <= 600 and body["deadline"]
    assert {"id", "type", "stem"} <= set(body["questions"][0])
    assert "吸" not in response.get_data(as_text=True).replace("吸毒", "")  # the blank's answer


def test_cookie_sessions_need_the_csrf_token(app, signed_in):
    client = signed_in("teacher1")
    response = client.post(
        "/api/v1/question-banks", json={"name": "x", "unit_id": unit_by_code("S0101").id}
    )
    assert response.status_code == 400
    from tests.conftest import csrf_token

    token = csrf_token(client, "/")
    ok = client.post(
        "/api/v1/question-banks",
        json={"name": "x", "unit_id": unit_by_code("S0101").id},
        headers={"X-CSRFToken": token},
    )
    assert ok.status_code == 201


def test_openapi_documents_the_assessment_api(client):
    document = client.get("/api/v1/openapi.json").get_json()
    for path in (
        "/api/v1/question-banks",
        "/api/v1/question-banks/{bank_id}/imports",
        "/api/v1/question-banks/{bank_id}/export",
        "/api/v1/quizzes",
        "/api/v1/quizzes/{quiz_id}/attempts",
        "/api/v1/quizzes/{quiz_id}",
        "/api/v1/attempts/{attempt_id}/answers/{question_id}",
        "/api/v1/attempts/{attempt_id}/submit",
    ):
        assert path in document["paths"], path
    assert "ImportResult" in document["components"]["schemas"]
    assert {"get", "patch", "delete"} <= set(document["paths"]["/api/v1/quizzes/{quiz_id}"])


def test_an_import_without_its_file_names_the_field(client):
    headers = bearer("teacher1")
    bank_id = new_bank(client, headers)
    response = client.post(
        f"/api/v1/question-banks/{bank_id}/imports", data={"format": "gift"}, headers=headers
    )
    assert response.status_code == 422 and response.get_json()["errors"] == {
        "file": ["此项为必填项。"]
    }
