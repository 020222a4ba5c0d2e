"""The /live Socket.IO namespace against a real server (and two, for scale-out), with the
python-socketio client: authentication, audience, host-only events, moderation, reconnect replay,
rate limits, logout and ban disconnects, and broadcast across processes through Redis.
"""

from __future__ import annotations

import psycopg
import pytest
import requests
import socketio

from tests.live.conftest import (
    browser_session,
    cookie_header,
    create_lecture,
    unit_id,
)

OTHER_COUNTY_STUDENT = "s_S0201_5_01"


@pytest.fixture
def county_lecture(live_url, token) -> int:
    """A fresh lecture by expert1 for the demo county C01."""
    county = unit_id(live_url, token("pref_admin"), ["C01"])
    return create_lecture(live_url, token("expert1"), [{"unit_id": county}])


def _joined(peer, lecture_id: int, **extra):
    reply = peer.call("join", {"lecture_id": lecture_id, **extra})
    assert reply["ok"], reply
    return reply


def test_connect_refused_without_credentials(live_url, peers):
    peer = peers(live_url)
    with pytest.raises(socketio.exceptions.ConnectionError):
        peer.connect()
    assert peer.connect_error == {"message": "请先登录。"}


def test_connect_refused_with_a_bad_token(live_url, peers):
    peer = peers(live_url)
    with pytest.raises(socketio.exceptions.ConnectionError):
        peer.connect(token="not-a-token")
    assert "令牌" in str(peer.connect_error) or "token" in str(peer.connect_error).lower()


def test_cross_origin_sockets_are_refused(live_url, token, peers):
    # long-polling, so the Origin header is exactly ours (the websocket client adds its own)
    with pytest.raises(socketio.exceptions.ConnectionError):
        peers(live_url).connect(
            token=token("student1"), headers={"Origin": "http://evil.example"}, transport="polling"
        )
    peer = peers(live_url).connect(
        token=token("student1"), headers={"Origin": live_url}, transport="polling"
    )
    assert peer.client.connected


def test_page_session_cookie_connects(live_url, peers, county_lecture):
    session = browser_session(live_url, "student1")
    peer = peers(live_url).connect(headers={"Cookie": cookie_header(session)})
    reply = _joined(peer, county_lecture)
    assert reply["me"]["name"] == "王小明" and reply["is_host"] is False


def test_only_the_audience_joins(live_url, token, peers, county_lecture):
    outsider = peers(live_url).connect(token=token(OTHER_COUNTY_STUDENT))
    reply = outsider.call("join", {"lecture_id": county_lecture})
    assert reply == {"ok": False, "error": "这节直播课不存在，或不面向您。"}
    assert outsider.got("error")[-1]["event"] == "join"
    # and without joining, nothing can be said to the room
    assert outsider.call("chat", {"text": "hi"})["ok"] is False
    insider = peers(live_url).connect(token=token("student1"))
    assert _joined(insider, county_lecture)["lecture"]["id"] == county_lecture


@pytest.mark.parametrize(
    "event, data",
    [
        ("poll_start", {"question": "q", "choices": ["a", "b"]}),
        ("poll_end", {"poll_id": 1}),
        ("moderate", {"action": "chat", "enabled": False}),
        ("moderate", {"action": "slow_mode", "seconds": 30}),
        ("moderate", {"action": "delete", "message_id": 1}),
        ("go_live", {}),
        ("end", {}),
        ("room", {}),
        ("quiz_start", {"question_ids": [1]}),
        ("quiz_end", {"quiz_id": 1}),
    ],
)
def test_host_events_are_refused_for_a_student(live_url, token, peers, county_lecture, event, data):
    student = peers(live_url).connect(token=token("student1"))
    _joined(student, county_lecture)
    reply = student.call(event, data)
    assert reply["ok"] is False
    assert reply["error"] in {
        "只有主讲人和协同主持人可以这样做。",
        "没有这个投票。",
        "没有这条消息。",
        "没有这个测验。",
    }


