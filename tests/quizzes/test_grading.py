"""Grading by hand (issue 14, point 14): points from 0 to the question's mark, not a 0–1 share,
beside the reference answer, on the page and through the API; a slip changes nothing."""

from __future__ import annotations

from sqlalchemy import select

from elearn.extensions import db
from quizzes import service
from quizzes.models import AttemptSlot, Quiz, QuizAttempt
from tests.conftest import csrf_token, user
from tests.quizzes.conftest import bearer


def demo_quiz():
    return db.session.scalar(select(Quiz).where(Quiz.title == "禁毒知识小测验"))


def short_answer_of(attempt) -> AttemptSlot:
    return next(s for s in attempt.slots if s.version.type == "short_answer")


def test_teacher_grades_a_short_answer_in_points_beside_the_reference(app, signed_in):
    """Grading by hand takes points, 0 to the question's mark (10 here), not a 0–1 share, and
    shows the reference answer; points out of range change nothing and say what to type."""
    with app.test_request_context():
        student = user("student1")
        attempt = service.start_attempt(actor=student, quiz=demo_quiz())
        slot = short_answer_of(attempt)
        service.save_answer(
            actor=student,
            attempt_id=attempt.id,
            question_id=slot.question_id,
            answer="<script>alert(1)</script>远离毒品",
            seq=1,
        )
        service.submit_attempt(actor=student, attempt_id=attempt.id)
        attempt_id, question_id, position = attempt.id, slot.question_id, slot.position
        reference = slot.version.grading["reference"]
        auto_score = attempt.score
        db.session.commit()
    assert signed_in("t_S0201_5").get(f"/quizzes/attempts/{attempt_id}/grade").status_code == 404
    teacher = signed_in("teacher1")
    page = teacher.get(f"/quizzes/attempts/{attempt_id}/grade").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;远离毒品" in page and reference in page
    assert "<script>alert(1)" not in page  # the pupil's words, as text
    assert "得分（0 至 10 分）" in page and 'max="10.0"' in page

    def grade(points: str):
        token = csrf_token(teacher, f"/quizzes/attempts/{attempt_id}/grade")
        return teacher.post(
            f"/quizzes/attempts/{attempt_id}/grade",
            data={"csrf_token": token, f"points_{question_id}": points},
        )

    def stored():
        db.session.expire_all()
        return db.session.scalar(
            select(AttemptSlot).where(
                AttemptSlot.attempt_id == attempt_id, AttemptSlot.question_id == question_id
            )
        )

    for wrong in ("11", "-1", "1e400", "nan", "七"):
        refused = grade(wrong)
        assert refused.status_code == 422, wrong
        message = f"第 {position} 题：请给出 0 至 10 之间的分数。"
        assert message in refused.get_data(as_text=True), wrong
        assert stored().fraction is None, wrong
    saved = grade("7.5")
    assert saved.status_code == 302
    assert stored().fraction == 0.75
    graded = db.session.get(QuizAttempt, attempt_id)
    assert graded.needs_manual_grading is False and graded.score == auto_score + 7.5
    again = teacher.get(f"/quizzes/attempts/{attempt_id}/grade").get_data(as_text=True)
    assert 'value="7.5"' in again


def test_grading_through_the_api_takes_points_within_the_mark(app, client):
    with app.test_request_context():
        student = user("student1")
        attempt = service.start_attempt(actor=student, quiz=demo_quiz())
        short = short_answer_of(attempt)
        service.save_answer(
            actor=student,
            attempt_id=attempt.id,
            question_id=short.question_id,
            answer="远离毒品",
            seq=1,
        )
        url = f"/api/v1/attempts/{attempt.id}/grades/{short.question_id}"
        other = next(s for s in attempt.slots if s.version.type != "short_answer")
        other_url = f"/api/v1/attempts/{attempt.id}/grades/{other.question_id}"
        attempt_id = attempt.id
        db.session.commit()
    headers = bearer("teacher1")
    # still in progress: nothing to grade yet
    assert client.put(url, json={"points": 1}, headers=headers).status_code == 409
    with app.test_request_context():
        service.submit_attempt(actor=user("student1"), attempt_id=attempt_id)
        db.session.commit()
    for wrong in (10.5, -0.5):  # a number outside the mark: the service says the range
        refused = client.put(url, json={"points": wrong}, headers=headers)
        assert refused.status_code == 400, wrong
        assert "0 至 10" in refused.get_json()["message"], wrong
    for wrong in ("x", True, None, "nan"):  # not a number: the schema's 422
        refused = client.put(url, json={"points": wrong}, headers=headers)
        assert refused.status_code == 422, wrong
        assert "points" in refused.get_json()["errors"], wrong
    assert client.put(url, json={}, headers=headers).status_code == 422
    assert client.put(other_url, json={"points": 1}, headers=headers).status_code == 404
    for stranger in ("t_S0201_5", "student1"):  # another school's teacher, the pupil
        assert client.put(url, json={"points": 1}, headers=bearer(stranger)).status_code == 404
    done = client.put(url, json={"points": 6.5}, headers=headers)
    assert done.status_code == 200
    body = done.get_json()
    assert body["points"] == 6.5 and body["mark"] == 10 and not body["needs_manual_grading"]
    with app.test_request_context():
        assert db.session.get(QuizAttempt, attempt_id).score == body["score"]
