"""The care files' free text, encrypted at rest with Fernet (AES-128-CBC with HMAC-SHA256).

The keys come from ``ELEARN_CARE_KEYS`` (``CARE_KEYS``): comma-separated Fernet keys, the first
the current one (new text is encrypted with it), the others older ones still read. Rotation: put
a new key first, run ``flask care rotate-keys`` (``rotate``: every token re-encrypted with the
first key), then drop the old keys. The embedded demo, with no key set, gets one generated into
its instance folder (``demo_key``), as its secret key is; elsewhere, without a key, the care
files refuse to read or write text (``KeysMissing``, a 503 with a message) and the rest of the
app runs.
"""

from __future__ import annotations

from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app
from flask_babel import gettext as _

from elearn.service.errors import ServiceError

CONFIG_KEY = "CARE_KEYS"


class KeysMissing(ServiceError):
    def __init__(self) -> None:
        super().__init__(
            _(
                "Care files are unavailable: no encryption key is configured "
                "(ELEARN_CARE_KEYS). Ask the system administrator."
            ),
            status=503,
        )


def parse_keys(raw: str) -> tuple[str, ...]:
    """``ELEARN_CARE_KEYS``: comma-separated Fernet keys, each checked."""
    keys = tuple(part.strip() for part in raw.split(",") if part.strip())
    for key in keys:
        try:
            Fernet(key.encode())
        except (ValueError, TypeError):
            raise ValueError(
                "comma-separated Fernet keys (32 url-safe base64-encoded bytes each; make one "
                'with python -c "from cryptography.fernet import Fernet; '
                'print(Fernet.generate_key().decode())")'
            ) from None
    return keys


def demo_key(instance_path: str | Path) -> str:
    """The embedded demo's key, generated once into instance/care_key (never in the repo)."""
    folder = Path(instance_path)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "care_key"
    if not path.exists():
        path.write_text(Fernet.generate_key().decode())
        path.chmod(0o600)
    return path.read_text().strip()


def configured() -> bool:
    return bool(current_app.config.get(CONFIG_KEY))


def _fernet(keys: tuple[str, ...] | list[str] | None = None) -> MultiFernet:
    found = keys if keys is not None else current_app.config.get(CONFIG_KEY)
    if not found:
        raise KeysMissing()
    return MultiFernet([Fernet(key.encode()) for key in found])


def encrypt(text: str | None) -> str | None:
    if not text:
        return None
    return _fernet().encrypt(text.encode()).decode()


def decrypt(token: str | None) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ServiceError(
            _(
                "This text was encrypted with a key that is no longer configured "
                "(ELEARN_CARE_KEYS). Ask the system administrator."
            ),
            status=503,
        ) from None


def rotate_token(token: str | None) -> str | None:
    """The token re-encrypted with the current (first) key."""
    if not token:
        return token
    return _fernet().rotate(token.encode()).decode()
