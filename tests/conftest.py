"""Fixtures: a real PostgreSQL database and Redis, the app, clients signed in as each demo role.

Each test runs inside a transaction that is rolled back afterwards (routes' commits become
savepoints), over a database migrated and seeded with the demo data once per run.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import psycopg
import pytest
import redis as redis_lib
from flask import g
from sqlalchemy.orm import scoped_session, sessionmaker

PG_ADMIN_URL = os.environ.get("ELEARN_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("ELEARN_TEST_REDIS", "redis://127.0.0.1:6379/15")
TEST_DB = os.environ.get("ELEARN_TEST_DB", f"elearn_test_{os.getpid()}")
SECRET = "test-secret-key-that-is-long-enough-0123456789"
#: the connection the current test's transaction runs on (see ``_isolated``)
CONNECTION = None


def pytest_sessionstart(session: pytest.Session) -> None:
    """The static files' built copies as the tree is now (``make install`` builds them; a file
    edited since is rebuilt here, so the pages under test load what the tree holds)."""
    from pathlib import Path

    from elearn.factory import PACKAGES
    from elearn.static_files import build

    root = Path(__file__).resolve().parent.parent
    build(root / package / "static" for package in PACKAGES)


def _require_services() -> None:
    """A missing service fails the run with a message saying what is missing, never a skip."""
    missing = []
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            pass
    except Exception as error:  # noqa: BLE001
        missing.append(f"PostgreSQL at {PG_ADMIN_URL} ({error.__class__.__name__}: {error})")
    try:
        redis_lib.Redis.from_url(REDIS_URL, socket_timeout=3).ping()
    except Exception as error:  # noqa: BLE001
        missing.append(f"Redis at {REDIS_URL} ({error.__class__.__name__})")
    if missing:
        pytest.exit(
            "The test suite needs these services running: " + "; ".join(missing), returncode=3
        )


def pg_url(database: str) -> str:
    parts = urlsplit(PG_ADMIN_URL)
    return f"postgresql+psycopg://{parts.netloc}/{database}"


def create_database(name: str) -> str:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return pg_url(name)


def drop_database(name: str) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


#: a Fernet key for the suite only (tests/parents/test_care.py rotates to another)
CARE_KEY = "-QbYfwBlFRBNwRPydHv8a5srY_tb4YNLaqP4Splu4fU="


def app_env(database_url: str) -> dict[str, str]:
    """The environment a test app (in this process or a subprocess) is configured from."""
    return {
        "ELEARN_SECRET_KEY": SECRET,
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "ELEARN_COOKIE_SECURE": "0",
        "ELEARN_LOG_JSON": "0",
        # the suite runs at any hour: staff's default quiet hours would hold the messages of
        # tests that run at night (tests/parents/test_quiet_hours.py turns them on)
        "ELEARN_MESSAGES_QUIET_HOURS": "off",
        # overlapping runs share one Redis: keep anonymous survey sessions and pools apart
        "ELEARN_QUIZ_KEY_PREFIX": f"elearn-quiz-test-{os.getpid()}",
        # care files' notes are encrypted at rest (parents/care/crypto.py): the suite's own key
        "ELEARN_CARE_KEYS": CARE_KEY,
    }


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    _require_services()
    url = create_database(TEST_DB)
    yield url
    drop_database(TEST_DB)


@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory):
    os.environ.update(app_env(database_url))
    from elearn.factory import create_app

    application = create_app(
        {
            "TESTING": True,
            # runs of the suite may overlap (several developers, one Redis): keep keys apart
            "RATELIMIT_KEY_PREFIX": f"elearn-test-{os.getpid()}",
            # the storage's reset() (called before each test) deletes every key under its own
            # prefix: give each run its own, or overlapping runs wipe each other's counters
            "RATELIMIT_STORAGE_OPTIONS": {"key_prefix": f"LIMITS-test-{os.getpid()}"},
            "CACHE_KEY_PREFIX": f"elearn-test-cache-{os.getpid()}:",
            "MEDIA_DIR": str(tmp_path_factory.mktemp("media")),
            "CELERY": {"task_always_eager": True, "broker_url": "memory://"},
            # the exam lanes stay on, as in production (quizzes/lanes/README.md): they read and
            # write on their own connections, so a test's uncommitted rows go through them to
            # the route; the lane tests commit theirs (tests/quizzes/test_save_lane.py, …)
        }
    )
    application.extensions["celery"].conf.update(task_always_eager=True, broker_url="memory://")

    def _own_login():
        # A test client's request shares the app context (and ``g``) of a ``ctx`` the test holds
        # open; each request must load its own user, as in production, not reuse the last one's.
        for name in ("_login_user", "auth_error", "via_token", "bearer_token", "csrf_token"):
            g.pop(name, None)

    # first of all: the app's own hooks load the user too (elearn.auth's password-change gate)
    application.before_request_funcs.setdefault(None, []).insert(0, _own_login)

    with application.app_context():
        from flask_migrate import upgrade

        from elearn import features
        from elearn.extensions import db
        from elearn.seed import demo

        upgrade(revision="heads")
        demo.seed_demo()
        for seeder in features.registry().seeders:
            seeder()
        db.session.commit()
        db.session.remove()
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _isolated(request: pytest.FixtureRequest):
    """Roll back everything a test wrote; reset rate limits."""
    if "app" not in request.fixturenames:
        yield
        return
    application = request.getfixturevalue("app")
    from elearn.extensions import db, limiter

    # No app context stays pushed during the test: requests must get their own (and their own
    # ``g``), as in production. Tests that call services use the ``ctx`` fixture.
    with application.app_context():
        connection = db.engine.connect()
    transaction = connection.begin()
    global CONNECTION
    CONNECTION = connection
    original = db.session
    db.session = scoped_session(
        sessionmaker(bind=connection, join_transaction_mode="create_savepoint")
    )
    with application.app_context():
        limiter.reset()
    try:
        yield
    finally:
        db.session.remove()
        db.session = original
        if transaction.is_active:
            transaction.rollback()
        connection.close()


def undo_after(func):
    """Run ``func()`` and then roll back what it wrote (a savepoint inside the test's transaction)."""
    from elearn.extensions import db

    savepoint = CONNECTION.begin_nested()
    try:
        return func()
    finally:
        db.session.remove()
        savepoint.rollback()


@pytest.fixture
def ctx(app):
    with app.test_request_context():
        yield


@pytest.fixture
def client(app):
    return app.test_client()


CSRF_RE = re.compile(r'name="csrf-token" content="([^"]+)"')


def csrf_token(client, path: str = "/login") -> str:
    page = client.get(path)
    match = CSRF_RE.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client, username: str, password: str = "demo1234"):
    token = csrf_token(client)
    return client.post(
        "/login", data={"login": username, "password": password, "csrf_token": token}
    )


