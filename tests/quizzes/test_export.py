"""The results workbook (issue 14, point 15), opened as a teacher would open it: in the reader's
language, question types in words, local times, a school column, and every member of the audience,
those who did not take part with where they are (未参加 / 进行中 / 待批改 / 已完成)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from sqlalchemy import select

from elearn.extensions import db
from elearn.models import Role, RoleAssignment, User
from quizzes import service
from quizzes.interchange import QuestionDraft
from quizzes.models import QuizAttempt
from tests.conftest import unit_by_code, user

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _quiz():
    teacher = user("teacher1")
    klass = next(a.unit for a in teacher.roles if a.role == Role.TEACHER)
    bank = service.create_bank(actor=teacher, name="导出题库", unit=unit_by_code("S0101"))
    drafts = [
        QuestionDraft(type="true_false", stem="吸毒一次不会成瘾。", grading={"correct": False}),
        QuestionDraft(type="short_answer", stem="怎样劝朋友？", grading={"reference": "讲危害"}),
    ]
    questions = [service.add_question(actor=teacher, bank=bank, draft=d) for d in drafts]
    now = datetime.now(UTC)
    return service.create_quiz(
        actor=teacher,
        unit=klass,
        title="导出测验",
        items=[{"question_id": q.id, "mark": 10} for q in questions],
        audience=[(klass, Role.STUDENT)],
        opens_at=now - timedelta(hours=1),
        closes_at=now + timedelta(days=1),
        publish=True,
    )


def _take(username, quiz, *, short_answer: str | None, submit: bool = True) -> QuizAttempt:
    student = user(username)
    attempt = service.start_attempt(actor=student, quiz=quiz)
    for seq, slot in enumerate(attempt.slots, start=1):
        answer = False if slot.version.type == "true_false" else short_answer
        service.save_answer(
            actor=student,
            attempt_id=attempt.id,
            question_id=slot.question_id,
            answer=answer,
            seq=seq,
        )
    if submit:
        service.submit_attempt(actor=student, attempt_id=attempt.id)
    return attempt


def _sheets(response) -> dict[str, list[tuple]]:
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data), read_only=True)
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets}


def test_the_export_lists_the_whole_audience_in_the_readers_language(app, signed_in):
    with app.test_request_context():
        quiz = _quiz()
        waiting = _take("student1", quiz, short_answer="远离毒品")  # 待批改
        done = _take("s_S0101_5_01", quiz, short_answer=None)  # nothing to grade: 已完成
        _take("s_S0101_5_02", quiz, short_answer=None, submit=False)  # 进行中
        klass = waiting.user.roles[0].unit
        audience = db.session.scalars(
            select(User.display_name)
            .join(RoleAssignment, RoleAssignment.user_id == User.id)
            .where(RoleAssignment.unit_id == klass.id, RoleAssignment.role == Role.STUDENT)
        ).all()
        finished = {
            "王小明": waiting.finished_at,
            done.user.display_name: done.finished_at,
        }
        names = {
            "pending": "王小明",
            "done": done.user.display_name,
            "started": user("s_S0101_5_02").display_name,
        }
        quiz_id = quiz.id
        db.session.commit()
    teacher = signed_in("teacher1")
    sheets = _sheets(teacher.get(f"/quizzes/{quiz_id}/results.xlsx"))
    assert list(sheets) == ["成绩", "试题分析", "分数分布"]
    header, *rows = sheets["成绩"]
    assert list(header) == [
        "姓名",
        "学校",
        "班级",
        "状态",
        "得分",
        "满分",
        "百分比",
        "是否及格",
        "交卷时间",
    ]
    # everyone of the audience once: the 26 pupils of the class, takers first
    assert sorted(row[0] for row in rows) == sorted(audience) and len(rows) == 26
    by_name = {row[0]: row for row in rows}
    assert {row[1] for row in rows} == {"示范市第一小学"}
    assert {row[2] for row in rows} == {"五年级1班"}
    assert by_name[names["pending"]][3:8] == ("待批改", 10, 20, 50, None)
    assert by_name[names["done"]][3:8] == ("已完成", 10, 20, 50, "否")
    started = by_name[names["started"]]
    assert started[3] == "进行中" and not any(started[4:])  # no score while in progress
    absent = [row for row in rows if row[0] not in names.values()]
    assert {row[3] for row in absent} == {"未参加"} and len(absent) == 23
    assert [row[3] for row in rows[:2]] != ["未参加", "未参加"]  # the takers come first
    # submitted at: the installation's clock (Asia/Shanghai, 8 hours ahead of UTC)
    for name, moment in finished.items():
        local = moment.replace(tzinfo=moment.tzinfo or UTC).astimezone(SHANGHAI)
        assert by_name[name][8] == local.strftime("%Y-%m-%d %H:%M")
    items = sheets["试题分析"]
    assert items[0][:5] == ("题目", "题型", "作答人数", "难度系数（得分率）", "区分度")
    assert {row[1] for row in items[1:]} == {"判断题", "简答题（教师批改）"}
    assert sheets["分数分布"][0] == ("分数段", "人数")

    # the same export for a reader who switched to English
    teacher.set_cookie("lang", "en")
    english = _sheets(teacher.get(f"/quizzes/{quiz_id}/results.xlsx"))
    assert list(english) == ["Scores", "Item analysis", "Score distribution"]
    header, *rows = english["Scores"]
    assert header[:4] == ("Student name", "School", "Class", "Status")
    assert {row[3] for row in rows} == {"Pending grading", "Finished", "In progress", "Not taken"}
    assert {row[1] for row in english["Item analysis"][1:]} == {
        "True / false",
        "Short answer (teacher-graded)",
    }
