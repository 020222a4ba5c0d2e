"""Quick quizzes in a lecture: question-bank questions, graded by the assessment package on the
server, tallied and summarised at most once a second; keys and marks only after the host closes.
The service without HTTP, then the /live events with the python-socketio client.
"""

from __future__ import annotations

import json
import time

import pytest
import requests
from sqlalchemy import select

from elearn.service.errors import ServiceError
from live import service
from quizzes.models import Question, QuestionBank
from quizzes.seed import BANK_NAME
from tests.conftest import user
from tests.live.conftest import create_lecture, unit_id
from tests.live.helpers import make_lecture

SINGLE = "国际禁毒日是每年的哪一天？"
MULTIPLE = "下列哪些属于毒品？"
TRUE_FALSE = "吸毒一次不会成瘾"
SHORT = "short_answer"
#: what grading data looks like; none of it may reach a client while the quiz is open
SECRETS = ('"fractions"', '"grading"', '"key"', '"correct"', '"chosen"', '"fraction"')


def _bank_questions() -> dict[str, Question]:
    from elearn.extensions import db

    bank = db.session.scalar(select(QuestionBank).where(QuestionBank.name == BANK_NAME))
    found: dict[str, Question] = {}
    for question in db.session.scalars(select(Question).where(Question.bank_id == bank.id)):
        version = question.current_version
        assert version is not None
        found.setdefault(version.type, question)
        for stem in (SINGLE, MULTIPLE, TRUE_FALSE):
            if version.stem.startswith(stem):
                found[stem] = question
    return found


def _option(view: dict, text: str) -> str:
    return next(o["id"] for o in view["options"] if o["text"] == text)


def test_quick_quiz_is_graded_by_the_question_bank(ctx):
    lecture = make_lecture()
    expert, student, parent = user("expert1"), user("student1"), user("parent1")
    questions = _bank_questions()
    ids = [questions[SINGLE].id, questions[TRUE_FALSE].id]
    with pytest.raises(ServiceError) as refused:
        service.start_quiz(actor=student, lecture=lecture, question_ids=ids)
    assert refused.value.status == 403
    with pytest.raises(ServiceError):  # a person grades short answers: not in a quick quiz
        service.start_quiz(actor=expert, lecture=lecture, question_ids=[questions[SHORT].id])
    with pytest.raises(ServiceError):
        service.start_quiz(actor=expert, lecture=lecture, question_ids=[])
    quiz = service.start_quiz(actor=expert, lecture=lecture, question_ids=ids, title="小测验")
    view = service.quiz_json(quiz)
    assert [q["type"] for q in view["questions"]] == ["single_choice", "true_false"]
    assert not any(secret in json.dumps(view) for secret in SECRETS)
    right = _option(view["questions"][0], "6月26日")

    with pytest.raises(ServiceError):  # not an option of the question
        service.answer_quiz(actor=student, lecture=lecture, quiz=quiz, position=0, answer="nope")
    with pytest.raises(ServiceError):
        service.answer_quiz(actor=student, lecture=lecture, quiz=quiz, position=7, answer=right)
    assert service.answer_quiz(
        actor=student, lecture=lecture, quiz=quiz, position=0, answer=right
    ).fraction == pytest.approx(1.0)
    assert service.answer_quiz(
        actor=student, lecture=lecture, quiz=quiz, position=1, answer=True
    ).fraction == pytest.approx(0.0)  # the statement is false
    service.answer_quiz(actor=parent, lecture=lecture, quiz=quiz, position=1, answer=False)
    first = service.answered_by(student, quiz)
    # the same answer sent again (a page resending after a dropped connection) is that answer
    resent = service.answer_quiz(
        actor=student, lecture=lecture, quiz=quiz, position=0, answer=right
    )
    assert resent.fraction == pytest.approx(1.0) and service.answered_by(student, quiz) == first
    with pytest.raises(ServiceError) as again:  # a second, different answer is refused
        service.answer_quiz(actor=student, lecture=lecture, quiz=quiz, position=1, answer=False)
    assert again.value.status == 409
    assert service.answered_by(student, quiz) == [0, 1]

    audience = service.quiz_summary(quiz)
    assert audience["people"] == 2
    assert [q["answered"] for q in audience["questions"]] == [1, 2]
    assert not any(secret in json.dumps(audience) for secret in SECRETS)
    hosts = service.quiz_summary(quiz, for_hosts=True)
    assert [q["correct"] for q in hosts["questions"]] == [1, 1]
    assert hosts["questions"][0]["chosen"] == {right: 1}
    assert hosts["questions"][1]["chosen"] == {"true": 1, "false": 1}
    assert '"key"' not in json.dumps(hosts)
    with pytest.raises(ServiceError):
        service.quiz_result(actor=student, quiz=quiz)

    service.end_quiz(actor=expert, lecture=lecture, quiz=quiz)
    final = service.quiz_summary(quiz)
    assert [q["key"] for q in final["questions"]] == [right, False]
    result = service.quiz_result(actor=student, quiz=quiz)
    assert result["score"] == pytest.approx(1.0) and result["max"] == 2
    with pytest.raises(ServiceError) as closed:
        service.answer_quiz(actor=parent, lecture=lecture, quiz=quiz, position=0, answer=right)
    assert closed.value.status == 409


