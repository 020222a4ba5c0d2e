"""Configuration read from the environment at start-up and validated there.

Every setting comes from an ``ELEARN_``-prefixed variable; the three that deployments share with
other software (``DATABASE_URL``, ``REDIS_URL`` and ``S3_*``) are read under their usual names too.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from datetime import timedelta
from importlib import metadata
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytz


class ConfigError(RuntimeError):
    """Raised at start-up when the environment cannot make a working app."""


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(f"ELEARN_{name}")
    if value is None or value == "":
        return default
    return value


def _flag(name: str, default: bool = False) -> bool:
    value = _env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _demo_secret(instance_path: Path) -> str:
    """A per-installation secret for the embedded demo, kept in instance/ and never in the repo."""
    instance_path.mkdir(parents=True, exist_ok=True)
    path = instance_path / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _timezone() -> str:
    """The installation's zone (``ELEARN_TIMEZONE``): what forms take and pages show."""
    name = (_env("TIMEZONE") or "Asia/Shanghai").strip()
    try:
        ZoneInfo(name)
        pytz.timezone(name)  # Flask-Babel formats with pytz: it must know the name too
    except (KeyError, ValueError):  # ZoneInfoNotFoundError and pytz's error are KeyErrors
        raise ConfigError(
            f"ELEARN_TIMEZONE={name!r} is not a time zone name. Use an IANA name such as "
            "Asia/Shanghai or Asia/Urumqi."
        ) from None
    return name


def _proxy_hops() -> int:
    raw = _env("PROXY_HOPS", "0") or "0"
    if not raw.isdigit() or int(raw) > 5:
        raise ConfigError(
            f"ELEARN_PROXY_HOPS={raw!r}: give the number of proxies in front of the app "
            "(1 behind nginx, 0 when clients reach it directly)."
        )
    return int(raw)


def _observability() -> dict[str, Any]:
    """``/metrics``' readers, a Celery worker's metrics port, Sentry (elearn.observability)."""
    allow = _env("METRICS_ALLOW", "127.0.0.0/8,::1") or ""
    try:
        networks = [
            ipaddress.ip_network(part.strip(), strict=False)
            for part in allow.split(",")
            if part.strip()
        ]
    except ValueError:
        raise ConfigError(
            f"ELEARN_METRICS_ALLOW={allow!r} is not a comma-separated list of addresses or "
            "networks (e.g. 127.0.0.1,10.0.0.0/8)."
        ) from None
    token = _env("METRICS_TOKEN")
    if token is not None and len(token) < 16:
        raise ConfigError("ELEARN_METRICS_TOKEN must be at least 16 characters long.")
    bind = _env("WORKER_METRICS_BIND")
    if bind is not None and not bind.rpartition(":")[2].isdigit():
        raise ConfigError(
            f"ELEARN_WORKER_METRICS_BIND={bind!r} must be host:port, e.g. 0.0.0.0:9808."
        )
    try:
        version = metadata.version("elearn")
    except metadata.PackageNotFoundError:
        version = "unknown"
    return {
        "METRICS_ALLOW": networks,
        "METRICS_TOKEN": token,
        "WORKER_METRICS_BIND": bind,
        "SENTRY_DSN": _env("SENTRY_DSN"),
        "SENTRY_ENVIRONMENT": _env("SENTRY_ENVIRONMENT", "production"),
        "SENTRY_RELEASE": _env("SENTRY_RELEASE", f"elearn@{version}"),
    }


