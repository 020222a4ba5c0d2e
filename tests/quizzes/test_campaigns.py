"""Campaigns (调度): exams and surveys to grades and schools, rates, reminders, coverage, anonymity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from elearn.extensions import db
from elearn.models import AuditEvent, CoverageFact, FactKind
from quizzes import service
from quizzes.dispatch.service import campaigns, participation, survey_results
from quizzes.models import Question, QuestionBank
from tests.conftest import unit_by_code, user
from tests.quizzes.conftest import bearer


def demo_items(n=3):
    bank = db.session.scalar(
        select(QuestionBank).where(QuestionBank.name == "禁毒知识题库（示范）")
    )
    questions = db.session.scalars(
        select(Question).where(Question.bank_id == bank.id).order_by(Question.id).limit(n)
    ).all()
    return [{"question_id": q.id, "mark": 10} for q in questions]


def send(kind="exam", **extra):
    now = datetime.now(UTC)
    options = {
        "actor": user("county_admin"),
        "sender": unit_by_code("C01"),
        "title": "2026 秋季学期禁毒知识考试",
        "kind": kind,
        "items": demo_items(),
        "unit_targets": [],
        "grade_levels": [5],
        "roles": ["student"],
        "opens_at": now - timedelta(hours=1),
        "closes_at": now + timedelta(days=7),
        **extra,
    }
    return campaigns.create_campaign(**options)


def take(username, campaign, right: bool):
    from quizzes.qtypes import get_type

    student = user(username)
    if campaign.quiz.is_anonymous:
        return take_survey(student, campaign, right)
    attempt = service.start_attempt(actor=student, quiz=campaign.quiz)
    for seq, slot in enumerate(attempt.slots, start=1):
        version = slot.version
        answer = get_type(version.type).correct_answer(version.data, version.grading)
        if not right:  # a wrong true/false, nothing for the rest
            answer = (not answer) if version.type == "true_false" else None
        service.save_answer(
            actor=student,
            attempt_id=attempt.id,
            question_id=slot.question_id,
            answer=answer,
            seq=seq,
        )
    return service.submit_attempt(actor=student, attempt_id=attempt.id)


def take_survey(student, campaign, right: bool):
    """An anonymous survey through its session (no attempt row), deposited as the route does."""
    from quizzes.dispatch.service import surveys
    from quizzes.models import QuestionVersion
    from quizzes.qtypes import get_type

    session = surveys.start_survey(actor=student, quiz=campaign.quiz)
    for seq, (question_id, version_id, _mark) in enumerate(session.slots, start=1):
        version = db.session.get(QuestionVersion, version_id)
        answer = get_type(version.type).correct_answer(version.data, version.grading)
        if version.type == "opinion":
            answer = version.data["options"][0]["id"]
        elif not right:
            answer = (not answer) if version.type == "true_false" else None
        surveys.save_survey_answer(
            actor=student, token=session.token, question_id=question_id, answer=answer, seq=seq
        )
    pending = surveys.submit_survey(actor=student, token=session.token)
    db.session.commit()
    surveys.deposit(pending)
    return session


def test_only_county_and_prefecture_admins_send(ctx):
    import pytest

    from elearn.service.errors import ServiceError

    with pytest.raises(ServiceError) as error:
        send(actor=user("school_admin"))
    assert error.value.status == 403


def test_grade_targets_reach_that_grade_in_every_school_of_the_county(ctx):
    campaign = send()
    audience_units = {a.unit.code for a in campaign.quiz.audiences}
    assert audience_units == {"G5"}  # grade 5 of 示范市第一小学 (the only primary school in C01)
    assert service.start_attempt(actor=user("student1"), quiz=campaign.quiz)


def test_participation_pass_and_excellent_rates_and_who_has_not_taken_it(ctx):
    campaign = send()
    take("student1", campaign, right=True)
    take("s_S0101_5_01", campaign, right=False)
    result = participation.participation(campaign, unit_by_code("C01"))
    total = result.total.as_dict(False)
    expected = total["expected"]
    assert expected == 26  # 25 demo pupils + student1 in grade 5 class 1
    assert total["took"] == 2 and total["pass_rate"] == 0.5 and total["excellent_rate"] == 0.5
    assert [c.name for c in result.children] == ["示范市第一小学"]
    assert result.not_taken_count == expected - 2
    assert user("student1").id not in {row["user_id"] for row in result.not_taken}


def test_completing_a_term_exam_records_the_assessment_fact(ctx):
    campaign = send()
    take("student1", campaign, right=False)
    fact = db.session.scalar(
        select(CoverageFact).where(
            CoverageFact.kind == FactKind.STUDENT_ASSESSED,
            CoverageFact.subject_id == user("student1").id,
        )
    )
    assert fact is not None


def test_reminder_notifies_each_person_not_yet_taken_with_a_link(ctx):
    from elearn.models import Notification
    from elearn.service import notifications

    campaign = send()
    take("student1", campaign, right=True)
    count = participation.send_reminder(
        actor=user("school_admin"), campaign=campaign, unit=unit_by_code("S0101")
    )
    notices = db.session.scalars(
        select(Notification).where(Notification.kind == "quiz.campaign_reminder")
    ).all()
    home = db.session.scalars(
        select(Notification).where(Notification.kind == "quiz.campaign_reminder_home")
    ).all()
    assert count == 25 + len(home)  # the pupils, and the guardians of those with one
    assert len(notices) == 25 and len({n.user_id for n in notices}) == 25
    assert user("student1").id not in {n.user_id for n in notices}
    pupil = user("s_S0101_5_01")
    assert notifications.unread_count(pupil) == 2  # the campaign as it came, and the reminder
    notice = next(n for n in notices if n.user_id == pupil.id)
    assert notice.link == f"/quizzes#quiz-{campaign.quiz_id}"
    assert campaign.title in notice.title and "示范市第一小学" in notice.body
    # parent1's child took it: nothing for them
    assert user("parent1").id not in {n.user_id for n in notices + home}
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "quiz.campaign_reminder")
    )
    assert event.details["count"] == count


def test_reminder_reaches_guardians_when_the_campaign_is_for_them(ctx):
    from elearn.models import Notification

    county = unit_by_code("C01")
    items = campaigns.template_items(
        actor=user("county_admin"), sender=county, template="satisfaction"
    )
    campaign = send(
        kind="survey",
        items=items,
        anonymous=True,
        roles=["student", "guardian"],
        title="家校满意度",
    )
    take("student1", campaign, right=True)
    count = participation.send_reminder(actor=user("county_admin"), campaign=campaign, unit=county)
    notified = set(
        db.session.scalars(
            select(Notification.user_id).where(Notification.kind == "quiz.campaign_reminder")
        )
    )
    home = set(
        db.session.scalars(
            select(Notification.user_id).where(Notification.kind == "quiz.campaign_reminder_home")
        )
    )
    assert len(notified) == participation.participation(campaign, county).not_taken_count
    assert count == len(notified) + len(home) and not notified & home
    assert user("parent1").id in notified and user("student1").id not in notified
    # a second reminder after the guardian took part leaves them out
    take_survey(user("parent1"), campaign, right=True)
    db.session.execute(Notification.__table__.delete())
    participation.send_reminder(actor=user("county_admin"), campaign=campaign, unit=county)
    again = set(db.session.scalars(select(Notification.user_id)))
    assert user("parent1").id not in again and len(again) == count - 1


def test_a_campaign_sent_tells_its_audience_and_the_students_guardians_once(ctx):
    """Sending a term exam to grade 5 tells each pupil (with a link to take it) and, at home,
    each pupil's guardian; nobody outside the audience, and nobody twice."""
    from elearn.models import Notification

    campaign = send()
    db.session.flush()
    rows = db.session.scalars(
        select(Notification).where(Notification.kind.like("quiz.campaign_sent%"))
    ).all()
    by_user = {}
    for notice in rows:
        assert notice.user_id not in by_user, "told twice"
        by_user[notice.user_id] = notice
    pupil = by_user[user("student1").id]
    assert pupil.kind == "quiz.campaign_sent" and pupil.title == f"新的期末测评：{campaign.title}"
    assert pupil.link == f"/quizzes#quiz-{campaign.quiz_id}" and "示范市" in pupil.body
    parent = by_user[user("parent1").id]
    assert parent.kind == "quiz.campaign_sent_home" and "孩子" in parent.title
    assert parent.link is None
    assert user("teacher1").id not in by_user  # students only
    assert user("s_S0201_5_01").id not in by_user  # another county
    assert user("county_admin").id not in by_user
    expected = participation.participation(campaign, unit_by_code("C01")).total.expected
    assert sum(1 for n in rows if n.kind == "quiz.campaign_sent") == expected