def test_a_new_quiz_closes_the_open_one_and_ending_the_lecture_closes_it(ctx):
    from live.models import LectureStatus

    lecture = make_lecture()
    expert = user("expert1")
    ids = [_bank_questions()[SINGLE].id]
    first = service.start_quiz(actor=expert, lecture=lecture, question_ids=ids)
    second = service.start_quiz(actor=expert, lecture=lecture, question_ids=ids)
    assert not first.is_open and service.current_quiz(lecture) is second
    service.set_status(actor=expert, lecture=lecture, status=LectureStatus.ENDED)
    assert not second.is_open and service.current_quiz(lecture) is None


# --- over Socket.IO --------------------------------------------------------------------------


def _api_questions(base_url: str, token: str) -> dict[str, dict]:
    headers = {"Authorization": f"Bearer {token}"}
    banks = requests.get(f"{base_url}/api/v1/question-banks", headers=headers, timeout=10).json()
    bank = next(b for b in banks if b["name"] == BANK_NAME)
    rows = requests.get(
        f"{base_url}/api/v1/question-banks/{bank['id']}/questions", headers=headers, timeout=10
    ).json()
    found: dict[str, dict] = {}
    for row in rows:
        for stem in (SINGLE, MULTIPLE, TRUE_FALSE):
            if row["name"].startswith(stem):
                found[stem] = row
    return found


def test_bank_lists_its_quick_quiz_questions_with_stems_and_no_answers(live_url, token):
    headers = {"Authorization": f"Bearer {token('expert1')}"}
    banks = requests.get(f"{live_url}/api/v1/question-banks", headers=headers, timeout=10).json()
    bank = next(b for b in banks if b["name"] == BANK_NAME)
    url = f"{live_url}/api/v1/question-banks/{bank['id']}/questions"
    every = requests.get(url, headers=headers, timeout=10).json()
    quick = requests.get(url, params={"quick": "1"}, headers=headers, timeout=10).json()
    assert {r["type"] for r in every} >= {SHORT, "single_choice"}
    types = {r["type"] for r in quick}
    assert {"single_choice", "multiple_choice", "true_false"} <= types
    assert SHORT not in types  # a person grades short answers
    single = next(r for r in quick if r["stem"].startswith(SINGLE))
    assert "<" not in single["stem"]
    assert set(single) == {"id", "type", "type_label", "name", "stem"}
    assert not any(secret in json.dumps(quick) for secret in SECRETS)
    student = {"Authorization": f"Bearer {token('student1')}"}
    assert requests.get(url, params={"quick": "1"}, headers=student, timeout=10).status_code in (
        403,
        404,
    )


