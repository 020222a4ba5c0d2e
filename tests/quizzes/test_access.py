"""Who may touch a quiz (issue 14, point 10): its author and the admins of its unit edit it; its
results and grading reach the teachers of the classes in its audience, for their classes; a
campaign's results for a class reach that class's teachers and its school's admins.

The demo school 示范市第一小学 has class 五年级1班 (teacher1 and t_S0101_5 teach it; student1 sits
in it) and class 六年级1班 (t_S0101_6; s_S0101_6_01 sits in it).
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from werkzeug.test import Client

from elearn.extensions import db
from elearn.models import Role, Unit
from quizzes import service
from quizzes.interchange import QuestionDraft
from tests.conftest import unit_by_code, user
from tests.quizzes.conftest import bearer

SIX_ONE = "s_S0101_6_01"


def workbook_rows(response) -> list[tuple]:
    """The rows of an exported workbook's first sheet, below its header."""
    book = load_workbook(io.BytesIO(response.data), read_only=True)
    return list(book.worksheets[0].iter_rows(min_row=2, values_only=True))


def _class(code: str) -> Unit:
    school = unit_by_code("S0101")
    grade = db.session.scalar(select(Unit).where(Unit.parent_id == school.id, Unit.code == code))
    return db.session.scalar(select(Unit).where(Unit.parent_id == grade.id))


def quiz_by(author: str, unit: Unit, audience: Unit, title: str):
    """A published quiz of a true/false and a short answer, written by ``author`` at ``unit``
    for the students under ``audience``."""
    writer = user(author)
    bank = service.create_bank(actor=writer, name=f"{title}题库", unit=unit_by_code("S0101"))
    drafts = [
        QuestionDraft(type="true_false", stem="吸毒一次不会成瘾。", grading={"correct": False}),
        QuestionDraft(type="short_answer", stem="怎样劝朋友？", grading={"reference": "讲危害"}),
    ]
    questions = [service.add_question(actor=writer, bank=bank, draft=d) for d in drafts]
    now = datetime.now(UTC)
    return service.create_quiz(
        actor=writer,
        unit=unit,
        title=title,
        items=[{"question_id": q.id, "mark": 10} for q in questions],
        audience=[(audience, Role.STUDENT)],
        opens_at=now - timedelta(hours=1),
        closes_at=now + timedelta(days=1),
        publish=True,
    )


def take(username: str, quiz) -> int:
    """``username`` answers both questions (the short answer waits for a teacher); the attempt id."""
    student = user(username)
    attempt = service.start_attempt(actor=student, quiz=quiz)
    for seq, slot in enumerate(attempt.slots, start=1):
        answer = False if slot.version.type == "true_false" else "告诉老师"
        service.save_answer(
            actor=student,
            attempt_id=attempt.id,
            question_id=slot.question_id,
            answer=answer,
            seq=seq,
        )
    service.submit_attempt(actor=student, attempt_id=attempt.id)
    return attempt.id


def statuses(client, quiz_id: int, attempt_id: int) -> dict[str, int]:
    return {
        "edit": client.get(f"/quizzes/{quiz_id}/settings").status_code,
        "results": client.get(f"/quizzes/{quiz_id}/results").status_code,
        "export": client.get(f"/quizzes/{quiz_id}/results.xlsx").status_code,
        "grade": client.get(f"/quizzes/attempts/{attempt_id}/grade").status_code,
    }


ALL = {"edit": 200, "results": 200, "export": 200, "grade": 200}
RESULTS_ONLY = {"edit": 404, "results": 200, "export": 200, "grade": 200}
NOTHING = {"edit": 404, "results": 404, "export": 404, "grade": 404}


