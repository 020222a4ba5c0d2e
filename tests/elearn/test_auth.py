import re

import pytest
from sqlalchemy import select

from elearn.extensions import db, limiter
from elearn.models import ApiToken, UserSession
from tests.conftest import csrf_token, login, signed_in_client, user

ERROR_RE = re.compile(r'<p class="flash error" role="alert">(.*?)</p>', re.S)


def test_login_by_username_and_logout_ends_copied_cookie(app, client):
    assert login(client, "teacher1").status_code == 302
    assert client.get("/").status_code == 200
    stolen = client.get_cookie("elearn_session").value
    token = csrf_token(client, "/")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    thief = app.test_client()
    thief.set_cookie("elearn_session", stolen)
    response = thief.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_login_by_phone_number(client):
    assert login(client, "138 0000 0001").status_code == 302  # parent1's phone


def test_wrong_password_is_401_in_chinese(client):
    response = login(client, "teacher1", "nope-nope")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)


def test_missing_csrf_token_is_400_with_message(client):
    response = client.post("/login", data={"login": "teacher1", "password": "demo1234"})
    assert response.status_code == 400
    assert "安全令牌" in response.get_data(as_text=True)


def test_cookie_flags(app, client):
    response = login(client, "teacher1")
    header = response.headers.get("Set-Cookie")
    assert "HttpOnly" in header and "SameSite=Lax" in header


def test_english_switch(client):
    client.set_cookie("lang", "en")
    assert "Sign in" in client.get("/login").get_data(as_text=True)
    client.set_cookie("lang", "zh_Hans_CN")
    assert "登录" in client.get("/login").get_data(as_text=True)


def test_change_password(as_user):
    c = as_user("teacher1")
    token = csrf_token(c, "/account/password")
    bad = c.post(
        "/account/password",
        data={"csrf_token": token, "current_password": "x", "new_password": "abcdefgh1"},
    )
    assert bad.status_code == 400
    ok = c.post(
        "/account/password",
        data={"csrf_token": token, "current_password": "demo1234", "new_password": "abcdefgh1"},
    )
    assert ok.status_code == 302


def test_per_address_login_limit_answers_429_in_chinese(app, client):
    original = app.config["LOGIN_IP_LIMIT"]
    app.config["LOGIN_IP_LIMIT"] = "3 per hour"  # no window edge mid-test
    try:
        statuses = [login(client, "teacher1", "wrong-password").status_code for _ in range(3)]
        refused = login(client, "teacher1")
    finally:
        app.config["LOGIN_IP_LIMIT"] = original
    assert statuses == [401, 401, 401]
    assert refused.status_code == 429
    assert "请求过于频繁" in refused.get_data(as_text=True)


def test_the_default_limit_fits_a_school_lab(app):
    # a class of 60 behind one address signs in, a few of them twice, within minutes
    count = int(app.config["LOGIN_IP_LIMIT"].split()[0])
    assert count >= 120


# --- sign-in throttle: by account and address, the same for unknown accounts --------------------


def login_from(client, address: str, username: str, password: str):
    """A sign-in through the form, as a browser at ``address`` sends it."""
    page = client.get("/login", environ_base={"REMOTE_ADDR": address})
    token = re.search(r'name="csrf-token" content="([^"]+)"', page.get_data(as_text=True))
    return client.post(
        "/login",
        data={"login": username, "password": password, "csrf_token": token.group(1)},
        environ_base={"REMOTE_ADDR": address},
    )


def reply(response) -> tuple[int, str]:
    found = ERROR_RE.search(response.get_data(as_text=True))
    return response.status_code, found.group(1).strip() if found else ""


def test_unknown_and_throttled_accounts_get_the_same_reply(app):
    free = app.config["LOGIN_MAX_FAILURES"]
    real, unknown = app.test_client(), app.test_client()
    real_replies = [reply(login_from(real, "10.1.0.1", "student1", "wrong-1")) for _ in range(free)]
    unknown_replies = [
        reply(login_from(unknown, "10.1.0.1", "no-such-pupil", "wrong-1")) for _ in range(free)
    ]
    assert real_replies == unknown_replies == [(401, "用户名或密码错误。")] * free
    # the next try, even with the right password, waits: in the same words for both
    waiting = reply(login_from(real, "10.1.0.1", "student1", "demo1234"))
    assert waiting == reply(login_from(unknown, "10.1.0.1", "no-such-pupil", "demo1234"))
    assert waiting[0] == 429 and "过多" in waiting[1]
    assert "锁定" not in waiting[1]
    # the API answers alike too
    body = {"password": "wrong-2"}
    api = [
        app.test_client().post(
            "/api/v1/auth/token",
            json={**body, "username": name},
            environ_base={"REMOTE_ADDR": "10.1.0.1"},
        )
        for name in ("student1", "no-such-pupil")
    ]
    assert [r.status_code for r in api] == [429, 429]
    assert api[0].get_json() == api[1].get_json()
    assert api[0].headers["Retry-After"] == api[1].headers["Retry-After"]


