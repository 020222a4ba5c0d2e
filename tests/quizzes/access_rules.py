"""Access rules of the assessment routes (see tests/access.py).

The demo seed has a prefecture-wide bank (authored by pref_admin; shared down to every staff
member) and a published quiz for student1's class, written by teacher1: edited by its author and
the admins of its unit (the school's, the county's, the prefecture's), whose results and grading
reach them too (teacher1 is also the teacher of the class in its audience); an expert, staff
elsewhere, is a stranger to it. An attempt belongs to its student alone. Every other case of
the quiz rule (a teacher of an audience class who did not write it, another teacher of the
school, a campaign's class and school) is in tests/quizzes/test_access.py.
"""

import io

from sqlalchemy import select

from elearn.extensions import db
from elearn.models import User
from quizzes import service
from quizzes.models import QuestionBank, Quiz
from quizzes.seed import BANK_NAME, QUIZ_TITLE
from tests.access import ADMINS, SIGNED_IN, Rule

STAFF = ADMINS | {"teacher1", "expert1"}
#: the demo quiz's author and the admins of its unit
QUIZ_EDITORS = ADMINS | {"teacher1"}
BANK_AUTHORS = frozenset({"pref_admin", "expert1"})
STUDENT = frozenset({"student1"})


def bank_id(ids: dict) -> int:
    return db.session.scalar(select(QuestionBank.id).where(QuestionBank.name == BANK_NAME))


def quiz_id(ids: dict) -> int:
    return db.session.scalar(select(Quiz.id).where(Quiz.title == QUIZ_TITLE))


def attempt(ids: dict):
    """An attempt of student1 at the demo quiz (rolled back after each request)."""
    student = db.session.get(User, ids["student1"])
    found = service.start_attempt(actor=student, quiz=db.session.get(Quiz, quiz_id(ids)))
    db.session.commit()
    return found


def attempt_url(suffix: str = ""):
    return lambda ids: f"/api/v1/attempts/{attempt(ids).id}{suffix}"


def answer_url(ids: dict) -> str:
    found = attempt(ids)
    return f"/api/v1/attempts/{found.id}/answers/{found.slots[0].question_id}"


def short_answer_grade_url(ids: dict) -> str:
    found = attempt(ids)
    slot = next(s for s in found.slots if s.version.type == "short_answer")
    return f"/api/v1/attempts/{found.id}/grades/{slot.question_id}"


RULES = {
    "quizzes.mine": Rule(lambda ids: "/quizzes", SIGNED_IN),
    "quizzes.start": Rule(lambda ids: f"/quizzes/{quiz_id(ids)}/start", STUDENT, method="POST"),
    "quizzes.attempt_page": Rule(lambda ids: f"/quizzes/attempts/{attempt(ids).id}", STUDENT),
    "quizzes.banks": Rule(lambda ids: "/quizzes/banks", STAFF),
    "quizzes.bank_detail": Rule(lambda ids: f"/quizzes/banks/{bank_id(ids)}", STAFF),
    "quizzes.bank_export": Rule(
        lambda ids: f"/quizzes/banks/{bank_id(ids)}/export?format=gift", BANK_AUTHORS
    ),
    "quizzes.quiz_new": Rule(lambda ids: "/quizzes/new", STAFF),
    "quizzes.results": Rule(lambda ids: f"/quizzes/{quiz_id(ids)}/results", QUIZ_EDITORS),
    "quizzes.results_export": Rule(
        lambda ids: f"/quizzes/{quiz_id(ids)}/results.xlsx", QUIZ_EDITORS
    ),
    "quizzes_api.banks": Rule(lambda ids: "/api/v1/question-banks", SIGNED_IN),
    "quizzes_api.create_bank": Rule(
        lambda ids: "/api/v1/question-banks",
        STAFF,
        method="POST",
        json=True,
        data=lambda ids: {"name": "新题库", "unit_id": ids["school"]},
    ),
    "quizzes_api.bank_questions": Rule(
        lambda ids: f"/api/v1/question-banks/{bank_id(ids)}/questions", STAFF
    ),
    "quizzes_api.import_questions": Rule(
        lambda ids: f"/api/v1/question-banks/{bank_id(ids)}/imports",
        BANK_AUTHORS,
        method="POST",
        # a well-formed upload: the authors' import runs, everyone else is refused
        data=lambda ids: {"file": (io.BytesIO(b"::q:: 1+1=2 {T}"), "q.gift"), "format": "gift"},
    ),
    "quizzes_api.export_questions": Rule(
        lambda ids: f"/api/v1/question-banks/{bank_id(ids)}/export?format=moodlexml", BANK_AUTHORS
    ),
    "quizzes_api.quizzes": Rule(lambda ids: "/api/v1/quizzes", SIGNED_IN),
    "quizzes_api.create_quiz": Rule(
        lambda ids: "/api/v1/quizzes",
        STAFF,
        method="POST",
        json=True,
        data=lambda ids: {
            "title": "小测",
            "unit_id": ids["class"],
            "items": [{"category_id": 1}],
            "audience": [{"unit_id": ids["class"]}],
        },
    ),
    "quizzes_api.start_attempt": Rule(
        lambda ids: f"/api/v1/quizzes/{quiz_id(ids)}/attempts", STUDENT, method="POST", json=True
    ),
    "quizzes_api.attempt": Rule(attempt_url(), STUDENT),
    "quizzes_api.attempt_clock": Rule(attempt_url("/clock"), STUDENT),
    "quizzes_api.save_answer": Rule(
        answer_url, STUDENT, method="PUT", json=True, data=lambda ids: {"answer": None, "seq": 1}
    ),
    "quizzes_api.submit": Rule(attempt_url("/submit"), STUDENT, method="POST", json=True),
    "quizzes_api.review": Rule(attempt_url("/review"), STUDENT),
}