def test_survey_results_hide_groups_under_five_and_give_the_rates(ctx):
    county = unit_by_code("C01")
    items = campaigns.template_items(
        actor=user("county_admin"), sender=county, template="knowledge"
    )
    campaign = send(kind="survey", items=items, anonymous=True, title="知晓率调查")
    names = ["student1"] + [f"s_S0101_5_{n:02d}" for n in range(1, 5)]
    for name in names[:4]:
        take(name, campaign, right=True)
    assert survey_results.survey_results(campaign.quiz, county)["hidden"] is True
    take(names[4], campaign, right=False)
    results = survey_results.survey_results(campaign.quiz, county)
    assert results["hidden"] is False and results["responses"] == 5
    assert results["awareness_rate"] == 0.8  # four of five answered every statement right


def test_participation_api(client):
    headers = bearer("county_admin")
    response = client.post(
        "/api/v1/campaigns",
        json={
            "title": "期末禁毒知识测评",
            "kind": "exam",
            "unit_id": unit_by_code("C01").id,
            "targets": {"grade_levels": [5], "roles": ["student"]},
            "items": demo_items(),
            "closes_at": (datetime.now(UTC) + timedelta(days=3)).isoformat(),
        },
        headers=headers,
    )
    assert response.status_code == 201, response.get_json()
    campaign_id = response.get_json()["id"]
    school = unit_by_code("S0101").id
    body = client.get(
        f"/api/v1/campaigns/{campaign_id}/participation?unit={school}",
        headers=bearer("school_admin"),
    ).get_json()
    assert body["unit"]["expected"] == 26 and body["not_taken_count"] == 26 and body["children"]
    assert (
        client.get(
            f"/api/v1/campaigns/{campaign_id}/participation?unit={unit_by_code('S0201').id}",
            headers=bearer("school_admin"),
        ).status_code
        == 404
    )
    assert (
        client.get(
            f"/api/v1/campaigns/{campaign_id}/participation", headers=bearer("student1")
        ).status_code
        == 404
    )
    reminded = client.post(
        f"/api/v1/campaigns/{campaign_id}/reminders",
        json={"unit_id": school},
        headers=bearer("teacher1"),
    )
    assert reminded.status_code == 404  # the teacher follows their class, not the school
    klass = next(a.unit for a in user("teacher1").roles if a.role == "teacher").id
    reminded = client.post(
        f"/api/v1/campaigns/{campaign_id}/reminders",
        json={"unit_id": klass},
        headers=bearer("teacher1"),
    )
    # the class's 26 pupils, and a guardian of each at home
    assert reminded.status_code == 200 and reminded.get_json()["reminded"] == 52
    refused = client.post(
        "/api/v1/campaigns",
        json={
            "title": "x",
            "kind": "exam",
            "unit_id": unit_by_code("C01").id,
            "items": demo_items(),
        },
        headers=bearer("teacher1"),
    )
    assert refused.status_code in (403, 404)


