"""/live sockets and the account rules: a must-change account is refused, and a password change
closes every other socket of that user (the changing session's stay)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable

import psycopg
import pytest
import requests
import socketio
from werkzeug.security import generate_password_hash

from tests.live.conftest import cookie_header, create_lecture, unit_id

PASSWORD = "socket-pw-1234"
CSRF_RE = re.compile(r'name="csrf-token" content="([^"]+)"')


@pytest.fixture
def new_user(e2e_env: dict[str, str], live_url: str, token) -> Callable[..., str]:
    """``new_user(must_change=…)`` → the username of a fresh student of 示范市第一小学 五年级1班,
    written straight into the server's database (the demo accounts are shared by other tests)."""
    url = e2e_env["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
    klass = unit_id(live_url, token("pref_admin"), ["C01", "S0101", "G5", "5-1"])
    made: list[int] = []

    def make(*, must_change: bool = False) -> str:
        username = f"sock-{os.getpid()}-{len(made)}-{os.urandom(3).hex()}"
        with psycopg.connect(url, autocommit=True) as conn:
            user_id = conn.execute(
                "INSERT INTO users (username, display_name, password_hash, is_active_account,"
                " must_change_password, failed_login_count, created_at)"
                " VALUES (%s, %s, %s, true, %s, 0, now()) RETURNING id",
                (username, "测试学生", generate_password_hash(PASSWORD), must_change),
            ).fetchone()[0]
            conn.execute(
                "INSERT INTO role_assignments (user_id, role, unit_id, created_at)"
                " VALUES (%s, 'student', %s, now())",
                (user_id, klass),
            )
        made.append(user_id)
        return username

    yield make
    with psycopg.connect(url, autocommit=True) as conn:
        for user_id in made:
            conn.execute("DELETE FROM users WHERE id = %s", (user_id,))


def sign_in(base_url: str, username: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base_url}/login", timeout=10).text
    response = session.post(
        f"{base_url}/login",
        data={"login": username, "password": PASSWORD, "csrf_token": CSRF_RE.search(page).group(1)},
        allow_redirects=False,
        timeout=30,
    )
    assert response.status_code == 302, response.text[:300]
    return session


def api_token(base_url: str, username: str) -> dict:
    response = requests.post(
        f"{base_url}/api/v1/auth/token",
        json={"username": username, "password": PASSWORD},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def county_lecture(live_url, token) -> int:
    county = unit_id(live_url, token("pref_admin"), ["C01"])
    return create_lecture(live_url, token("expert1"), [{"unit_id": county}])


def test_a_must_change_account_is_refused_a_socket(live_url, peers, new_user):
    username = new_user(must_change=True)
    by_token = peers(live_url)
    with pytest.raises(socketio.exceptions.ConnectionError):
        by_token.connect(token=api_token(live_url, username)["token"])
    assert "修改密码" in by_token.connect_error["message"]
    session = sign_in(live_url, username)  # signed in, but held at the password form
    by_cookie = peers(live_url)
    with pytest.raises(socketio.exceptions.ConnectionError):
        by_cookie.connect(headers={"Cookie": cookie_header(session)})
    assert "修改密码" in by_cookie.connect_error["message"]


def test_a_password_change_closes_every_other_socket_of_the_user(
    live_url, peers, new_user, county_lecture
):
    username = new_user()
    here, elsewhere = sign_in(live_url, username), sign_in(live_url, username)
    phone_token = api_token(live_url, username)["token"]
    mine = peers(live_url).connect(headers={"Cookie": cookie_header(here)})
    other_tab = peers(live_url).connect(headers={"Cookie": cookie_header(elsewhere)})
    phone = peers(live_url).connect(token=phone_token)
    for peer in (mine, other_tab, phone):
        assert peer.call("join", {"lecture_id": county_lecture})["ok"]
    page = here.get(f"{live_url}/account/password", timeout=10).text
    changed = here.post(
        f"{live_url}/account/password",
        data={
            "csrf_token": CSRF_RE.search(page).group(1),
            "current_password": PASSWORD,
            "new_password": "socket-pw-5678",
        },
        allow_redirects=False,
        timeout=30,
    )
    assert changed.status_code == 302
    for peer in (other_tab, phone):
        peer.wait_for(lambda peer=peer: peer.disconnected, "the other sockets to close")
        assert peer.got("kicked")[-1]["message"] == "您的密码已修改，请重新登录。"
    # the socket of the session that changed it goes on
    assert mine.client.connected and not mine.got("kicked")
    assert mine.call("chat", {"text": "还在"})["ok"]