def test_chat_question_hand_and_poll_in_one_room(live_url, token, peers, county_lecture):
    expert = peers(live_url).connect(token=token("expert1"))
    student = peers(live_url).connect(token=token("student1"))
    parent = peers(live_url).connect(token=token("parent1"))
    for peer in (expert, student, parent):
        _joined(peer, county_lecture)
    assert expert.call("go_live")["ok"]
    raw = '<img src=x onerror="alert(1)">你好'
    assert student.call("chat", {"text": raw})["ok"]
    # stored and sent raw: pages put it in with textContent, never as HTML
    said = parent.wait_for(lambda: parent.got("chat"), "the chat line")[-1]
    assert said["text"] == raw and said["author"]["name"] == "王小明"
    question = student.call("question", {"text": "毒品有哪些危害？"})["message"]
    assert parent.call("upvote", {"message_id": question["id"]})["ok"]
    assert parent.call("upvote", {"message_id": question["id"]})["ok"] is False  # once each
    expert.wait_for(lambda: any(q["upvotes"] == 1 for q in expert.got("question")), "the upvote")
    assert student.call("hand")["ok"]
    expert.wait_for(lambda: expert.got("hand"), "the raised hand")
    poll = expert.call("poll_start", {"question": "吸毒违法吗？", "choices": ["违法", "不违法"]})
    poll_id = poll["poll"]["id"]
    assert student.call("poll_answer", {"poll_id": poll_id, "choice": 0})["ok"]
    assert parent.call("poll_answer", {"poll_id": poll_id, "choice": 0})["ok"]
    assert parent.call("poll_answer", {"poll_id": poll_id, "choice": 1})["ok"] is False
    summary = student.wait_for(
        lambda: [s for s in student.got("poll_summary") if s["total"] == 2], "the poll summary"
    )[-1]
    assert summary["counts"] == [2, 0] and summary["id"] == poll_id
    # hands reach hosts only
    assert not parent.got("hand") and not student.got("hand")
    watching = expert.call("room")["watching"]
    assert watching["people"] == 3


def test_moderation(live_url, token, peers, county_lecture):
    expert = peers(live_url).connect(token=token("expert1"))
    student = peers(live_url).connect(token=token("student1"))
    _joined(expert, county_lecture)
    _joined(student, county_lecture)
    line = student.call("chat", {"text": "第一条"})["message"]
    assert expert.call("moderate", {"action": "delete", "message_id": line["id"]})["ok"]
    student.wait_for(lambda: student.got("message_deleted"), "the deletion")
    assert expert.call("moderate", {"action": "word_filter", "words": ["坏词"]})["ok"]
    assert student.call("chat", {"text": "一个坏词"})["message"]["text"] == "一个**"
    assert expert.call("moderate", {"action": "chat", "enabled": False})["ok"]
    assert student.call("chat", {"text": "x"}) == {"ok": False, "error": "聊天已关闭。"}
    assert expert.call("moderate", {"action": "chat", "enabled": True})["ok"]
    me = student.call("join", {"lecture_id": county_lecture})["me"]["id"]
    assert expert.call("moderate", {"action": "mute", "user_id": me})["ok"]
    assert student.call("chat", {"text": "x"}) == {
        "ok": False,
        "error": "您在本节直播课中已被禁言。",
    }


def test_ban_disconnects_at_once(live_url, token, peers, county_lecture):
    expert = peers(live_url).connect(token=token("expert1"))
    student = peers(live_url).connect(token=token("student1"))
    _joined(expert, county_lecture)
    me = _joined(student, county_lecture)["me"]["id"]
    assert expert.call("moderate", {"action": "ban", "user_id": me})["ok"]
    student.wait_for(lambda: student.disconnected, "the banned student's disconnect")
    assert student.got("kicked")[-1]["message"] == "您已被移出本节直播课。"
    again = peers(live_url).connect(token=token("student1"))
    assert again.call("join", {"lecture_id": county_lecture})["error"] == "您已被移出本节直播课。"


def test_logout_disconnects_that_sessions_sockets(live_url, peers, county_lecture):
    session = browser_session(live_url, "teacher1")
    peer = peers(live_url).connect(headers={"Cookie": cookie_header(session)})
    _joined(peer, county_lecture)
    page = session.get(f"{live_url}/", timeout=10).text
    csrf = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    response = session.post(f"{live_url}/logout", data={"csrf_token": csrf}, timeout=10)
    assert response.status_code == 200
    peer.wait_for(lambda: peer.disconnected, "the disconnect after logout")
    assert peer.got("kicked")[-1]["message"] == "您已退出登录。"