def test_quick_quiz_over_socketio(live_url, token, peers):
    county = unit_id(live_url, token("pref_admin"), ["C01"])
    lecture_id = create_lecture(live_url, token("expert1"), [{"unit_id": county}])
    questions = _api_questions(live_url, token("expert1"))
    expert = peers(live_url).connect(token=token("expert1"))
    student = peers(live_url).connect(token=token("student1"))
    parent = peers(live_url).connect(token=token("parent1"))
    for peer in (expert, student, parent):
        assert peer.call("join", {"lecture_id": lecture_id})["ok"]
    ids = [questions[SINGLE]["id"], questions[MULTIPLE]["id"], questions[TRUE_FALSE]["id"]]
    refused = student.call("quiz_start", {"question_ids": ids})
    assert refused["ok"] is False and refused["error"] == "只有主讲人和协同主持人可以这样做。"

    started = expert.call("quiz_start", {"question_ids": ids, "title": "禁毒小测验"})
    assert started["ok"], started
    quiz_id = started["quiz"]["id"]
    view = student.wait_for(lambda: student.got("quiz"), "the quiz")[-1]
    assert view["id"] == quiz_id and view["title"] == "禁毒小测验"
    assert not any(secret in json.dumps(view) for secret in SECRETS)
    single, multiple = view["questions"][0], view["questions"][1]

    def answer(peer, position, value):
        return peer.call("quiz_answer", {"quiz_id": quiz_id, "position": position, "answer": value})

    reply = answer(student, 0, _option(single, "6月26日"))
    assert reply == {"ok": True}  # no mark, no key before the host closes the quiz
    drugs = [_option(multiple, text) for text in ("海洛因", "冰毒", "摇头丸")]
    assert answer(student, 1, drugs)["ok"]
    assert answer(student, 2, False)["ok"]
    assert answer(student, 2, True)["ok"] is False  # once per question
    assert answer(parent, 0, _option(single, "12月1日"))["ok"]
    assert answer(parent, 2, "maybe")["ok"] is False  # not an answer to a true/false question
    assert student.call("quiz_result", {"quiz_id": quiz_id})["ok"] is False  # not yet

    summary = parent.wait_for(
        lambda: [s for s in parent.got("quiz_summary") if s["people"] == 2], "the quiz summary"
    )[-1]
    assert [q["answered"] for q in summary["questions"]] == [2, 1, 1]
    tally = expert.wait_for(
        lambda: [s for s in expert.got("quiz_tally") if s["people"] == 2], "the hosts' tally"
    )[-1]
    assert [q["correct"] for q in tally["questions"]] == [1, 1, 1]
    # nothing the audience received while the quiz was open tells the answers
    for peer in (student, parent):
        for name in ("quiz", "quiz_summary", "quiz_tally"):
            for data in peer.got(name):
                assert not any(secret in json.dumps(data) for secret in SECRETS), (name, data)

    # a page that reconnects gets the open quiz and what it already answered
    again = peers(live_url).connect(token=token("student1"))
    rejoined = again.call("join", {"lecture_id": lecture_id})
    assert rejoined["quiz"]["id"] == quiz_id and rejoined["quiz"]["answered"] == [0, 1, 2]

    assert expert.call("quiz_end", {"quiz_id": quiz_id})["ok"]
    final = student.wait_for(
        lambda: [s for s in student.got("quiz_summary") if not s["is_open"]], "the final summary"
    )[-1]
    assert final["questions"][0]["key"] == _option(single, "6月26日")
    assert sorted(final["questions"][1]["key"]) == sorted(drugs)
    assert final["questions"][2]["key"] is False
    assert [q["correct"] for q in final["questions"]] == [1, 1, 1]
    result = student.call("quiz_result", {"quiz_id": quiz_id})["result"]
    assert result["score"] == pytest.approx(3.0) and result["max"] == 3
    assert parent.call("quiz_result", {"quiz_id": quiz_id})["result"]["score"] == pytest.approx(0)
    assert answer(parent, 1, drugs)["ok"] is False  # closed


def test_quiz_summaries_go_out_at_most_once_a_second(live_url, token, peers):
    county = unit_id(live_url, token("pref_admin"), ["C01"])
    lecture_id = create_lecture(live_url, token("expert1"), [{"unit_id": county}])
    questions = _api_questions(live_url, token("expert1"))
    expert = peers(live_url).connect(token=token("expert1"))
    assert expert.call("join", {"lecture_id": lecture_id})["ok"]
    # grade 6 pupils: other tests revoke some grade 5 pupils' logins (the token cache is shared)
    students = [peers(live_url).connect(token=token(f"s_S0101_6_{n:02d}")) for n in range(11, 17)]
    for peer in students:
        assert peer.call("join", {"lecture_id": lecture_id})["ok"]
    started = expert.call("quiz_start", {"question_ids": [questions[TRUE_FALSE]["id"]]})
    quiz_id = started["quiz"]["id"]
    began = time.monotonic()
    for peer in students:
        peer.emit("quiz_answer", {"quiz_id": quiz_id, "position": 0, "answer": False})
    expert.wait_for(
        lambda: [s for s in expert.got("quiz_summary") if s["people"] == len(students)],
        "the summary with every answer",
    )
    elapsed = time.monotonic() - began
    sent = [s for s in expert.got("quiz_summary") if s["id"] == quiz_id]
    # the one after quiz_start, then at most one per second while the answers arrive
    assert len(sent) <= 2 + int(elapsed), (len(sent), elapsed)