def campaign_id(ids: dict) -> int:
    """A county exam campaign to grade 5 (rolled back after each request)."""
    from elearn.models import Unit
    from quizzes.dispatch.service import campaigns

    county = db.session.scalar(select(Unit).where(Unit.code == "C01"))
    campaign = campaigns.create_campaign(
        actor=db.session.scalar(select(User).where(User.username == "county_admin")),
        sender=county,
        title="期末测评",
        kind="exam",
        items=[{"question_id": demo_question_id(), "mark": 10}],
        unit_targets=[],
        grade_levels=[5],
        roles=["student"],
        opens_at=None,
        closes_at=None,
    )
    db.session.commit()
    return campaign.id


def demo_question_id() -> int:
    from quizzes.models import Question

    return db.session.scalar(
        select(Question.id)
        .join(QuestionBank, QuestionBank.id == Question.bank_id)
        .where(QuestionBank.name == BANK_NAME)
        .order_by(Question.id)
        .limit(1)
    )


DISPATCHERS = frozenset({"pref_admin", "county_admin"})

RULES.update(
    {
        "dispatch_api.create_campaign": Rule(
            lambda ids: "/api/v1/campaigns",
            DISPATCHERS,
            method="POST",
            json=True,
            data=lambda ids: {
                "title": "期末测评",
                "kind": "exam",
                "unit_id": ids["county"],
                "items": [],
            },
        ),
        # each follows it at the highest unit they may: the county's, the school's, the class
        "dispatch_api.participation": Rule(
            lambda ids: f"/api/v1/campaigns/{campaign_id(ids)}/participation",
            ADMINS | {"teacher1"},
        ),
        "dispatch_api.remind": Rule(
            lambda ids: f"/api/v1/campaigns/{campaign_id(ids)}/reminders",
            ADMINS | {"teacher1"},
            method="POST",
            json=True,
        ),
        "dispatch_api.survey_results": Rule(
            lambda ids: f"/api/v1/campaigns/{campaign_id(ids)}/survey-results",
            ADMINS | {"teacher1"},
        ),
    }
)


RULES.update(
    {
        "quizzes.record": Rule(
            lambda ids: f"/quizzes/record/{ids['student1']}",
            ADMINS | {"student1", "parent1", "teacher1"},
        ),
        "quizzes.grade": Rule(
            lambda ids: f"/quizzes/attempts/{attempt(ids).id}/grade", QUIZ_EDITORS
        ),
        # the attempt is in progress: those who grade it are told so (409), the others 404
        "quizzes_api.grade_answer": Rule(
            short_answer_grade_url,
            QUIZ_EDITORS,
            method="PUT",
            json=True,
            data=lambda ids: {"points": 5},
        ),
    }
)


RULES.update(
    {
        "dispatch.campaigns": Rule(lambda ids: "/quizzes/campaigns", ADMINS | {"teacher1"}),
        "dispatch.campaign_detail": Rule(
            lambda ids: f"/quizzes/campaigns/{campaign_id(ids)}", ADMINS | {"teacher1"}
        ),
    }
)


def survey_token(ids: dict) -> str:
    """student1's session of an anonymous county survey (its quiz rolled back after each request)."""
    from elearn.models import Unit
    from quizzes.dispatch.service import campaigns, surveys

    county = db.session.scalar(select(Unit).where(Unit.code == "C01"))
    admin = db.session.scalar(select(User).where(User.username == "county_admin"))
    campaign = campaigns.create_campaign(
        actor=admin,
        sender=county,
        title="满意度调查",
        kind="survey",
        items=campaigns.template_items(actor=admin, sender=county, template="satisfaction"),
        unit_targets=[],
        grade_levels=[5],
        roles=["student"],
        opens_at=None,
        closes_at=None,
        anonymous=True,
    )
    student = db.session.get(User, ids["student1"])
    token = surveys.start_survey(actor=student, quiz=campaign.quiz).token
    db.session.commit()
    return token