def test_a_stranger_hammering_from_one_address_cannot_lock_a_student_out(app):
    stranger = app.test_client()
    statuses = {
        login_from(stranger, "10.2.0.66", "student1", f"guess-{n}").status_code for n in range(40)
    }
    assert statuses == {401, 429}
    # the stranger's machine is held back, even with the right password...
    assert login_from(stranger, "10.2.0.66", "student1", "demo1234").status_code == 429
    # ...and the student signs in from their own
    student = app.test_client()
    assert login_from(student, "10.2.0.7", "student1", "demo1234").status_code == 302
    assert student.get("/", environ_base={"REMOTE_ADDR": "10.2.0.7"}).status_code == 200


def test_the_account_cap_stops_guessing_spread_over_many_addresses(app):
    original = app.config["LOGIN_ACCOUNT_MAX_FAILURES"]
    app.config["LOGIN_ACCOUNT_MAX_FAILURES"] = 6
    try:
        guesser = app.test_client()
        for n in range(6):
            assert login_from(guesser, f"10.3.0.{n}", "student1", "guess").status_code == 401
        refused = login_from(app.test_client(), "10.3.1.1", "student1", "demo1234")
    finally:
        app.config["LOGIN_ACCOUNT_MAX_FAILURES"] = original
    assert refused.status_code == 429


def test_the_wait_doubles_with_each_further_wrong_password(app):
    from elearn.service.login_throttle import LoginPolicy, LoginThrottle

    with app.app_context():
        throttle = LoginThrottle(
            limiter.storage, LoginPolicy(free_failures=2, first_wait=30, max_wait=100)
        )
        waits = []
        for _ in range(5):
            throttle.failed("u-test", "10.4.0.1")
            waits.append(throttle.wait("u-test", "10.4.0.1"))
        assert waits[0] == 0
        assert 0 < waits[1] <= 30 < waits[2] <= 60 < waits[3] <= 100
        assert waits[4] <= 100  # capped
        assert throttle.wait("u-test", "10.4.0.2") == 0  # another address is not held back
        throttle.succeeded("u-test", "10.4.0.1")
        assert throttle.wait("u-test", "10.4.0.1") == 0


def test_a_disabled_account_says_so_only_to_whoever_knows_its_password(app):
    u = user("student1")
    u.is_active_account = False
    db.session.commit()
    client = app.test_client()
    assert reply(login_from(client, "10.5.0.1", "student1", "wrong")) == (401, "用户名或密码错误。")
    status, message = reply(login_from(client, "10.5.0.1", "student1", "demo1234"))
    assert status == 403 and "停用" in message


# --- must change password: pages, API, everything but the change itself -------------------------


def must_change(username: str) -> None:
    u = user(username)
    u.must_change_password = True
    db.session.commit()


