"""A quiz after it is created: its settings change, it is published, withdrawn, closed or deleted,
within rules that keep the results already given true."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from courses import service as courses
from elearn.extensions import db
from elearn.models import AuditEvent
from elearn.service.errors import ServiceError
from quizzes import service
from quizzes.models import Quiz, QuizItem
from tests.conftest import csrf_token, unit_by_code, user
from tests.quizzes.conftest import bearer


def audited(action: str, quiz_id: int) -> list[AuditEvent]:
    return db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == action, AuditEvent.target_id == str(quiz_id))
    ).all()


def test_settings_change_and_are_audited(quiz_factory):
    quiz = quiz_factory(pass_mark=60)
    changed = service.update_quiz(
        actor=user("teacher1"),
        quiz=quiz,
        changes={
            "title": " 第二次测验 ",
            "time_limit_seconds": 900,
            "review_policy": "never",
            "pass_mark": 60,  # as it was: not a change
        },
    )
    assert changed == ["review_policy", "time_limit_seconds", "title"]
    assert (quiz.title, quiz.time_limit_seconds, quiz.review_policy) == ("第二次测验", 900, "never")
    (event,) = audited("quiz.settings_changed", quiz.id)
    assert event.details["changed"] == changed
    assert (
        service.update_quiz(actor=user("teacher1"), quiz=quiz, changes={"title": "第二次测验"})
        == []
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": " "}, "title"),
        ({"pass_mark": "abc"}, "pass_mark"),
        ({"pass_mark": 120}, "pass_mark"),
        ({"time_limit_seconds": 5}, "time_limit"),
        ({"review_policy": "sometimes"}, "review_policy"),
        ({"opens_at": "tomorrow"}, "opens_at"),
        ({"shuffle_answers": True}, "shuffle_answers"),
    ],
)
def test_bad_settings_are_refused_and_change_nothing(quiz_factory, changes, field):
    quiz = quiz_factory()
    before = (quiz.title, quiz.pass_mark, quiz.time_limit_seconds, quiz.review_policy)
    with pytest.raises(ServiceError) as error:
        service.update_quiz(actor=user("teacher1"), quiz=quiz, changes=changes)
    assert error.value.field == field and error.value.message
    assert (quiz.title, quiz.pass_mark, quiz.time_limit_seconds, quiz.review_policy) == before


def test_the_window_must_stay_in_order(quiz_factory):
    quiz = quiz_factory()
    with pytest.raises(ServiceError) as error:
        service.update_quiz(actor=user("teacher1"), quiz=quiz, changes={"closes_at": quiz.opens_at})
    assert error.value.field == "closes_at"


def test_only_the_authors_change_a_quiz(quiz_factory):
    quiz = quiz_factory()
    for outsider in ("student1", "t_S0201_5"):
        with pytest.raises(ServiceError) as error:
            service.update_quiz(actor=user(outsider), quiz=quiz, changes={"title": "改了"})
        assert error.value.status == 403
    assert quiz.title == "测试测验"


def test_once_taken_the_pass_mark_and_mode_are_fixed_and_it_cannot_be_withdrawn(quiz_factory):
    quiz = quiz_factory()
    teacher = user("teacher1")
    service.update_quiz(actor=teacher, quiz=quiz, changes={"pass_mark": 50, "mode": "class"})
    assert not quiz.shuffle_questions  # a teacher-led class goes in one order
    service.start_attempt(actor=user("student1"), quiz=quiz)
    for changes in ({"pass_mark": 80}, {"mode": "self_paced"}, {"publish": False}):
        with pytest.raises(ServiceError) as error:
            service.update_quiz(actor=teacher, quiz=quiz, changes=changes)
        assert error.value.status == 409 and "1" in error.value.message
    assert (quiz.pass_mark, quiz.mode, quiz.is_published) == (50, "class", True)
    # what did not decide any result still changes
    assert service.update_quiz(actor=teacher, quiz=quiz, changes={"attempts_allowed": 3}) == [
        "attempts_allowed"
    ]


def test_an_untaken_quiz_is_withdrawn_and_its_audience_no_longer_sees_it(client, quiz_factory):
    quiz = quiz_factory()
    service.update_quiz(actor=user("teacher1"), quiz=quiz, changes={"publish": False})
    db.session.commit()
    listed = client.get("/api/v1/quizzes", headers=bearer("student1")).get_json()
    assert quiz.id not in {q["id"] for q in listed}
    started = client.post(f"/api/v1/quizzes/{quiz.id}/attempts", headers=bearer("student1"))
    assert started.status_code == 404


def test_an_earlier_close_ends_the_attempts_in_progress_then(app, quiz_factory):
    quiz = quiz_factory(time_limit_seconds=3600, types={"true_false"})
    student = user("student1")
    start = datetime.now(UTC) - timedelta(minutes=5)
    attempt = service.start_attempt(actor=student, quiz=quiz, now=start)
    assert attempt.deadline_at == start + timedelta(hours=1)
    close = start + timedelta(minutes=20)
    service.update_quiz(actor=user("teacher1"), quiz=quiz, changes={"closes_at": close})
    db.session.refresh(attempt)
    assert attempt.deadline_at == close  # no attempt runs past the close
    grace = app.config["QUIZ_SUBMIT_GRACE_SECONDS"]
    with pytest.raises(ServiceError) as error:
        service.save_answer(
            actor=student,
            attempt_id=attempt.id,
            question_id=attempt.slots[0].question_id,
            answer=False,
            seq=1,
            now=close + timedelta(seconds=grace + 1),
        )
    assert error.value.status == 409
    # a later close does not lengthen anyone's attempt
    service.update_quiz(actor=user("teacher1"), quiz=quiz, changes={"closes_at": None})
    db.session.refresh(attempt)
    assert attempt.deadline_at == close


def test_closing_now_stops_new_starts_and_ends_attempts_now(quiz_factory):
    quiz = quiz_factory(types={"true_false"}, attempts_allowed=0)
    student = user("student1")
    attempt = service.start_attempt(actor=student, quiz=quiz)
    now = datetime.now(UTC)
    service.close_quiz(actor=user("teacher1"), quiz=quiz, now=now)
    db.session.refresh(attempt)
    assert quiz.closes_at == now and attempt.deadline_at == now
    with pytest.raises(ServiceError):
        service.start_attempt(actor=user("s_S0101_5_01"), quiz=quiz)
    assert audited("quiz.settings_changed", quiz.id)[0].details["changed"] == ["closes_at"]


def test_an_untaken_quiz_is_deleted_with_its_items_and_audited(quiz_factory):
    quiz = quiz_factory()
    quiz_id = quiz.id
    service.delete_quiz(actor=user("teacher1"), quiz=quiz)
    assert db.session.get(Quiz, quiz_id) is None
    assert db.session.scalar(select(func.count()).where(QuizItem.quiz_id == quiz_id)) == 0
    (event,) = audited("quiz.deleted", quiz_id)
    assert event.details["title"] == "测试测验"


def test_a_taken_quiz_or_a_lessons_is_not_deleted(quiz_factory):
    taken = quiz_factory()
    service.start_attempt(actor=user("student1"), quiz=taken)
    in_lesson = quiz_factory()
    author = user("pref_admin")
    course = courses.create_course(
        actor=author, unit=unit_by_code("DEMO"), title="带测验的课程", description="测试",
        audience="student", grade_band="upper_primary", category="audio_video", drug_type="general",
    )  # fmt: skip
    courses.add_lesson(
        actor=author, course=course, title="第一课", kind="rich_text",
        body_html="<p>" + "毒品危害身心健康。" * 30 + "</p>", quiz_id=in_lesson.id,
    )  # fmt: skip
    for quiz, reason in ((taken, "1"), (in_lesson, "1")):
        assert service.deletion_blockers(quiz)
        with pytest.raises(ServiceError) as error:
            service.delete_quiz(actor=user("teacher1"), quiz=quiz)
        assert error.value.status == 409 and reason in error.value.message
        assert db.session.get(Quiz, quiz.id) is not None
    assert not audited("quiz.deleted", taken.id) and not audited("quiz.deleted", in_lesson.id)


def test_a_campaigns_quiz_is_not_deleted(ctx):
    from tests.quizzes.test_campaigns import send

    campaign = send()
    reasons = service.deletion_blockers(campaign.quiz)
    assert any(campaign.title in reason for reason in reasons)
    with pytest.raises(ServiceError):
        service.delete_quiz(actor=user("county_admin"), quiz=campaign.quiz)


# --- the API ---------------------------------------------------------------------------------


def test_api_reads_changes_and_deletes_a_quiz(client, quiz_factory):
    quiz = quiz_factory()
    quiz_id = quiz.id
    db.session.commit()
    teacher = bearer("teacher1")
    read = client.get(f"/api/v1/quizzes/{quiz_id}", headers=teacher).get_json()
    assert read["title"] == "测试测验" and read["taken"] == 0 and read["deletion_blockers"] == []
    changed = client.patch(
        f"/api/v1/quizzes/{quiz_id}",
        json={"title": "改名", "time_limit": 1200, "closes_at": "2030-01-01T08:00:00+08:00"},
        headers=teacher,
    )
    body = changed.get_json()
    assert changed.status_code == 200, body
    assert body["changed"] == ["closes_at", "time_limit_seconds", "title"]
    assert body["time_limit"] == 1200 and body["closes_at"] == "2030-01-01T00:00:00+00:00"
    assert client.delete(f"/api/v1/quizzes/{quiz_id}", headers=teacher).status_code == 204
    assert client.get(f"/api/v1/quizzes/{quiz_id}", headers=teacher).status_code == 404


def test_api_refusals_say_why_in_chinese(client, quiz_factory):
    quiz = quiz_factory()
    quiz_id = quiz.id
    service.start_attempt(actor=user("student1"), quiz=quiz)
    db.session.commit()
    teacher = bearer("teacher1")
    url = f"/api/v1/quizzes/{quiz_id}"
    for body, status in (
        ({"pass_mark": "abc"}, 422),
        ({"closes_at": "明天"}, 422),
        ({"colour": "red"}, 422),
        ({"pass_mark": 101}, 422),
        ({"pass_mark": 90}, 409),
        ({"published": False}, 409),
    ):
        response = client.patch(url, json=body, headers=teacher)
        assert response.status_code == status, (body, response.get_json())
        assert any("\u4e00" <= ch <= "\u9fff" for ch in response.get_json()["message"])
    deleted = client.delete(url, headers=teacher)
    assert deleted.status_code == 409 and "1" in deleted.get_json()["message"]
    for outsider in ("student1", "t_S0201_5"):
        headers = bearer(outsider)
        assert client.get(url, headers=headers).status_code == 404
        assert client.patch(url, json={"title": "x"}, headers=headers).status_code == 404
        assert client.delete(url, headers=headers).status_code == 404
    assert db.session.get(Quiz, quiz_id).pass_mark == 60


def test_api_create_with_a_pass_mark_that_is_no_number_is_422(client):
    from tests.quizzes.test_campaigns import demo_items

    response = client.post(
        "/api/v1/quizzes",
        json={
            "title": "x",
            "unit_id": unit_by_code("S0101").id,
            "items": demo_items(2),
            "audience": [{"unit_id": unit_by_code("S0101").id, "role": "student"}],
            "pass_mark": "六十",
        },
        headers=bearer("teacher1"),
    )
    assert response.status_code == 422 and "pass_mark" in response.get_json()["errors"]


# --- the pages -------------------------------------------------------------------------------


def test_settings_page_shows_and_saves_the_settings(signed_in, quiz_factory):
    quiz = quiz_factory(time_limit_seconds=600)
    quiz_id = quiz.id
    db.session.commit()
    client = signed_in("teacher1")
    url = f"/quizzes/{quiz_id}/settings"
    html = client.get(url).get_data(as_text=True)
    assert 'value="测试测验"' in html and 'name="pass_mark"' in html and 'value="10"' in html
    saved = client.post(
        url,
        data={
            "csrf_token": csrf_token(client, url),
            "title": "改过的测验",
            "time_limit_minutes": "10",
            "attempts_allowed": "3",
            "pass_mark": "70",
            "review_policy": "after_close",
            "mode": "self_paced",
            "one_per_page": "y",
        },
    )
    assert saved.status_code == 302
    quiz = db.session.get(Quiz, quiz_id)
    db.session.refresh(quiz)
    assert (quiz.title, quiz.attempts_allowed, quiz.pass_mark, quiz.review_policy) == (
        "改过的测验", 3, 70, "after_close",
    )  # fmt: skip
    assert quiz.time_limit_seconds == 600 and quiz.opens_at is None and quiz.closes_at is None
    results = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "设置已保存" in results and "改过的测验" in results


def test_settings_page_of_a_taken_quiz_shows_the_fixed_ones_as_facts(signed_in, quiz_factory):
    quiz = quiz_factory()
    quiz_id = quiz.id
    service.start_attempt(actor=user("student1"), quiz=quiz)
    db.session.commit()
    client = signed_in("teacher1")
    html = client.get(f"/quizzes/{quiz_id}/settings").get_data(as_text=True)
    assert 'name="pass_mark"' not in html and 'name="mode"' not in html
    assert "已固定" in html and "1 人正在作答" in html
    refused = client.post(
        f"/quizzes/{quiz_id}/settings",
        data={"csrf_token": csrf_token(client, f"/quizzes/{quiz_id}/settings"), "title": "x",
              "attempts_allowed": "1", "review_policy": "immediately",
              "opens_at": "2030-01-02T08:00", "closes_at": "2030-01-01T08:00"},
    )  # fmt: skip
    assert refused.status_code == 400 and "晚于开放时间" in refused.get_data(as_text=True)
    assert db.session.get(Quiz, quiz_id).title == "测试测验"
    assert signed_in("t_S0201_5").get(f"/quizzes/{quiz_id}/settings").status_code == 404


def test_results_page_publishes_closes_and_deletes(signed_in, quiz_factory):
    quiz = quiz_factory(publish=False)
    quiz_id = quiz.id
    db.session.commit()
    client = signed_in("teacher1")
    results = f"/quizzes/{quiz_id}/results"
    html = client.get(results).get_data(as_text=True)
    assert "草稿" in html and "发布" in html and "立即截止" not in html
    client.post(f"/quizzes/{quiz_id}/publish",
                data={"csrf_token": csrf_token(client, results), "published": "1"})  # fmt: skip
    html = client.get(results).get_data(as_text=True)
    assert db.session.get(Quiz, quiz_id).is_published and "立即截止" in html and "撤回" in html
    client.post(f"/quizzes/{quiz_id}/close", data={"csrf_token": csrf_token(client, results)})
    html = client.get(results).get_data(as_text=True)
    assert "已截止" in html and "立即截止" not in html
    confirm = client.get(f"/quizzes/{quiz_id}/delete").get_data(as_text=True)
    assert "确定删除" in confirm
    assert client.post(f"/quizzes/{quiz_id}/delete").status_code == 400  # no CSRF token: kept
    deleted = client.post(
        f"/quizzes/{quiz_id}/delete",
        data={"csrf_token": csrf_token(client, f"/quizzes/{quiz_id}/delete")},
    )
    assert deleted.status_code == 302 and db.session.get(Quiz, quiz_id) is None


def test_delete_page_of_a_taken_quiz_says_why_not(signed_in, quiz_factory):
    quiz = quiz_factory()
    quiz_id = quiz.id
    service.start_attempt(actor=user("student1"), quiz=quiz)
    db.session.commit()
    client = signed_in("teacher1")
    html = client.get(f"/quizzes/{quiz_id}/delete").get_data(as_text=True)
    assert "无法删除" in html and "1 人" in html and "确定删除" not in html
    refused = client.post(
        f"/quizzes/{quiz_id}/delete",
        data={"csrf_token": csrf_token(client, f"/quizzes/{quiz_id}/delete")},
    )
    assert refused.status_code == 409 and db.session.get(Quiz, quiz_id) is not None
