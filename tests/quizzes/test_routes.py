"""Assessment pages: student list and attempt page, banks with import, builder, results."""

from __future__ import annotations

import io

from sqlalchemy import select

from elearn.extensions import db
from quizzes import service
from quizzes.models import Quiz, QuizAttempt
from tests.conftest import csrf_token, user


def demo_quiz():
    return db.session.scalar(select(Quiz).where(Quiz.title == "禁毒知识小测验"))


def test_student_starts_from_the_list_and_resumes(ctx, signed_in):
    client = signed_in("student1")
    page = client.get("/quizzes")
    assert page.status_code == 200 and "禁毒知识小测验" in page.get_data(as_text=True)
    token = csrf_token(client, "/quizzes")
    started = client.post(f"/quizzes/{demo_quiz().id}/start", data={"csrf_token": token})
    assert started.status_code == 302
    attempt_url = started.headers["Location"]
    html = client.get(attempt_url).get_data(as_text=True)
    assert 'id="countdown"' in html and html.count('class="card question"') == 10
    again = client.post(f"/quizzes/{demo_quiz().id}/start", data={"csrf_token": token})
    assert again.headers["Location"] == attempt_url


def test_finished_attempt_page_shows_the_review(ctx, signed_in):
    quiz = demo_quiz()
    attempt = service.start_attempt(actor=user("student1"), quiz=quiz)
    service.submit_attempt(actor=user("student1"), attempt_id=attempt.id)
    attempt_id = attempt.id
    db.session.commit()
    html = signed_in("student1").get(f"/quizzes/attempts/{attempt_id}").get_data(as_text=True)
    assert "答案解析" in html and "正确答案" in html and "6月26日" in html


def test_another_students_attempt_page_is_404(ctx, signed_in):
    attempt_id = service.start_attempt(actor=user("student1"), quiz=demo_quiz()).id
    db.session.commit()
    assert signed_in("s_S0101_5_01").get(f"/quizzes/attempts/{attempt_id}").status_code == 404


def test_bank_page_import_rejects_whole_file_with_lines(ctx, signed_in):
    client = signed_in("teacher1")
    token = csrf_token(client, "/quizzes/banks")
    created = client.post(
        "/quizzes/banks",
        data={
            "csrf_token": token,
            "name": "我的题库",
            "unit_id": user("teacher1").roles[0].unit.id,
        },
    )
    assert created.status_code == 302
    bank_url = created.headers["Location"]
    bad = client.post(
        bank_url,
        data={
            "csrf_token": token,
            "format": "gift",
            "file": (io.BytesIO("好题{T}\n\n坏题{=a ~b\n".encode()), "q.txt"),
        },
        content_type="multipart/form-data",
    )
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert "没有导入任何题目" in text and "第 3 行" in text
    good = client.post(
        bank_url,
        data={
            "csrf_token": token,
            "format": "gift",
            "file": (io.BytesIO("好题{T}\n\n第二题{=吸毒}\n".encode()), "q.txt"),
        },
        content_type="multipart/form-data",
    )
    assert good.status_code == 302
    assert "好题" in client.get(bank_url).get_data(as_text=True)


def test_quiz_builder_and_results(ctx, signed_in):
    client = signed_in("teacher1")
    page = client.get("/quizzes/new")
    assert page.status_code == 200 and "禁毒知识题库（示范）" in page.get_data(as_text=True)
    klass = next(a.unit for a in user("teacher1").roles if a.role == "teacher")
    question_ids = [str(i.question_id) for i in demo_quiz().items[:3]]
    token = csrf_token(client, "/quizzes/new")
    created = client.post(
        "/quizzes/new",
        data={
            "csrf_token": token,
            "title": "课堂小测",
            "unit_id": klass.id,
            "time_limit_minutes": 5,
            "attempts_allowed": 1,
            "pass_mark": 60,
            "review_policy": "never",
            "mode": "class",
            "one_per_page": "y",
            "publish": "y",
            "question_id": question_ids,
        },
    )
    assert created.status_code == 302, created.get_data(as_text=True)[:2000]
    quiz = db.session.scalar(select(Quiz).where(Quiz.title == "课堂小测"))
    assert quiz.mode == "class" and not quiz.shuffle_questions and len(quiz.items) == 3
    attempt = service.start_attempt(actor=user("student1"), quiz=quiz)
    assert [s.question_id for s in attempt.slots] == [int(i) for i in question_ids]  # fixed order
    service.submit_attempt(actor=user("student1"), attempt_id=attempt.id)
    db.session.commit()
    results = client.get(f"/quizzes/{quiz.id}/results")
    assert results.status_code == 200 and "王小明" in results.get_data(as_text=True)
    export = client.get(f"/quizzes/{quiz.id}/results.xlsx")
    assert export.status_code == 200 and export.data[:2] == b"PK"
    from elearn.models import AuditEvent

    exported = db.session.scalar(select(AuditEvent).filter_by(action="quiz.results_exported"))
    assert exported is not None and exported.target_id == str(quiz.id)


def test_item_analysis_by_county(ctx):
    from quizzes import analysis
    from quizzes.models import AttemptSlot

    quiz = demo_quiz()
    for n in range(1, 9):
        student = user(f"s_S0101_5_{n:02d}")
        attempt = service.start_attempt(actor=student, quiz=quiz)
        for slot in attempt.slots[:n]:  # student n gets the first n questions "right"
            slot.answer, slot.saved_at, slot.seq = None, attempt.started_at, 1
        service.submit_attempt(actor=student, attempt_id=attempt.id)
    data = analysis.results(quiz)
    assert data.attempts == 8 and sum(data.distribution) == 8
    assert all(item.facility is not None for item in data.items)
    assert all("示范市" in item.by_county for item in data.items)
    assert (
        db.session.scalar(select(QuizAttempt.id).where(QuizAttempt.quiz_id == quiz.id))
        and AttemptSlot
    )


def test_assessment_record_for_the_student_guardian_and_teacher(app, signed_in):
    with app.test_request_context():
        attempt = service.start_attempt(actor=user("student1"), quiz=demo_quiz())
        service.submit_attempt(actor=user("student1"), attempt_id=attempt.id)
        student_id = user("student1").id
        db.session.commit()
    for who in ("student1", "parent1", "teacher1", "school_admin"):
        page = signed_in(who).get(f"/quizzes/record/{student_id}")
        assert page.status_code == 200 and "禁毒知识小测验" in page.get_data(as_text=True), who
    for who in ("s_S0101_5_01", "g_S0101_5_01", "t_S0201_5"):
        assert signed_in(who).get(f"/quizzes/record/{student_id}").status_code == 404, who
    home = signed_in("parent1").get("/").get_data(as_text=True)
    assert f"/quizzes/record/{student_id}" in home