def token(app, username: str, password: str = "demo1234") -> dict:
    response = app.test_client().post(
        "/api/v1/auth/token", json={"username": username, "password": password}
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_a_must_change_account_is_held_at_the_password_form(app):
    must_change("student1")
    client = app.test_client()
    response = login(client, "student1")
    assert response.status_code == 302 and "/account/password" in response.headers["Location"]
    for path in ("/", "/notifications", "/courses"):
        page = client.get(path)
        assert page.status_code == 302, path
        assert "/account/password" in page.headers["Location"], path
    form = client.get("/account/password")
    assert form.status_code == 200 and "账号单" in form.get_data(as_text=True)
    token_ = csrf_token(client, "/account/password")
    changed = client.post(
        "/account/password",
        data={"csrf_token": token_, "current_password": "demo1234", "new_password": "my-own-pw-1"},
    )
    assert changed.status_code == 302
    assert client.get("/").status_code == 200
    assert not user("student1").must_change_password


def test_a_must_change_accounts_api_calls_get_403_but_it_can_change_the_password(app):
    must_change("teacher1")
    issued = token(app, "teacher1")
    assert issued["must_change_password"] is True
    headers = {"Authorization": f"Bearer {issued['token']}"}
    client = app.test_client()
    for path in ("/api/v1/me/notifications", "/api/v1/quizzes", "/api/v1/lectures"):
        refused = client.get(path, headers=headers)
        assert refused.status_code == 403, path
        assert "修改密码" in refused.get_json()["message"], path
    # an answer save checks its token in the statement that saves: refused the same way
    save = client.put("/api/v1/attempts/1/answers/1", json={"seq": 1, "answer": 0}, headers=headers)
    assert save.status_code == 403 and "修改密码" in save.get_json()["message"]
    assert client.get("/api/v1/me", headers=headers).get_json()["must_change_password"] is True
    wrong = client.post(
        "/api/v1/auth/password",
        json={"current_password": "nope", "new_password": "teacher-own-1"},
        headers=headers,
    )
    assert wrong.status_code == 400 and "当前密码" in wrong.get_json()["message"]
    changed = client.post(
        "/api/v1/auth/password",
        json={"current_password": "demo1234", "new_password": "teacher-own-1"},
        headers=headers,
    )
    assert changed.status_code == 200, changed.get_json()
    assert client.get("/api/v1/me/notifications", headers=headers).status_code == 200


# --- a password change ends every other session and token ----------------------------------------


def test_changing_the_password_ends_every_other_session_and_token(app):
    here = signed_in_client(app, "teacher1")
    elsewhere = signed_in_client(app, "teacher1")
    other_token = token(app, "teacher1")["token"]
    token_ = csrf_token(here, "/account/password")
    changed = here.post(
        "/account/password",
        data={"csrf_token": token_, "current_password": "demo1234", "new_password": "fresh-pw-42"},
    )
    assert changed.status_code == 302
    assert here.get("/").status_code == 200  # the session that changed it stays
    gone = elsewhere.get("/")
    assert gone.status_code == 302 and "/login" in gone.headers["Location"]
    refused = app.test_client().get(
        "/api/v1/me", headers={"Authorization": f"Bearer {other_token}"}
    )
    assert refused.status_code == 401
    teacher = user("teacher1")
    live = db.session.scalars(
        select(UserSession).where(
            UserSession.user_id == teacher.id, UserSession.revoked_at.is_(None)
        )
    ).all()
    assert len(live) == 1
    assert not db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == teacher.id, ApiToken.revoked_at.is_(None))
    ).all()


def test_changing_the_password_through_the_api_keeps_that_token_only(app):
    kept, other = token(app, "student1")["token"], token(app, "student1")["token"]
    browser = signed_in_client(app, "student1")
    client = app.test_client()
    changed = client.post(
        "/api/v1/auth/password",
        json={"current_password": "demo1234", "new_password": "student-pw-9"},
        headers={"Authorization": f"Bearer {kept}"},
    )
    assert changed.status_code == 200
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {kept}"}).status_code == 200
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {other}"}).status_code == 401
    assert browser.get("/").status_code == 302


# --- Authorization header and CSRF ---------------------------------------------------------------


@pytest.mark.parametrize("header", ["Bearer not-a-real-token", "Basic c3R1ZGVudDE6eA==", "Bearer"])
def test_a_bogus_authorization_header_does_not_switch_off_csrf(app, header):
    browser = signed_in_client(app, "student1")
    sneaky = browser.post(
        "/api/v1/me/notifications/read", json={"all": True}, headers={"Authorization": header}
    )
    assert sneaky.status_code == 401
    assert sneaky.get_json()["message"]
    # and never falls back to the cookie, not even to read
    assert browser.get("/api/v1/me", headers={"Authorization": header}).status_code == 401
    # the cookie alone still needs the CSRF token
    assert browser.post("/api/v1/me/notifications/read", json={"all": True}).status_code == 400


def test_a_valid_bearer_token_needs_no_csrf_token(app):
    bearer = token(app, "student1")["token"]
    browser = signed_in_client(app, "parent1")  # a cookie of someone else beside it
    response = browser.post(
        "/api/v1/me/notifications/read",
        json={"all": True},
        headers={"Authorization": f"Bearer {bearer}"},
    )
    assert response.status_code == 200
    me = browser.get("/api/v1/me", headers={"Authorization": f"Bearer {bearer}"}).get_json()
    assert me["username"] == "student1"  # the token decides, not the cookie


def test_demo_accounts_keep_their_demo_password_without_must_change(app):
    from elearn.models import User
    from elearn.seed.demo import DEMO_PASSWORD

    demo = db.session.scalars(
        select(User).where(User.username.in_(["student1", "parent1", "teacher1"]))
    ).all()
    assert demo and not any(u.must_change_password for u in demo)
    assert login(app.test_client(), "student1", DEMO_PASSWORD).headers["Location"].endswith("/")
