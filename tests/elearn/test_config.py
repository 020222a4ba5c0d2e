"""Configuration comes from the environment and is validated at start-up; no fallback secrets."""

import pytest

from elearn import config


@pytest.fixture
def clean_env(monkeypatch):
    for name in [
        "ELEARN_SECRET_KEY",
        "ELEARN_DEMO",
        "DATABASE_URL",
        "ELEARN_DATABASE_URL",
        "REDIS_URL",
        "ELEARN_REDIS_URL",
        "ELEARN_COOKIE_SECURE",
        "S3_ENDPOINT",
    ]:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_no_secret_outside_demo_mode_is_refused(clean_env, tmp_path):
    with pytest.raises(config.ConfigError, match="ELEARN_SECRET_KEY"):
        config.load(tmp_path)


def test_short_secret_is_refused(clean_env, tmp_path):
    clean_env.setenv("ELEARN_SECRET_KEY", "short")
    with pytest.raises(config.ConfigError, match="32"):
        config.load(tmp_path)


def test_demo_mode_generates_a_secret_outside_the_repo(clean_env, tmp_path):
    clean_env.setenv("ELEARN_DEMO", "1")
    first = config.load(tmp_path)
    assert (tmp_path / "secret_key").exists()
    assert config.load(tmp_path)["SECRET_KEY"] == first["SECRET_KEY"]
    assert first["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert first["CELERY"]["broker_url"] == "filesystem://"
    assert first["SESSION_COOKIE_SECURE"] is False  # demo serves plain http on 127.0.0.1


def test_production_settings(clean_env, tmp_path):
    clean_env.setenv("ELEARN_SECRET_KEY", "k" * 40)
    clean_env.setenv("DATABASE_URL", "postgresql://u@db/elearn")
    clean_env.setenv("REDIS_URL", "redis://cache:6379/0")
    loaded = config.load(tmp_path)
    assert loaded["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db/elearn"
    assert loaded["CELERY"]["broker_url"] == "redis://cache:6379/0"
    assert loaded["REDIS_URL"] == "redis://cache:6379/0"
    assert loaded["SESSION_COOKIE_SECURE"] is True
    assert loaded["SESSION_COOKIE_HTTPONLY"] is True
    assert loaded["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_postgresql_pool_is_sized_for_one_gevent_worker(clean_env, tmp_path):
    clean_env.setenv("ELEARN_SECRET_KEY", "k" * 40)
    clean_env.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1/elearn")
    options = config.load(tmp_path)["SQLALCHEMY_ENGINE_OPTIONS"]
    # no overflow (its connections close as they come back: a new backend per request under
    # load), and a burst queues for a connection instead of failing at 30 s
    assert (options["pool_size"], options["max_overflow"], options["pool_timeout"]) == (30, 0, 120)
    # no ping round trip before every request; dead connections renew the pool when met
    assert options["pool_pre_ping"] is False and options["pool_recycle"] == 3600
    clean_env.setenv("ELEARN_DB_PRE_PING", "1")
    assert config.load(tmp_path)["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True
    clean_env.setenv("ELEARN_DB_POOL_SIZE", "40")
    clean_env.setenv("ELEARN_DB_POOL_TIMEOUT", "15")
    options = config.load(tmp_path)["SQLALCHEMY_ENGINE_OPTIONS"]
    assert (options["pool_size"], options["pool_timeout"]) == (40, 15)