def test_reconnect_replays_what_was_missed_and_the_current_poll(
    live_url, token, peers, county_lecture
):
    expert = peers(live_url).connect(token=token("expert1"))
    _joined(expert, county_lecture)
    student = peers(live_url).connect(token=token("student1"))
    _joined(student, county_lecture)
    seen = student.call("chat", {"text": "我来了"})["message"]["id"]
    student.close()
    missed = [
        expert.call("chat", {"text": "你错过的第一条"})["message"]["id"],
        expert.call("question", {"text": "你错过的提问"})["message"]["id"],
    ]
    poll_id = expert.call("poll_start", {"question": "还在吗？", "choices": ["在", "不在"]})[
        "poll"
    ]["id"]
    back = peers(live_url).connect(token=token("student1"))
    reply = _joined(back, county_lecture, last_seen_id=seen)
    chat_and_questions = [m["id"] for m in reply["messages"] if m["kind"] in {"chat", "question"}]
    assert chat_and_questions == missed
    assert reply["poll"]["id"] == poll_id and reply["poll"]["is_open"] is True


def test_rate_limit(live_url, token, peers, county_lecture):
    student = peers(live_url).connect(token=token("parent1"))
    _joined(student, county_lecture)
    replies = [student.call("chat", {"text": f"刷屏 {n}"}) for n in range(12)]
    refused = [r for r in replies if not r["ok"]]
    assert refused, "12 messages in a row must hit the limit (1 a second, bursts of 5)"
    assert refused[0]["error"] == "发送太快了，请稍等片刻。"
    assert sum(r["ok"] for r in replies) >= 5


def test_message_size_limit(live_url, token, peers, county_lecture):
    student = peers(live_url).connect(token=token("student1"))
    _joined(student, county_lecture)
    reply = student.call("chat", {"text": "长" * 501})
    assert reply == {"ok": False, "error": "消息太长（最多 500 个字）。"}


def test_attendance_is_counted_from_the_connection(live_url, token, peers, county_lecture):
    headers = {"Authorization": f"Bearer {token('expert1')}"}
    url = f"{live_url}/api/v1/lectures/{county_lecture}/attendance"

    def row() -> dict:
        report = requests.get(url, headers=headers, timeout=10).json()
        return next(r for r in report["rows"] if r["user"]["name"] == "王小明")

    student = peers(live_url).connect(token=token("student1"))
    _joined(student, county_lecture)
    assert row()["watching_now"] is True and row()["class_screen"] is False
    student.close()
    # The server learns of the disconnect a moment after the client closes; wait for it.
    student.wait_for(lambda: row()["watching_now"] is False, "the disconnect to end watching")
    denied = requests.get(url, headers={"Authorization": f"Bearer {token('student1')}"}, timeout=10)
    assert denied.status_code == 404