def test_campaign_pages_drill_down_and_remind(app, signed_in):
    from tests.conftest import csrf_token

    with app.test_request_context():
        campaign = send()
        take("student1", campaign, right=True)
        campaign_id, school_id = campaign.id, unit_by_code("S0101").id
        db.session.commit()
    county = signed_in("county_admin")
    listing = county.get("/quizzes/campaigns").get_data(as_text=True)
    assert "2026 秋季学期禁毒知识考试" in listing
    page = county.get(f"/quizzes/campaigns/{campaign_id}").get_data(as_text=True)
    assert "1 / 26" in page and "示范市第一小学" in page
    school = signed_in("school_admin")
    drill = school.get(f"/quizzes/campaigns/{campaign_id}?unit={school_id}")
    assert drill.status_code == 200 and "尚未参加（25）" in drill.get_data(as_text=True)
    token = csrf_token(school, f"/quizzes/campaigns/{campaign_id}?unit={school_id}")
    reminded = school.post(
        f"/quizzes/campaigns/{campaign_id}?unit={school_id}", data={"csrf_token": token}
    )
    assert reminded.status_code == 302
    # the pupil sees it on the home page, with a link to take it
    home = signed_in("s_S0101_5_01").get("/").get_data(as_text=True)
    assert "2026 秋季学期禁毒知识考试" in home and "/quizzes#quiz-" in home
    assert signed_in("student1").get(f"/quizzes/campaigns/{campaign_id}").status_code == 404
