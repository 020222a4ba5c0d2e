"""Configuration read from the environment at start-up and validated there.

Every setting comes from an ``ELEARN_``-prefixed variable; the three that deployments share with
other software (``DATABASE_URL``, ``REDIS_URL`` and ``S3_*``) are read under their usual names too.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from importlib import metadata
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytz


class ConfigError(RuntimeError):
    """Raised at start-up when the environment cannot make a working app."""


@dataclass(frozen=True)
class Setting:
    """One value of the app's config, read from the environment at start-up.

    ``parse`` turns the variable's text into the value (raising ``ValueError`` with what it
    takes); ``default`` is used when the variable is unset or empty. The constructors below cover
    numbers, whole numbers, flags and text.
    """

    key: str
    default: Any
    help: str
    parse: Callable[[str], Any] = str
    env: str | None = None

    @property
    def variable(self) -> str:
        return self.env or f"ELEARN_{self.key}"

    def read(self, environ: Mapping[str, str]) -> Any:
        raw = (environ.get(self.variable) or "").strip()
        if not raw:
            return self.default
        return self.parse(raw)

    def check(self, value: Any) -> Any:
        """Check a value given another way (a test's config) as if it had been read."""
        if isinstance(value, str):
            return self.parse(value)
        if isinstance(value, bool | int | float):
            return self.parse(str(value))
        return value

    @classmethod
    def number(
        cls,
        key: str,
        default: float,
        help: str,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
        above: float | None = None,
        env: str | None = None,
    ) -> Setting:
        return cls(key, default, help, _number(float, minimum, maximum, above), env)

    @classmethod
    def integer(
        cls,
        key: str,
        default: int,
        help: str,
        *,
        minimum: int | None = None,
        maximum: int | None = None,
        env: str | None = None,
    ) -> Setting:
        return cls(key, default, help, _number(int, minimum, maximum, None), env)

    @classmethod
    def flag(cls, key: str, default: bool, help: str, *, env: str | None = None) -> Setting:
        return cls(key, default, help, _parse_flag, env)

    @classmethod
    def text(cls, key: str, default: str | None, help: str, *, env: str | None = None) -> Setting:
        return cls(key, default, help, str, env)


def _number(
    kind: type, minimum: float | None, maximum: float | None, above: float | None
) -> Callable[[str], Any]:
    def parse(raw: str) -> Any:
        try:
            value = kind(raw)
        except ValueError:
            raise ValueError("a whole number" if kind is int else "a number") from None
        if value != value:  # NaN
            raise ValueError("a number")
        if above is not None and value <= above:
            raise ValueError(f"a number above {above:g}")
        if minimum is not None and value < minimum:
            raise ValueError(f"at least {minimum:g}")
        if maximum is not None and value > maximum:
            raise ValueError(f"at most {maximum:g}")
        return value

    return parse


def _parse_flag(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ValueError("1 or 0 (on or off)")


def read_settings(
    settings: Iterable[Setting], config: dict[str, Any], environ: Mapping[str, str]
) -> list[str]:
    """Put each setting's value into ``config`` (keeping a value already there, checked); return
    the problems, one message per variable."""
    problems = []
    for setting in settings:
        try:
            if setting.key in config:
                config[setting.key] = setting.check(config[setting.key])
            else:
                config[setting.key] = setting.read(environ)
        except ValueError as error:
            problems.append(f"{setting.variable} must be {error}.")
    return problems


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(f"ELEARN_{name}")
    if value is None or value == "":
        return default
    return value


def _flag(name: str, default: bool = False) -> bool:
    value = _env(name)
    if value is None:
        return default
    try:
        return _parse_flag(value)
    except ValueError as error:
        raise ConfigError(f"ELEARN_{name} must be {error}.") from None


MB = 1024 * 1024


#: the carrier's numbers: read and checked at start-up like every feature's settings
def _sms_provider(raw: str) -> str:
    from elearn.delivery.sms import SMS_PROVIDERS

    if raw not in SMS_PROVIDERS:
        raise ValueError(f"one of {', '.join(sorted(SMS_PROVIDERS))}")
    return raw


CARRIER_SETTINGS = (
    Setting.integer("DB_POOL_SIZE", 30, "PostgreSQL connections kept per worker", minimum=1),
    Setting.integer("DB_MAX_OVERFLOW", 0, "extra connections under load", minimum=0),
    Setting.integer("DB_POOL_TIMEOUT", 120, "seconds a request waits for a connection", minimum=1),
    Setting.integer(
        "MAX_CONTENT_LENGTH",
        20 * MB,
        "largest request body through the app, bytes",
        minimum=1024,
        env="ELEARN_MAX_UPLOAD_BYTES",
    ),
    Setting.integer("ROSTER_MAX_BYTES", 10 * MB, "largest roster spreadsheet", minimum=1024),
    Setting.integer("ROSTER_MAX_ROWS", 50_000, "rows per roster import", minimum=1),
    Setting.integer(
        "LOGIN_MAX_FAILURES", 5, "free wrong passwords per account and address", minimum=1
    ),
    Setting.integer("LOGIN_BACKOFF_SECONDS", 30, "first wait after them (doubling)", minimum=1),
    Setting.integer("LOGIN_LOCK_MINUTES", 15, "longest wait", minimum=1),
    Setting.integer(
        "LOGIN_ACCOUNT_MAX_FAILURES", 100, "wrong passwords an hour per account", minimum=1
    ),
    Setting.integer("API_TOKEN_HOURS", 12, "lifetime of API bearer tokens", minimum=1),
    Setting.integer(
        "NOTIFICATION_RETENTION_DAYS", 180, "read notifications kept this long", minimum=1
    ),
    Setting.integer(
        "NOTIFICATION_DIGEST_HOUR", 18, "local hour of the daily digest", minimum=0, maximum=23
    ),
    Setting.text("SMTP_HOST", None, "SMTP server for e-mail notices (unset: no e-mail)"),
    Setting.integer("SMTP_PORT", 25, "its port", minimum=1, maximum=65535),
    Setting.text("SMTP_USER", None, "its login, if it asks for one"),
    Setting.text("SMTP_PASSWORD", None, "its password"),
    Setting.flag("SMTP_STARTTLS", False, "STARTTLS before the login"),
    Setting.text("MAIL_FROM", "noreply@localhost", "the From of e-mail notices"),
    Setting.text(
        "VAPID_PRIVATE_KEY", None, "Web Push key: a PEM file or base64url (unset: no push)"
    ),
    Setting.text("VAPID_SUBJECT", "mailto:admin@localhost", "Web Push contact (mailto: or https:)"),
    Setting("SMS_PROVIDER", "log", "SMS adapter (log: written to the log)", _sms_provider),
    # proxies in front of the web processes (nginx: 1) whose X-Forwarded-For and
    # X-Forwarded-Proto are believed (deploy/wsgi.py); 0 believes none
    Setting.integer(
        "PROXY_HOPS", 0, "proxies in front of the app (1 behind nginx)", minimum=0, maximum=5
    ),
)


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


def _secret(instance_path: Path, demo: bool) -> str:
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
    return secret


def _database_url(instance_path: Path) -> str:
    database_url = _env("DATABASE_URL") or os.environ.get("DATABASE_URL")
    if not database_url:
        database_url = f"sqlite:///{instance_path / 'elearn.sqlite3'}"
    if database_url.startswith("postgresql://") or database_url.startswith("postgres://"):
        database_url = "postgresql+psycopg://" + database_url.split("://", 1)[1]
    return database_url


def _engine_options(database_url: str, numbers: dict[str, Any]) -> dict[str, Any]:
    pre_ping = _flag("DB_PRE_PING", default=False)  # checked on SQLite too
    if database_url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30}}
    return {
        # One gevent worker serves many requests at once (an exam's autosaves, 5,000 students
        # starting it): up to 30 connections, kept open once opened. Connections beyond a
        # smaller pool ("overflow") are closed as they come back, so under steady load each
        # request would open one (a new PostgreSQL backend: milliseconds). A request queues
        # for a connection rather than failing after 30 s. PostgreSQL's default
        # max_connections of 100 is shared with the Celery workers: size DB_POOL_SIZE to it.
        "pool_size": numbers["DB_POOL_SIZE"],
        "max_overflow": numbers["DB_MAX_OVERFLOW"],
        "pool_timeout": numbers["DB_POOL_TIMEOUT"],
        # Disconnects are handled when they happen, not pinged for before every request (a
        # round trip per request, a quarter of an autosave's cost): the request that meets a
        # dead connection fails and the whole pool is renewed; connections are renewed hourly.
        "pool_pre_ping": pre_ping,
        "pool_recycle": 3600,
    }


