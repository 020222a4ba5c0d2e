"""A bank's questions: searched, filtered and paged; taken out of the bank and put back, with
nothing deleted and nothing a quiz or an attempt relies on lost."""

from __future__ import annotations

import random
import re
from dataclasses import replace

import pytest
from sqlalchemy import select

from elearn.extensions import db
from elearn.models import AuditEvent
from elearn.service.errors import ServiceError
from quizzes import queries, service
from quizzes.models import Question
from quizzes.service import bank as bank_service
from tests.conftest import csrf_token, unit_by_code, user
from tests.quizzes.conftest import bearer, secret_drafts


def new_bank(extra: int = 0):
    """teacher1's bank: one question of each type, and ``extra`` more single-choice ones."""
    teacher = user("teacher1")
    bank = service.create_bank(actor=teacher, name="浏览测试题库", unit=unit_by_code("S0101"))
    drafts = secret_drafts()
    for n in range(extra):
        drafts.append(
            replace(drafts[0], name=f"附加题{n:03d}", stem=f"第 {n} 题：100%_纯度？", topic="附加")
        )
    for draft in drafts:
        service.add_question(actor=teacher, bank=bank, draft=draft)
    return bank


def names(select_query) -> list[str]:
    return [q.current_version.name for q in db.session.scalars(select_query)]


def test_filters_find_words_types_and_difficulty(ctx):
    bank = new_bank(extra=3)
    assert len(names(queries.bank_questions(bank))) == 10
    assert names(queries.bank_questions(bank, text="禁毒日")) == ["禁毒日"]  # the name
    assert names(queries.bank_questions(bank, text="冰毒")) == []  # options are not searched
    assert names(queries.bank_questions(bank, text="成瘾")) == ["判断"]  # the stem
    assert names(queries.bank_questions(bank, text="毒品识别")) == ["毒品"]  # the topic
    # % and _ are letters to look for, not wildcards
    assert len(names(queries.bank_questions(bank, text="100%_"))) == 3
    assert names(queries.bank_questions(bank, text="0%x")) == []
    assert names(queries.bank_questions(bank, qtype="matching")) == ["连线"]
    assert names(queries.bank_questions(bank, difficulty=2)) == ["毒品"]
    assert queries.question_filters({"difficulty": "9", "category": "x", "q": "  "}) == {
        "text": None, "qtype": None, "category_id": None, "difficulty": None, "archived": False,
    }  # fmt: skip


def test_a_question_taken_out_is_kept_for_quizzes_and_attempts_but_not_offered(quiz_factory):
    quiz = quiz_factory(types={"true_false", "single_choice"})
    question = quiz.items[0].question
    teacher = user("teacher1")
    assert bank_service.quizzes_using(question) == 1
    assert bank_service.set_archived(actor=teacher, question=question, archived=True)
    assert not bank_service.set_archived(actor=teacher, question=question, archived=True)
    bank = question.bank
    assert question.id not in {q.id for q in db.session.scalars(queries.bank_questions(bank))}
    assert [q.id for q in db.session.scalars(queries.bank_questions(bank, archived=True))] == [
        question.id
    ]
    assert queries.question_tally(bank) == {"live": 1, "archived": 1}
    # the quiz that holds it keeps serving it; a new quiz cannot pick it; nor a quick quiz
    drawn = service.draw_questions(quiz, random.Random(1))
    assert question.id in {q.id for q, _mark in drawn}
    with pytest.raises(ServiceError):
        service.create_quiz(
            actor=teacher, unit=quiz.unit, title="x", items=[{"question_id": question.id}],
            audience=[(quiz.unit, "student")],
        )  # fmt: skip
    with pytest.raises(ServiceError):
        service.quick_questions(actor=teacher, question_ids=[question.id])
    with pytest.raises(ServiceError) as error:
        bank_service.edit_question_row(
            actor=teacher, question=question, row=bank_service.row_of(question)
        )
    assert error.value.status == 409
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.target_id == str(question.id))
    ).all()
    assert "quiz.question_archived" in actions
    bank_service.set_archived(actor=teacher, question=question, archived=False)
    assert queries.question_tally(bank) == {"live": 2, "archived": 0}


def test_only_the_banks_authors_take_questions_out(ctx):
    bank = new_bank()
    question = db.session.scalars(queries.bank_questions(bank)).first()
    for outsider in ("student1", "t_S0201_5"):
        with pytest.raises(ServiceError) as error:
            bank_service.set_archived(actor=user(outsider), question=question, archived=True)
        assert error.value.status == 403
    assert not question.is_archived


def test_bank_page_pages_searches_and_lists_what_was_taken_out(ctx, signed_in):
    bank = new_bank(extra=50)
    bank_id = bank.id
    db.session.commit()
    client = signed_in("teacher1")
    first = client.get(f"/quizzes/banks/{bank_id}").get_data(as_text=True)
    assert "57 道题" in first and first.count('class="chip">版本') == 50 and "第 1 / 2 页" in first
    second = client.get(f"/quizzes/banks/{bank_id}?page=2").get_data(as_text=True)
    assert second.count('class="chip">版本') == 7 and 'start="51"' in second
    found = client.get(f"/quizzes/banks/{bank_id}?q=附加题04&type=single_choice").get_data(
        as_text=True
    )
    assert "找到 10 道题" in found and "附加题049" in found and "附加题050" not in found
    assert "没有符合条件的题目" in client.get(f"/quizzes/banks/{bank_id}?q=不存在的字").get_data(
        as_text=True
    )

    question = db.session.scalar(select(Question).where(Question.bank_id == bank_id))
    page = f"/quizzes/questions/{question.id}"
    assert "移出题库" in client.get(page).get_data(as_text=True)
    out = client.post(
        f"{page}/archive", data={"csrf_token": csrf_token(client, page), "archived": "1"}
    )
    assert out.status_code == 302 and out.headers["Location"].endswith(f"/quizzes/banks/{bank_id}")
    listed = client.get(out.headers["Location"]).get_data(as_text=True)
    assert "题目已移出题库" in listed and "56 道题" in listed and "已移出 1 道" in listed
    archived = client.get(f"/quizzes/banks/{bank_id}?archived=1").get_data(as_text=True)
    assert "已移出题库的题目" in archived and archived.count('class="chip">版本') == 1
    shown = client.get(page).get_data(as_text=True)
    assert "放回题库" in shown and 'id="question-form"' not in shown
    back = client.post(
        f"{page}/archive", data={"csrf_token": csrf_token(client, page), "archived": "0"}
    )
    assert back.status_code == 302 and "题目已放回题库" in client.get(page).get_data(as_text=True)