def load(instance_path: Path) -> dict[str, Any]:
    """Build the Flask config mapping from the environment; raise ConfigError when it can't."""
    demo = _flag("DEMO")
    secret = _env("SECRET_KEY")
    if secret is None:
        if not demo:
            raise ConfigError(
                "ELEARN_SECRET_KEY is not set. Set it to a long random string "
                "(or ELEARN_DEMO=1 for the embedded demo)."
            )
        secret = _demo_secret(instance_path)
    if len(secret) < 32:
        raise ConfigError("ELEARN_SECRET_KEY must be at least 32 characters long.")

    database_url = _env("DATABASE_URL") or os.environ.get("DATABASE_URL")
    if not database_url:
        database_url = f"sqlite:///{instance_path / 'elearn.sqlite3'}"
    if database_url.startswith("postgresql://") or database_url.startswith("postgres://"):
        database_url = "postgresql+psycopg://" + database_url.split("://", 1)[1]

    redis_url = _env("REDIS_URL") or os.environ.get("REDIS_URL") or None
    broker_url = _env("BROKER_URL") or redis_url
    if broker_url is None:
        broker_dir = instance_path / "celery-broker"
        broker_url = "filesystem://"

    s3_endpoint = _env("S3_ENDPOINT") or os.environ.get("S3_ENDPOINT")

    cookie_secure = _flag("COOKIE_SECURE", default=not demo)
    engine_options: dict[str, Any] = {
        # One gevent worker serves many requests at once (an exam's autosaves, 5,000 students
        # starting it): up to 30 connections, kept open once opened. Connections beyond a
        # smaller pool ("overflow") are closed as they come back, so under steady load each
        # request would open one (a new PostgreSQL backend: milliseconds). A request queues
        # for a connection rather than failing after 30 s. PostgreSQL's default
        # max_connections of 100 is shared with the Celery workers: size DB_POOL_SIZE to it.
        "pool_size": int(_env("DB_POOL_SIZE", "30") or 30),
        "max_overflow": int(_env("DB_MAX_OVERFLOW", "0") or 0),
        "pool_timeout": int(_env("DB_POOL_TIMEOUT", "120") or 120),
        # Disconnects are handled when they happen, not pinged for before every request (a
        # round trip per request, a quarter of an autosave's cost): the request that meets a
        # dead connection fails and the whole pool is renewed; connections are renewed hourly.
        "pool_pre_ping": _flag("DB_PRE_PING", default=False),
        "pool_recycle": 3600,
    }
    if database_url.startswith("sqlite"):
        engine_options = {"connect_args": {"timeout": 30}}

    timezone = _timezone()
    config: dict[str, Any] = {
        "SECRET_KEY": secret,
        "ELEARN_DEMO": demo,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options,
        "REDIS_URL": redis_url,
        "CELERY": {
            "broker_url": broker_url,
            # keep retrying a broker that is not up yet when the worker starts (Celery 6's default
            # changes; stating it also silences the start-up warning)
            "broker_connection_retry_on_startup": True,
            "task_ignore_result": True,
            "task_acks_late": True,
            "task_reject_on_worker_lost": True,
            "worker_prefetch_multiplier": 1,
            "task_serializer": "json",
            "accept_content": ["json"],
            "task_always_eager": _flag("CELERY_EAGER"),
            "task_eager_propagates": True,
            "task_routes": {"media.*": {"queue": "media"}},
            "beat_schedule": {
                "elearn-purge-read-notifications": {
                    "task": "elearn.purge_read_notifications",
                    "schedule": 24 * 3600,
                }
            },
        },
        "S3_ENDPOINT": s3_endpoint,
        "S3_ACCESS_KEY": _env("S3_ACCESS_KEY") or os.environ.get("S3_ACCESS_KEY"),
        "S3_SECRET_KEY": _env("S3_SECRET_KEY") or os.environ.get("S3_SECRET_KEY"),
        "S3_BUCKET": _env("S3_BUCKET") or os.environ.get("S3_BUCKET") or "elearn-media",
        "S3_SECURE": _flag("S3_SECURE"),
        "MEDIA_DIR": _env("MEDIA_DIR", str(instance_path / "media")),
        "SESSION_COOKIE_SECURE": cookie_secure,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_NAME": "elearn_session",
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=12),
        "REMEMBER_COOKIE_SECURE": cookie_secure,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "WTF_CSRF_TIME_LIMIT": None,
        "BABEL_DEFAULT_LOCALE": "zh_Hans_CN",
        #: forms take and pages show times in this zone; the database keeps UTC (elearn.localtime)
        "TIMEZONE": timezone,
        "BABEL_DEFAULT_TIMEZONE": timezone,
        "LANGUAGES": {"zh_Hans_CN": "中文", "en": "English"},
        "MAX_CONTENT_LENGTH": int(_env("MAX_UPLOAD_BYTES", str(20 * 1024 * 1024)) or 0),
        "ROSTER_MAX_BYTES": int(_env("ROSTER_MAX_BYTES", str(10 * 1024 * 1024)) or 0),
        "ROSTER_MAX_ROWS": int(_env("ROSTER_MAX_ROWS", "50000") or 0),
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        # without Redis (the embedded demo) a folder: the worker beside the web process grades
        # attempts too, and the web process must hear of it
        "CACHE_TYPE": "RedisCache" if redis_url else "FileSystemCache",
        "CACHE_REDIS_URL": redis_url,
        "CACHE_DIR": str(instance_path / "cache"),
        "CACHE_KEY_PREFIX": _env("CACHE_KEY_PREFIX", "elearn-cache:"),
        "CACHE_DEFAULT_TIMEOUT": 24 * 3600,
        "RATELIMIT_HEADERS_ENABLED": True,
        # A school lab logs in from one NAT address: 60 pupils, a couple of tries each.
        "LOGIN_IP_LIMIT": _env("LOGIN_IP_LIMIT", "300 per 5 minutes"),
        # Wrong passwords per (account, address): free ones, then a wait doubling from
        # LOGIN_BACKOFF_SECONDS up to LOGIN_LOCK_MINUTES; per account from every address,
        # LOGIN_ACCOUNT_MAX_FAILURES an hour (elearn/service/login_throttle.py).
        "LOGIN_MAX_FAILURES": int(_env("LOGIN_MAX_FAILURES", "5") or 5),
        "LOGIN_BACKOFF_SECONDS": int(_env("LOGIN_BACKOFF_SECONDS", "30") or 30),
        "LOGIN_LOCK_MINUTES": int(_env("LOGIN_LOCK_MINUTES", "15") or 15),
        "LOGIN_ACCOUNT_MAX_FAILURES": int(_env("LOGIN_ACCOUNT_MAX_FAILURES", "100") or 100),
        "API_TOKEN_HOURS": int(_env("API_TOKEN_HOURS", "12") or 12),
        "SOCKETIO_ASYNC_MODE": _env("ASYNC_MODE"),
        "LOG_JSON": _flag("LOG_JSON", default=not demo),
        "PAGE_SIZE": 50,
        #: read notifications are deleted after this many days
        "NOTIFICATION_RETENTION_DAYS": int(_env("NOTIFICATION_RETENTION_DAYS") or 180),
        #: the commit a deployment runs (``/healthz`` shows it beside the package version)
        "COMMIT": _env("COMMIT"),
        #: proxies in front of the web processes (nginx: 1) whose X-Forwarded-For and
        #: X-Forwarded-Proto are believed (deploy/wsgi.py); 0 believes none
        "PROXY_HOPS": _proxy_hops(),
        **_observability(),
    }
    if broker_url == "filesystem://":
        broker_dir = instance_path / "celery-broker"
        for sub in ("out", "processed", "control"):
            (broker_dir / sub).mkdir(parents=True, exist_ok=True)
        config["CELERY"]["broker_transport_options"] = {
            "data_folder_in": str(broker_dir / "out"),
            "data_folder_out": str(broker_dir / "out"),
            "processed_folder": str(broker_dir / "processed"),
            "control_folder": str(broker_dir / "control"),
            "store_processed": False,
        }
    return config