@pytest.fixture
def class_quiz(app):
    """A quiz t_S0101_5 wrote for 五年级1班 (the class teacher1 teaches too), taken by student1."""
    with app.test_request_context():
        klass = _class("G5")
        quiz = quiz_by("t_S0101_5", klass, klass, "五年级1班小测")
        attempt_id = take("student1", quiz)
        db.session.commit()
        return quiz.id, attempt_id


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("t_S0101_5", ALL),  # its author
        ("school_admin", ALL),  # an admin of its unit (the class lies in the school)
        ("county_admin", ALL),
        ("teacher1", RESULTS_ONLY),  # a teacher of the class in its audience
        ("t_S0101_6", NOTHING),  # another teacher of the same school
        ("expert1", NOTHING),  # staff elsewhere
        ("t_S0201_5", NOTHING),  # a teacher of another school
    ],
)
def test_who_edits_sees_grades_and_exports_a_quiz(signed_in, class_quiz, who, expected):
    quiz_id, attempt_id = class_quiz
    assert statuses(signed_in(who), quiz_id, attempt_id) == expected


def test_a_teacher_of_the_audience_changes_nothing_of_a_quiz_they_did_not_write(
    signed_in, class_quiz, client
):
    quiz_id, _attempt_id = class_quiz
    teacher = signed_in("teacher1")
    results = teacher.get(f"/quizzes/{quiz_id}/results").get_data(as_text=True)
    assert "王小明" in results  # the class's results and their grading link …
    assert f"/quizzes/{quiz_id}/settings" not in results  # … but no editing
    assert f"/quizzes/{quiz_id}/delete" not in results
    renamed = client.patch(
        f"/api/v1/quizzes/{quiz_id}", json={"title": "改名"}, headers=bearer("teacher1")
    )
    assert renamed.status_code == 404
    assert (
        client.delete(f"/api/v1/quizzes/{quiz_id}", headers=bearer("t_S0101_6")).status_code == 404
    )
    mine = teacher.get("/quizzes").get_data(as_text=True)
    assert "五年级1班小测" in mine and "我所在班级和单位的成绩" in mine
    assert "五年级1班小测" not in signed_in("t_S0101_6").get("/quizzes").get_data(as_text=True)
    author = client.patch(
        f"/api/v1/quizzes/{quiz_id}", json={"title": "改名"}, headers=bearer("t_S0101_5")
    )
    assert author.status_code == 200


def test_a_school_quiz_shows_each_class_teacher_their_class_only(app, signed_in):
    with app.test_request_context():
        school = unit_by_code("S0101")
        quiz = quiz_by("school_admin", school, school, "全校禁毒测验")
        five, six = take("student1", quiz), take(SIX_ONE, quiz)
        six_name = user(SIX_ONE).display_name
        db.session.commit()
        quiz_id = quiz.id
    admin = signed_in("school_admin").get(f"/quizzes/{quiz_id}/results").get_data(as_text=True)
    assert "王小明" in admin and six_name in admin
    for teacher, own, other, hidden, size in (
        ("teacher1", five, six, six_name, 26),
        ("t_S0101_6", six, five, "王小明", 25),
    ):
        client = signed_in(teacher)
        assert statuses(client, quiz_id, own) == RESULTS_ONLY, teacher
        page = client.get(f"/quizzes/{quiz_id}/results").get_data(as_text=True)
        assert hidden not in page, teacher
        rows = workbook_rows(client.get(f"/quizzes/{quiz_id}/results.xlsx"))
        # their class, every pupil of it (who took it and who did not), nobody else
        assert hidden not in {row[0] for row in rows} and len(rows) == size, teacher
        assert client.get(f"/quizzes/attempts/{other}/grade").status_code == 404, teacher


