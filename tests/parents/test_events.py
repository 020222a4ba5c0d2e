"""The /messages Socket.IO namespace against real servers (gunicorn + gevent, Redis queue): who
hears of a message, sign-in by token or page cookie, a unit of work per event, and two web
processes sharing the rooms through Redis."""

from __future__ import annotations

import re

import pytest
import requests
import socketio

from tests.parents.conftest import NAMESPACE, PASSWORD, WAIT, Api

CSRF_RE = re.compile(r'name="csrf-token" content="([^"]+)"')


def cookie_of(base_url: str, username: str) -> str:
    """The Cookie header of a page's session, signed in through the login form."""
    return "; ".join(f"{c.name}={c.value}" for c in signed_in(base_url, username).cookies)


def signed_in(base_url: str, username: str) -> requests.Session:
    """A page's session, signed in through the login form."""
    session = requests.Session()
    page = session.get(f"{base_url}/login", timeout=10).text
    token = CSRF_RE.search(page).group(1)  # type: ignore[union-attr]  # the login page has one
    response = session.post(
        f"{base_url}/login",
        data={"login": username, "password": PASSWORD, "csrf_token": token},
        allow_redirects=False,
        timeout=30,
    )
    assert response.status_code == 302, response.text[:300]
    return session


def conversation(api: Api, other: Api) -> int:
    response = api.call("POST", "/conversations", {"participant_ids": [other.me()]})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_a_message_reaches_every_participants_sockets(live_url, peers):
    teacher, parent = Api(live_url, "teacher1"), Api(live_url, "parent1")
    conversation_id = conversation(teacher, parent)
    teacher_socket = peers(live_url).connect(token=teacher.token)
    # parent1 twice: a phone with a token, and a page with its session cookie
    parent_phone = peers(live_url).connect(token=parent.token)
    parent_page = peers(live_url).connect(headers={"Cookie": cookie_of(live_url, "parent1")})

    ack = teacher_socket.call("send", {"conversation_id": conversation_id, "text": "明天家长会"})
    assert ack["ok"] is True and ack["status"] == "delivered", ack
    for peer in (teacher_socket, parent_phone, parent_page):
        event = peer.wait_for_message(ack["id"])
        assert event["conversation_id"] == conversation_id
        assert event["message"]["text"] == "明天家长会"
        assert event["message"]["sender_name"] == "李老师"

    # a read receipt reaches the other side
    read = parent_phone.call("read", {"message_id": ack["id"]})
    assert read["ok"] is True and read["last_read_message_id"] >= ack["id"]
    teacher_socket.wait_for(
        lambda: any(
            name == "read" and data["message_id"] == ack["id"]
            for name, data in teacher_socket.events
        ),
        "the read receipt",
    )

    # a message sent over HTTP is heard the same way (emitted after the request commits)
    sent = parent.call("POST", f"/conversations/{conversation_id}/messages", {"text": "收到"})
    assert sent.status_code == 201
    teacher_socket.wait_for_message(sent.json()["id"])


def test_a_held_message_reaches_nobody_but_its_sender_and_the_reviewer(live_url, peers):
    teacher, parent = Api(live_url, "teacher1"), Api(live_url, "parent1")
    admin = Api(live_url, "school_admin")
    conversation_id = conversation(parent, teacher)
    teacher_socket = peers(live_url).connect(token=teacher.token)
    parent_socket = peers(live_url).connect(token=parent.token)
    admin_socket = peers(live_url).connect(token=admin.token)

    held = parent_socket.call("send", {"conversation_id": conversation_id, "text": "有冰毒要吗"})
    assert held["ok"] is True and held["status"] == "held", held
    parent_socket.wait_for_message(held["id"])
    admin_socket.wait_for_message(held["id"])
    # a delivered message sent after it arrives; the held one never did
    after = parent_socket.call("send", {"conversation_id": conversation_id, "text": "老师好"})
    teacher_socket.wait_for_message(after["id"])
    assert held["id"] not in [m["message"]["id"] for m in teacher_socket.messages()]
    assert after["id"] not in [m["message"]["id"] for m in admin_socket.messages()]


