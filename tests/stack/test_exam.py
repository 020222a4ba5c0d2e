"""An exam through nginx and the API process: a student with a bearer token starts the demo
quiz, saves answers (the autosave lane), submits and gets the score; nginx's log shows that the
API process, not a Socket.IO process, answered each request."""

from __future__ import annotations

import http.client
import json

import requests

from tests.stack.conftest import parent_pid, served_by

QUIZ_TITLE = "禁毒知识小测验"
#: answers to the demo quiz's questions a student would get right, by type and stem
TRUE_FALSE = {"吸毒一次不会成瘾": False, "新型毒品常常伪装成": True}
SINGLE_CHOICE = {"国际禁毒日": "6月26日", "陌生人递来": "礼貌拒绝并离开"}


def _answer(question: dict) -> object | None:
    stem = question["stem"]
    if question["type"] == "true_false":
        return next((value for start, value in TRUE_FALSE.items() if start in stem), None)
    if question["type"] == "single_choice":
        wanted = next((text for start, text in SINGLE_CHOICE.items() if start in stem), None)
        return next((o["id"] for o in question["options"] if o["text"] == wanted), None)
    if question["type"] == "fill_blank":
        return ["吸"]
    return None


def test_an_exam_through_nginx_is_served_by_the_api_process(stack, token):
    headers = {"Authorization": f"Bearer {token('student1')}"}
    quizzes = requests.get(f"{stack.url}/api/v1/quizzes", headers=headers, timeout=30).json()
    quiz_id = next(q["id"] for q in quizzes if q["title"] == QUIZ_TITLE)
    started = requests.post(
        f"{stack.url}/api/v1/quizzes/{quiz_id}/attempts", headers=headers, timeout=30
    )
    assert started.status_code == 201, started.text
    attempt = started.json()
    attempt_id = attempt["attempt_id"]
    answered = {}
    for question in attempt["questions"]:
        answer = _answer(question)
        if answer is None:
            continue
        saved = requests.put(
            f"{stack.url}/api/v1/attempts/{attempt_id}/answers/{question['id']}",
            json={"answer": answer, "seq": 1},
            headers=headers,
            timeout=30,
        )
        assert saved.status_code == 200, saved.text
        answered[question["id"]] = answer
    assert len(answered) == 5, [q["stem"] for q in attempt["questions"]]

    submitted = requests.post(
        f"{stack.url}/api/v1/attempts/{attempt_id}/submit", headers=headers, timeout=30
    )
    assert submitted.status_code == 200, submitted.text
    result = submitted.json()
    assert result["state"] == "finished", result
    credited = {item["id"]: item for item in result["review"] if item["id"] in answered}
    # every answer the student saved through nginx is the one graded, and it was right
    assert {qid: item["your_answer"] for qid, item in credited.items()} == answered
    assert all(item["fraction"] == 1.0 for item in credited.values()), credited
    assert result["score"] == sum(item["mark"] for item in credited.values()) > 0

    # each request of the exam was answered by the API process (nginx's log), by a worker of
    # it (/healthz through nginx names the process)
    logged = served_by(
        stack, f"/api/v1/attempts/{attempt_id}/", status=200, at_least=len(answered) + 1
    )
    assert len(logged) == len(answered) + 1
    assert {record.upstream_ports for record in logged} == {(stack.ports.api,)}
    health = requests.get(f"{stack.url}/healthz", timeout=10).json()
    assert parent_pid(int(health["process"].rsplit(":", 1)[1])) == stack.process("api").pid


def _sign_in_from(stack, address: str, password: str) -> int:
    """POST /api/v1/auth/token for school_admin from a client at ``address`` (127.0.0.x)."""
    host, port = stack.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(
        host, int(port), timeout=30, source_address=(address, 0)
    )
    try:
        body = json.dumps({"username": "school_admin", "password": password})
        connection.request("POST", "/api/v1/auth/token", body, {"Content-Type": "application/json"})
        return connection.getresponse().status
    finally:
        connection.close()


def test_wrong_passwords_from_one_address_do_not_lock_out_another_behind_nginx(stack):
    """The app sees each client's address (nginx's X-Forwarded-For, ELEARN_PROXY_HOPS), not
    nginx's: one school lab typing wrong passwords waits; another school signs in."""
    statuses = [_sign_in_from(stack, "127.0.0.2", "wrong-password") for _ in range(6)]
    assert statuses[:5] == [401] * 5 and statuses[5] == 429
    assert _sign_in_from(stack, "127.0.0.2", "demo1234") == 429
    assert _sign_in_from(stack, "127.0.0.3", "demo1234") == 200