def test_a_campaigns_results_reach_the_class_teachers_and_the_school_admins(app, signed_in, client):
    from tests.quizzes.test_campaigns import send

    with app.test_request_context():
        campaign = send(grade_levels=[5])
        take_campaign = service.start_attempt(actor=user("student1"), quiz=campaign.quiz)
        service.submit_attempt(actor=user("student1"), attempt_id=take_campaign.id)
        db.session.commit()
        campaign_id, quiz_id, attempt_id = campaign.id, campaign.quiz_id, take_campaign.id
        klass, school = _class("G5").id, unit_by_code("S0101").id
    for who, unit in (("teacher1", klass), ("school_admin", school)):
        viewer = signed_in(who)
        page = viewer.get(f"/quizzes/campaigns/{campaign_id}?unit={unit}").get_data(as_text=True)
        link = f"/quizzes/{quiz_id}/results?unit={unit}"
        assert link in page, who
        results = viewer.get(link)
        assert results.status_code == 200 and "王小明" in results.get_data(as_text=True), who
        assert viewer.get(f"/quizzes/{quiz_id}/results").status_code == 200, who
        assert viewer.get(f"/quizzes/{quiz_id}/results.xlsx?unit={unit}").status_code == 200
        assert viewer.get(f"/quizzes/attempts/{attempt_id}/grade").status_code == 200, who
        assert viewer.get(f"/quizzes/{quiz_id}/settings").status_code == 404, who
        followed = client.get(f"/api/v1/campaigns/{campaign_id}/participation", headers=bearer(who))
        assert followed.status_code == 200, who
        assert followed.get_json()["unit"]["unit_id"] == unit
    # a teacher of the school whose class is not in it, and another county's school admin
    for who in ("t_S0101_6", "t_S0201_5"):
        assert signed_in(who).get(f"/quizzes/{quiz_id}/results").status_code == 404, who
    # the class teacher asks for the school: only the class is theirs
    teacher = signed_in("teacher1")
    assert teacher.get(f"/quizzes/{quiz_id}/results?unit={school}").status_code == 200
    other = unit_by_code("S0102")
    with app.test_request_context():
        other_id = other.id
    assert teacher.get(f"/quizzes/{quiz_id}/results?unit={other_id}").status_code == 404
    for unit in (2**31, 2**63, -1):  # no such unit: past the database's integers too
        assert teacher.get(f"/quizzes/{quiz_id}/results?unit={unit}").status_code == 404


def test_the_exam_lanes_serve_students_own_attempts_only(app, quiz_factory, committed):
    """The start and autosave lanes (in front of Flask) take and write attempts: nothing of the
    new rule concerns them, and those who may now see and grade the class's results (its
    teachers, the school's admin) start nothing and write into no student's attempt there."""
    from quizzes.lanes import SaveLane, StartLane
    from tests.quizzes.conftest import route_only
    from tests.quizzes.test_start_lane import _forget_tokens, _tokens

    quiz = quiz_factory(attempts_allowed=1)
    committed.append(quiz.id)
    quiz_id = quiz.id
    staff = ["teacher1", "t_S0101_5", "school_admin"]
    tokens = _tokens(["student1", *staff])
    db.session.remove()
    start_lane = Client(StartLane(app, route_only(app)))
    try:
        started = start_lane.post(
            f"/api/v1/quizzes/{quiz_id}/attempts",
            headers={"Authorization": f"Bearer {tokens['student1']}"},
        )
        assert started.status_code == 201
        attempt_id = started.get_json()["attempt_id"]
        question_id = started.get_json()["questions"][0]["id"]
        save_lane = Client(SaveLane(app, route_only(app)))
        for who in staff:
            refused = start_lane.post(
                f"/api/v1/quizzes/{quiz_id}/attempts",
                headers={"Authorization": f"Bearer {tokens[who]}"},
            )
            assert refused.status_code == 404, who
            written = save_lane.put(
                f"/api/v1/attempts/{attempt_id}/answers/{question_id}",
                json={"answer": None, "seq": 5},
                headers={"Authorization": f"Bearer {tokens[who]}"},
            )
            assert written.status_code == 404, who
        own = save_lane.put(
            f"/api/v1/attempts/{attempt_id}/answers/{question_id}",
            json={"answer": None, "seq": 1},
            headers={"Authorization": f"Bearer {tokens['student1']}"},
        )
        assert own.status_code == 200 and own.get_json()["seq"] == 1
    finally:
        _forget_tokens(["student1", *staff])