def test_a_refused_event_is_rolled_back_and_emits_nothing(live_url, peers):
    teacher, parent = Api(live_url, "teacher1"), Api(live_url, "parent1")
    conversation_id = conversation(teacher, parent)
    teacher_socket = peers(live_url).connect(token=teacher.token)
    parent_socket = peers(live_url).connect(token=parent.token)
    too_long = teacher_socket.call(
        "send", {"conversation_id": conversation_id, "text": "字" * 2001}
    )
    assert too_long["ok"] is False and "2000" in too_long["error"]
    stranger = Api(live_url, "t_S0102_7")
    outsider = peers(live_url).connect(token=stranger.token)
    refused = outsider.call("send", {"conversation_id": conversation_id, "text": "你好"})
    assert refused["ok"] is False and refused["error"]
    assert outsider.call("send", {"conversation_id": "x", "text": "你好"})["ok"] is False
    ok = teacher_socket.call("send", {"conversation_id": conversation_id, "text": "好"})
    parent_socket.wait_for_message(ok["id"])
    listed = parent.call("GET", f"/conversations/{conversation_id}/messages").json()["items"]
    assert "字" * 2001 not in [m["text"] for m in listed]
    assert all(m["message"]["text"] != "你好" for m in parent_socket.messages())


def test_a_socket_without_sign_in_is_refused(live_url):
    client = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(
            live_url, namespaces=[NAMESPACE], transports=["websocket"], wait_timeout=WAIT
        )
    client = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(
            live_url,
            namespaces=[NAMESPACE],
            auth={"token": "not-a-token"},
            transports=["websocket"],
            wait_timeout=WAIT,
        )


def test_two_web_processes_share_the_rooms_through_redis(live_url, second_live_url, peers):
    teacher, parent = Api(live_url, "teacher1"), Api(live_url, "parent1")
    conversation_id = conversation(teacher, parent)
    # the parent's socket on the second process; the teacher writes through the first
    parent_socket = peers(second_live_url).connect(token=parent.token)
    teacher_socket = peers(live_url).connect(token=teacher.token)
    ack = teacher_socket.call("send", {"conversation_id": conversation_id, "text": "两个进程"})
    assert ack["ok"] is True
    assert parent_socket.wait_for_message(ack["id"])["message"]["text"] == "两个进程"
    sent = teacher.call("POST", f"/conversations/{conversation_id}/messages", {"text": "HTTP"})
    parent_socket.wait_for_message(sent.json()["id"])


def test_a_delivery_receipt_crosses_processes_and_never_passes_what_was_sent(
    live_url, second_live_url, peers
):
    teacher, parent = Api(live_url, "teacher1"), Api(live_url, "parent1")
    conversation_id = conversation(teacher, parent)
    teacher_socket = peers(live_url).connect(token=teacher.token)
    parent_socket = peers(second_live_url).connect(token=parent.token)
    ack = teacher_socket.call("send", {"conversation_id": conversation_id, "text": "收到请回复"})
    parent_socket.wait_for_message(ack["id"])
    got = parent_socket.call(
        "delivered", {"conversation_id": conversation_id, "message_id": ack["id"] + 10**6}
    )
    assert got == {"ok": True, "last_delivered_message_id": ack["id"]}
    receipt = teacher_socket.wait_for(
        lambda: next((d for n, d in teacher_socket.events if n == "delivered"), None),
        "the delivery receipt",
    )
    assert receipt["message_id"] == ack["id"] and receipt["user_id"] == parent.me()
    members = {
        m["id"]: m
        for c in teacher.call("GET", "/conversations").json()["items"]
        if c["id"] == conversation_id
        for m in c["members"]
    }
    assert members[parent.me()]["last_delivered_message_id"] == ack["id"]
    # not a member: refused, nothing emitted
    stranger = peers(live_url).connect(token=Api(live_url, "student1").token)
    refused = stranger.call("delivered", {"conversation_id": conversation_id, "message_id": 1})
    assert refused["ok"] is False