def test_api_filters_takes_out_and_puts_back(client):
    bank = new_bank()
    bank_id = bank.id
    db.session.commit()
    teacher = bearer("teacher1")
    url = f"/api/v1/question-banks/{bank_id}/questions"
    (matching,) = client.get(f"{url}?type=matching", headers=teacher).get_json()
    assert matching["name"] == "连线"
    assert [q["name"] for q in client.get(f"{url}?q=禁毒日", headers=teacher).get_json()] == [
        "禁毒日"
    ]
    assert client.delete(f"/api/v1/questions/{matching['id']}", headers=teacher).status_code == 204
    assert matching["id"] not in {q["id"] for q in client.get(url, headers=teacher).get_json()}
    archived = client.get(f"{url}?archived=1", headers=teacher).get_json()
    assert [q["id"] for q in archived] == [matching["id"]]
    for outsider in ("student1", "t_S0201_5"):
        headers = bearer(outsider)
        restore = f"/api/v1/questions/{matching['id']}/restore"
        assert client.post(restore, headers=headers).status_code == 404
        assert (
            client.delete(f"/api/v1/questions/{matching['id']}", headers=headers).status_code == 404
        )
    restored = client.post(f"/api/v1/questions/{matching['id']}/restore", headers=teacher)
    assert restored.status_code == 200 and restored.get_json() == {
        "id": matching["id"], "archived": False,
    }  # fmt: skip
    assert len(client.get(url, headers=teacher).get_json()) == 7


def test_a_bank_user_who_is_not_its_author_cannot_take_questions_out(ctx, signed_in):
    from quizzes.models import QuestionBank

    demo = db.session.scalar(
        select(QuestionBank).where(QuestionBank.name == "禁毒知识题库（示范）")
    )
    question_id = db.session.scalars(queries.bank_questions(demo)).first().id
    client = signed_in("teacher1")  # uses the prefecture's demo bank, does not author it
    page = f"/quizzes/questions/{question_id}"
    assert "移出题库" not in client.get(page).get_data(as_text=True)
    refused = client.post(
        f"{page}/archive", data={"csrf_token": csrf_token(client, page), "archived": "1"}
    )
    assert refused.status_code == 404
    assert not db.session.get(Question, question_id).is_archived


def test_builder_searches_a_bank_in_pages_and_keeps_what_is_filled_in_and_picked(ctx, signed_in):
    """The builder lists a page of one bank at a time (it listed every question of every bank);
    searching and turning pages post the form, so the title and the picks stay."""
    from quizzes.models import Quiz

    bank = new_bank(extra=45)
    bank_id = bank.id
    db.session.commit()
    client = signed_in("teacher1")
    klass = next(a.unit for a in user("teacher1").roles if a.role == "teacher")
    token = csrf_token(client, "/quizzes/new")
    filled = {
        "csrf_token": token,
        "title": "分页组卷",
        "unit_id": klass.id,
        "pass_mark": 60,
        "review_policy": "immediately",
        "mode": "self_paced",
        "bank": bank_id,
    }
    first = client.post("/quizzes/new", data={**filled, "find": "1"})
    page = first.get_data(as_text=True)
    assert first.status_code == 200 and "找到 52 道题" in page and "第 1 / 3 页" in page
    assert page.count('name="question_id"') == 20 and 'value="分页组卷"' in page
    picked = [int(i) for i in re.findall(r'name="question_id" value="(\d+)"', page)[:2]]
    turned = client.post(
        "/quizzes/new", data={**filled, "page": "2", "question_id": [str(i) for i in picked]}
    ).get_data(as_text=True)
    assert "第 2 / 3 页" in turned and "已选固定题目（2）" in turned
    for question_id in picked:  # listed once, as picked, not again among the results
        assert turned.count(f'name="question_id" value="{question_id}"') == 1
    assert f'value="{picked[0]}" checked' in turned
    found = client.post(
        "/quizzes/new",
        data={**filled, "find": "1", "q": "附加题03", "question_id": [str(i) for i in picked]},
    ).get_data(as_text=True)
    assert "找到 10 道题" in found and "附加题039" in found and "附加题040" not in found
    more = int(re.findall(r'name="question_id" value="(\d+)"', found)[-1])
    created = client.post(
        "/quizzes/new",
        data={**filled, "question_id": [*map(str, picked), str(more), str(picked[0])]},
    )
    assert created.status_code == 302, created.get_data(as_text=True)[:500]
    quiz = db.session.scalar(select(Quiz).where(Quiz.title == "分页组卷"))
    assert [item.question_id for item in quiz.items] == [*picked, more]  # once each, in order
    # the builder's bank list counts in the database: every bank the teacher may use, its size
    rows = {
        row["bank"].id: row for row in queries.builder_banks(queries.banks_for(user("teacher1")))
    }
    assert rows[bank_id]["size"] == 52