def _celery(broker_url: str) -> dict[str, Any]:
    return {
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
    }


def _filesystem_broker(instance_path: Path) -> dict[str, Any]:
    """The embedded default's broker: folders in the instance (made now)."""
    broker_dir = instance_path / "celery-broker"
    for sub in ("out", "processed", "control"):
        (broker_dir / sub).mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(broker_dir / "out"),
        "data_folder_out": str(broker_dir / "out"),
        "processed_folder": str(broker_dir / "processed"),
        "control_folder": str(broker_dir / "control"),
        "store_processed": False,
    }


def _web(
    instance_path: Path, redis_url: str | None, demo: bool, cookie_secure: bool, timezone: str
) -> dict[str, Any]:
    """Sessions, cookies, languages, rate limits and caches."""
    return {
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
        "SOCKETIO_ASYNC_MODE": _env("ASYNC_MODE"),
        "LOG_JSON": _flag("LOG_JSON", default=not demo),
        "PAGE_SIZE": 50,
    }


def load(instance_path: Path) -> dict[str, Any]:
    """Build the Flask config mapping from the environment; raise ConfigError when it can't."""
    demo = _flag("DEMO")
    secret = _secret(instance_path, demo)
    database_url = _database_url(instance_path)
    redis_url = _env("REDIS_URL") or os.environ.get("REDIS_URL") or None
    broker_url = _env("BROKER_URL") or redis_url or "filesystem://"

    numbers: dict[str, Any] = {}
    problems = read_settings(CARRIER_SETTINGS, numbers, os.environ)
    if problems:
        raise ConfigError(" ".join(problems))

    # read in this order, so that of several mistakes the same one is reported first
    cookie_secure = _flag("COOKIE_SECURE", default=not demo)
    engine_options = _engine_options(database_url, numbers)
    timezone = _timezone()
    config: dict[str, Any] = {
        "SECRET_KEY": secret,
        "ELEARN_DEMO": demo,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options,
        "REDIS_URL": redis_url,
        "CELERY": _celery(broker_url),
        "S3_ENDPOINT": _env("S3_ENDPOINT") or os.environ.get("S3_ENDPOINT"),
        "S3_ACCESS_KEY": _env("S3_ACCESS_KEY") or os.environ.get("S3_ACCESS_KEY"),
        "S3_SECRET_KEY": _env("S3_SECRET_KEY") or os.environ.get("S3_SECRET_KEY"),
        "S3_BUCKET": _env("S3_BUCKET") or os.environ.get("S3_BUCKET") or "elearn-media",
        "S3_SECURE": _flag("S3_SECURE"),
        "MEDIA_DIR": _env("MEDIA_DIR", str(instance_path / "media")),
        **_web(instance_path, redis_url, demo, cookie_secure, timezone),
        #: the commit a deployment runs (``/healthz`` shows it beside the package version)
        "COMMIT": _env("COMMIT"),
        **_observability(),
    }
    config.update(numbers)
    if broker_url == "filesystem://":
        config["CELERY"]["broker_transport_options"] = _filesystem_broker(instance_path)
    return config