def test_logout_on_one_process_closes_that_sessions_sockets_on_another(
    live_url, second_live_url, peers
):
    session = signed_in(live_url, "parent1")
    cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
    page_socket = peers(second_live_url).connect(headers={"Cookie": cookie})
    phone = peers(second_live_url).connect(token=Api(live_url, "parent1").token)
    page = session.get(f"{live_url}/", timeout=10).text
    csrf = CSRF_RE.search(page).group(1)  # type: ignore[union-attr]  # every page has one
    assert session.post(f"{live_url}/logout", data={"csrf_token": csrf}, timeout=10).ok
    page_socket.wait_for(lambda: page_socket.disconnected, "the disconnect after logout")
    assert [d for n, d in page_socket.events if n == "signed_out"][-1][
        "message"
    ] == "您已退出登录。"
    # the phone signed in with its own token: it stays
    assert phone.client.connected and not phone.disconnected


def test_an_attachment_sent_over_the_socket_reaches_the_members(live_url, peers, e2e_worker,
                                                                tmp_path):  # fmt: skip
    """A picture uploaded through media's API as an attachment (bearer token, as the phone app
    does), processed by the worker, then sent with ``send``: the members hear it with its signed
    URL; someone else's upload is refused over the socket and nothing is sent."""
    import subprocess
    import time

    teacher, parent = Api(live_url, "teacher1"), Api(live_url, "parent1")
    conversation_id = conversation(teacher, parent)
    picture = tmp_path / "作业.png"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x240",
         "-frames:v", "1", str(picture)],
        check=True, timeout=60,
    )  # fmt: skip
    data = picture.read_bytes()
    made = parent.call("POST", "/media/uploads", {"filename": picture.name, "size": len(data),
                       "content_type": "image/png", "purpose": "attachment"})  # fmt: skip
    assert made.status_code == 201, made.text
    asset_id, plan = made.json()["asset_id"], made.json()["upload"]
    for part in plan["parts"]:
        url = part["url"] if part["url"].startswith("http") else live_url + part["url"]
        sent = requests.put(url, data=data[part["offset"] : part["offset"] + part["size"]],
                            headers=plan["headers"], timeout=30)  # fmt: skip
        assert sent.status_code == 200, sent.text
    assert parent.call("POST", f"/media/uploads/{asset_id}/complete").status_code == 202
    deadline = time.monotonic() + 120
    while parent.call("GET", f"/media/assets/{asset_id}").json()["status"] != "ready":
        assert time.monotonic() < deadline, "the worker did not process the picture"
        time.sleep(0.3)

    teacher_socket = peers(live_url).connect(token=teacher.token)
    parent_socket = peers(live_url).connect(token=parent.token)
    theirs = teacher_socket.call("send", {"conversation_id": conversation_id, "asset_id": asset_id})
    assert theirs["ok"] is False and theirs["error"], theirs
    ack = parent_socket.call("send", {"conversation_id": conversation_id, "asset_id": asset_id})
    assert ack["ok"] is True and ack["status"] == "delivered", ack
    event = teacher_socket.wait_for_message(ack["id"])
    shown = event["message"]["attachment"]
    assert shown["kind"] == "image" and shown["name"] == "作业.png"
    image = requests.get(shown["url"] if shown["url"].startswith("http") else live_url + shown["url"],
                         timeout=30)  # fmt: skip
    assert image.status_code == 200 and image.headers["Content-Type"].startswith("image/")
    assert not [m for m in teacher_socket.messages() if m["message"]["id"] != ack["id"]]
