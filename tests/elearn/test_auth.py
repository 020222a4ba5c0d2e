from datetime import UTC, datetime, timedelta

from elearn.extensions import db
from elearn.models import AuditEvent
from tests.conftest import csrf_token, login, user


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


def test_lockout_after_repeated_failures(app, client):
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        login(client, "student1", "wrong-password")
    response = login(client, "student1")  # the right password, but locked
    assert response.status_code == 401
    assert "锁定" in response.get_data(as_text=True)
    assert user("student1").locked_until > datetime.now(UTC)
    assert db.session.query(AuditEvent).filter_by(action="login.lockout").count() == 1


def test_lock_expires(app, client):
    u = user("student1")
    u.locked_until = datetime.now(UTC) - timedelta(seconds=1)
    db.session.commit()
    assert login(client, "student1").status_code == 302


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