def survey_answer_url(ids: dict) -> str:
    from quizzes.dispatch.service import surveys

    token = survey_token(ids)
    session = surveys.load_survey(actor=db.session.get(User, ids["student1"]), token=token)
    return f"/api/v1/survey-sessions/{token}/answers/{session.slots[0][0]}"


RULES.update(
    {
        "dispatch.survey_page": Rule(lambda ids: f"/quizzes/surveys/{survey_token(ids)}", STUDENT),
        "dispatch_api.survey_session": Rule(
            lambda ids: f"/api/v1/survey-sessions/{survey_token(ids)}", STUDENT
        ),
        "dispatch_api.survey_save_answer": Rule(
            survey_answer_url,
            STUDENT,
            method="PUT",
            json=True,
            data=lambda ids: {"answer": None, "seq": 1},
        ),
        "dispatch_api.survey_submit": Rule(
            lambda ids: f"/api/v1/survey-sessions/{survey_token(ids)}/submit",
            STUDENT,
            method="POST",
            json=True,
        ),
    }
)


def survey_campaign_id(ids: dict) -> int:
    """A county survey campaign to grade 5 (rolled back after each request)."""
    from elearn.models import Unit
    from quizzes.dispatch.service import campaigns

    county = db.session.scalar(select(Unit).where(Unit.code == "C01"))
    admin = db.session.scalar(select(User).where(User.username == "county_admin"))
    campaign = campaigns.create_campaign(
        actor=admin,
        sender=county,
        title="知晓率调查",
        kind="survey",
        items=campaigns.template_items(actor=admin, sender=county, template="knowledge"),
        unit_targets=[],
        grade_levels=[5],
        roles=["student"],
        opens_at=None,
        closes_at=None,
    )
    db.session.commit()
    return campaign.id


RULES.update(
    {
        "dispatch.campaign_new": Rule(lambda ids: "/quizzes/campaigns/new", DISPATCHERS),
        "dispatch.survey_report": Rule(
            lambda ids: f"/quizzes/campaigns/{survey_campaign_id(ids)}/survey",
            ADMINS | {"teacher1"},
        ),
        "quizzes.question_edit": Rule(
            lambda ids: f"/quizzes/questions/{demo_question_id()}", STAFF
        ),
        # taking a question out of its bank, and putting it back: the bank's authors
        "quizzes.question_archive": Rule(
            lambda ids: f"/quizzes/questions/{demo_question_id()}/archive",
            BANK_AUTHORS,
            method="POST",
            data=lambda ids: {"archived": "1"},
        ),
        "quizzes_api.archive_question": Rule(
            lambda ids: f"/api/v1/questions/{demo_question_id()}",
            BANK_AUTHORS,
            method="DELETE",
            json=True,
        ),
        "quizzes_api.restore_question": Rule(
            lambda ids: f"/api/v1/questions/{demo_question_id()}/restore",
            BANK_AUTHORS,
            method="POST",
            json=True,
        ),
        # a quiz after it is created: its author and the admins of its unit
        "quizzes.quiz_settings": Rule(
            lambda ids: f"/quizzes/{quiz_id(ids)}/settings", QUIZ_EDITORS
        ),
        "quizzes.quiz_publish": Rule(
            lambda ids: f"/quizzes/{quiz_id(ids)}/publish",
            QUIZ_EDITORS,
            method="POST",
            data=lambda ids: {"published": "1"},
        ),
        "quizzes.quiz_close": Rule(
            lambda ids: f"/quizzes/{quiz_id(ids)}/close", QUIZ_EDITORS, method="POST"
        ),
        "quizzes.quiz_delete": Rule(lambda ids: f"/quizzes/{quiz_id(ids)}/delete", QUIZ_EDITORS),
        "quizzes_api.quiz_detail": Rule(
            lambda ids: f"/api/v1/quizzes/{quiz_id(ids)}", QUIZ_EDITORS
        ),
        "quizzes_api.update_quiz": Rule(
            lambda ids: f"/api/v1/quizzes/{quiz_id(ids)}",
            QUIZ_EDITORS,
            method="PATCH",
            json=True,
            data=lambda ids: {"title": "改名的测验"},
        ),
        "quizzes_api.delete_quiz": Rule(
            lambda ids: f"/api/v1/quizzes/{quiz_id(ids)}",
            QUIZ_EDITORS,
            method="DELETE",
            json=True,
        ),
    }
)