def test_a_joined_socket_s_interval_names_its_beating_process(
    live_url, e2e_env, token, peers, county_lecture
):
    """The web process that holds the socket is named on its attendance interval and beats, so
    the sweep can close the interval if that process is killed (live.service.processes)."""
    student = peers(live_url).connect(token=token("student1"))
    _joined(student, county_lecture)
    served = requests.get(f"{live_url}/healthz", timeout=10).json()["process"]  # host:pid
    database = e2e_env["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(database, autocommit=True) as conn:
        process, beat_ago = conn.execute(
            "SELECT i.process, extract(epoch FROM now() - p.beat_at)"
            " FROM lecture_attendance_intervals i"
            " JOIN lecture_attendances a ON a.id = i.attendance_id"
            " JOIN live_web_processes p ON p.id = i.process"
            " WHERE a.lecture_id = %s AND i.sid = %s",
            (county_lecture, student.client.get_sid("/live")),
        ).fetchone()
    assert process.rsplit(":", 1)[0] == served
    assert beat_ago < 60


def test_two_processes_share_rooms_through_redis(
    live_url, second_live_url, token, peers, county_lecture
):
    expert = peers(live_url).connect(token=token("expert1"))
    near = peers(live_url).connect(token=token("student1"))
    far = [
        peers(second_live_url).connect(token=token("parent1")),
        peers(second_live_url).connect(token=token("teacher1")),
    ]
    for peer in (expert, near, *far):
        _joined(peer, county_lecture)
    assert far[0].call("chat", {"text": "来自第二个进程"})["ok"]
    for peer in (expert, near, far[1]):
        peer.wait_for(
            lambda p=peer: any(m["text"] == "来自第二个进程" for m in p.got("chat")), "the chat"
        )
    poll_id = expert.call("poll_start", {"question": "跨进程？", "choices": ["是", "否"]})["poll"][
        "id"
    ]
    assert far[1].call("poll_answer", {"poll_id": poll_id, "choice": 1})["ok"]
    assert near.call("poll_answer", {"poll_id": poll_id, "choice": 0})["ok"]
    for peer in (expert, near, *far):
        peer.wait_for(
            lambda p=peer: any(
                s["id"] == poll_id and s["counts"] == [1, 1] for s in p.got("poll_summary")
            ),
            "the poll summary",
        )
    # a ban issued on process 1 closes a socket held by process 2
    me = far[0].call("join", {"lecture_id": county_lecture})["me"]["id"]
    assert expert.call("moderate", {"action": "ban", "user_id": me})["ok"]
    far[0].wait_for(lambda: far[0].disconnected, "the cross-process disconnect")


def test_logout_on_one_process_closes_the_socket_on_another(
    live_url, second_live_url, peers, county_lecture
):
    session = browser_session(live_url, "school_admin")
    peer = peers(second_live_url).connect(headers={"Cookie": cookie_header(session)})
    _joined(peer, county_lecture)
    page = session.get(f"{live_url}/", timeout=10).text
    csrf = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    assert session.post(f"{live_url}/logout", data={"csrf_token": csrf}, timeout=10).ok
    peer.wait_for(lambda: peer.disconnected, "the disconnect after logout on the other process")


def test_class_screen_counts_its_headcount(live_url, token, peers, county_lecture):
    klass = unit_id(live_url, token("pref_admin"), ["C01", "S0101", "G5", "5-1"])
    expert = peers(live_url).connect(token=token("expert1"))
    _joined(expert, county_lecture)
    screen = peers(live_url).connect(token=token("teacher1"))
    refused = screen.call(
        "join", {"lecture_id": county_lecture, "class_screen": {"class_id": klass, "headcount": 0}}
    )
    assert refused["ok"] is False and "1 到 500" in refused["error"]
    _joined(screen, county_lecture, class_screen={"class_id": klass, "headcount": 42})
    student = peers(live_url).connect(token=token("student1"))
    refused = student.call(
        "join", {"lecture_id": county_lecture, "class_screen": {"class_id": klass, "headcount": 40}}
    )
    assert refused == {"ok": False, "error": "只有本班教师才能开启班级大屏。"}
    # the expert's own connection and the class screen's 42 pupils
    assert expert.call("room")["watching"] == {"screens": 2, "people": 43}
    headers = {"Authorization": f"Bearer {token('school_admin')}"}
    report = requests.get(
        f"{live_url}/api/v1/lectures/{county_lecture}/attendance", headers=headers, timeout=10
    ).json()
    assert report["class_screens"] == 1 and report["class_headcount"] == 42


def test_a_password_reset_closes_the_users_sockets(live_url, token, peers, county_lecture):
    """A password reset revokes every session and token and closes the open sockets at once."""
    peer = peers(live_url).connect(token=token("s_S0101_5_03"))
    me = _joined(peer, county_lecture)["me"]["id"]
    admin = browser_session(live_url, "school_admin")
    page = admin.get(f"{live_url}/admin/users/{me}", timeout=10).text
    csrf = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    response = admin.post(
        f"{live_url}/admin/users/{me}/reset-password", data={"csrf_token": csrf}, timeout=10
    )
    assert response.status_code == 200 and "账号单" in response.text
    peer.wait_for(lambda: peer.disconnected, "the disconnect of a revoked login")
    assert peer.got("kicked")[-1]["message"] == "您的密码已修改，请重新登录。"
