"""PostgreSQL restarted mid-exam: nothing acknowledged is lost, and the attempt page carries on.

On a cluster of the drill's own, the demo installation runs as production runs it (gunicorn with
gevent, the exam lanes on). A student with a bearer token starts the demo quiz and saves an
answer; the cluster is shut down fast (connections cut, as a restart or a failover does it).
During the outage a save is answered 503 with ``Retry-After`` and a message in the user's
language, and so is a page, rendered without the database. The cluster comes back; the refused
save is sent again, as the attempt page does, until it is acknowledged (the first tries may meet
the pool's dead connections); the exam is submitted and graded with every acknowledged answer.
In a browser, the attempt page says it is offline while the database is down, saves by itself
once it is back, and submits.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
import requests

from tests.drills.cluster import Cluster, demo_installation, own_cluster
from tests.e2e import conftest as e2e
from tests.e2e.test_quiz_attempt import answer_current, wait_saved

e2e_artifacts = e2e.e2e_artifacts
browser = e2e.browser
shot = e2e.shot

DATABASE = "elearn_pg_drill"
QUIZ_TITLE = "禁毒知识小测验"
OFFLINE = "网络已断开"


@pytest.fixture(scope="module")
def exam_server(e2e_artifacts, tmp_path_factory) -> Iterator[tuple[Cluster, str]]:
    with own_cluster() as cluster:
        env = demo_installation(cluster, DATABASE, tmp_path_factory.mktemp("media"))
        with e2e.web_process(env, e2e_artifacts, "pg-drill") as url:
            yield cluster, url


def _slot_seqs(cluster: Cluster, attempt_id: int) -> dict[int, int]:
    with psycopg.connect(f"{cluster.url}/{DATABASE}", autocommit=True) as connection:
        rows = connection.execute(
            "SELECT question_id, seq FROM quiz_attempt_slots WHERE attempt_id = %s",
            (attempt_id,),
        ).fetchall()
    return {question_id: seq for question_id, seq in rows}


def _until(check: Callable[[], Any], seconds: float, what: str) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        outcome = check()
        if outcome:
            return outcome
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {seconds:.0f} s", pytrace=False)
        time.sleep(0.5)


def _save(url: str, headers: dict[str, str], attempt_id: int, question: dict, seq: int):
    answer: Any = ["吸"] if question["type"] == "fill_blank" else None
    if question["type"] in {"single_choice", "multiple_choice"}:
        option = question["options"][0]["id"]
        answer = option if question["type"] == "single_choice" else [option]
    if question["type"] == "true_false":
        answer = True
    return requests.put(
        f"{url}/api/v1/attempts/{attempt_id}/answers/{question['id']}",
        json={"answer": answer, "seq": seq},
        headers=headers,
        timeout=30,
    )


def test_saves_during_an_outage_are_503_retry_after_and_nothing_acknowledged_is_lost(
    exam_server,
):
    cluster, url = exam_server
    signed_in = requests.post(
        f"{url}/api/v1/auth/token",
        json={"username": "student1", "password": e2e.DEMO_PASSWORD},
        timeout=30,
    )
    assert signed_in.status_code == 200, signed_in.text
    headers = {"Authorization": f"Bearer {signed_in.json()['token']}"}
    quizzes = requests.get(f"{url}/api/v1/quizzes", headers=headers, timeout=30).json()
    quiz_id = next(q["id"] for q in quizzes if q["title"] == QUIZ_TITLE)
    started = requests.post(f"{url}/api/v1/quizzes/{quiz_id}/attempts", headers=headers, timeout=30)
    assert started.status_code == 201, started.text
    attempt_id = started.json()["attempt_id"]
    questions = [
        q
        for q in started.json()["questions"]
        if q["type"] in {"single_choice", "multiple_choice", "true_false", "fill_blank"}
    ]
    first, second = questions[:2]
    assert _save(url, headers, attempt_id, first, 1).status_code == 200

    cluster.stop()
    try:
        refused = _save(url, headers, attempt_id, second, 1)
        assert refused.status_code == 503, refused.text
        assert refused.headers["Retry-After"] == "5"
        assert refused.json()["retryable"] is True
        assert "稍后" in refused.json()["message"] or "暂时" in refused.json()["message"]
        page = requests.get(f"{url}/quizzes", headers=headers, timeout=30)
        assert page.status_code == 503 and page.headers["Retry-After"] == "5"
        assert "503" in page.text and "<html" in page.text
    finally:
        cluster.start()

    # the client sends the refused save again (same seq) until it is acknowledged: the first
    # tries may still meet connections the restart cut
    def acknowledged() -> bool:
        response = _save(url, headers, attempt_id, second, 1)
        assert response.status_code in {200, 503}, response.text
        return response.status_code == 200

    _until(acknowledged, 30, "the save after the restart")
    submitted = requests.post(
        f"{url}/api/v1/attempts/{attempt_id}/submit", headers=headers, timeout=30
    )
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["state"] == "finished"
    seqs = _slot_seqs(cluster, attempt_id)
    assert seqs[first["id"]] == 1 and seqs[second["id"]] == 1
    answered = {
        item["id"] for item in submitted.json()["review"] if item["your_answer"] is not None
    }
    assert {first["id"], second["id"]} <= answered


def test_the_attempt_page_waits_out_an_outage_and_saves_by_itself(exam_server, browser, shot):
    cluster, url = exam_server
    context = browser.new_context(base_url=url, viewport=e2e.PHONE, locale="zh-CN")
    context.set_default_timeout(e2e.WAIT_MS)
    try:
        page = context.new_page()
        page.wait_for_function = e2e._polled_from_here(page)
        e2e.sign_in(page, "student1")
        page.goto("/quizzes")
        with page.expect_navigation():
            page.locator("section.card", has_text=QUIZ_TITLE).get_by_role("button").click()
        attempt_id = int(re.search(r"/quizzes/attempts/(\d+)$", page.url)[1])
        first = answer_current(page)
        wait_saved(page)
        page.click("#next")

        cluster.stop()
        try:
            second = answer_current(page)
            page.wait_for_function(
                f"document.getElementById('save-state').textContent.includes('{OFFLINE}')",
                timeout=20_000,
            )
            assert "所有答案已保存" not in page.inner_text("#save-state")
            shot(page, "offline")
        finally:
            cluster.start()
        # Retry-After (5 s), then perhaps one more round on a connection the restart cut
        page.wait_for_function(
            "document.getElementById('save-state').textContent.includes('所有答案已保存')",
            timeout=40_000,
        )
        seqs = _slot_seqs(cluster, attempt_id)
        assert seqs[int(first)] >= 1 and seqs[int(second)] >= 1, seqs
        page.on("dialog", lambda dialog: dialog.accept())
        with page.expect_navigation():
            page.click("#submit")
        assert page.locator("#score").is_visible()
    finally:
        context.close()
