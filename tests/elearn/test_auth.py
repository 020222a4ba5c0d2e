import re

from elearn.extensions import db, limiter
from tests.conftest import csrf_token, login, user

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