@pytest.fixture
def as_user(app):
    """``as_user("teacher1")`` → a test client signed in as that demo user."""

    def make(username: str):
        c = app.test_client()
        response = login(c, username)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return c

    return make


def user(username: str):
    from sqlalchemy import select

    from elearn.extensions import db
    from elearn.models import User

    return db.session.scalar(select(User).where(User.username == username))


def unit_by_code(code: str):
    from sqlalchemy import select

    from elearn.extensions import db
    from elearn.models import Unit

    return db.session.scalar(select(Unit).where(Unit.code == code))


def signed_in_client(app, username: str):
    """A test client with a live login session for ``username``, without the (slow) password check."""
    from elearn.extensions import db
    from elearn.service import accounts

    with app.app_context():
        token = accounts.start_session(user=user(username), ip="127.0.0.1", user_agent="pytest")
        db.session.commit()
    c = app.test_client()
    with c.session_transaction() as session:
        session["_user_id"] = token
        session["_fresh"] = True
    return c


@pytest.fixture
def signed_in(app):
    """``signed_in("teacher1")`` → a client signed in as that demo user (fast: no scrypt)."""
    return lambda username: signed_in_client(app, username)


def post_form(client, path: str, data: dict | None = None, *, page: str = "/"):
    """POST a form with the CSRF token a page of the client's session carries."""
    token = csrf_token(client, page)
    return client.post(path, data={**(data or {}), "csrf_token": token})
