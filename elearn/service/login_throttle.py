"""Sign-in throttling: how often one address may guess one account's password.

What it decides, and why:

- **Per account and address, with backoff.** Wrong passwords are counted per (account,
  address). The first ``free_failures`` cost nothing; each one after that makes this address
  wait before its next try for this account, the wait doubling from ``first_wait`` up to
  ``max_wait``. A student who mistypes waits seconds; a stranger guessing from one machine gets a
  handful of tries an hour. Nobody else is held up: the student signs in from their own
  address as usual, and the other pupils of a school lab (one address) are counted apart.
- **Per account, generous.** Wrong passwords for one account from every address together are
  capped per window (``account_failures``): a guesser spread over many addresses is stopped
  too. With the backoff, one address cannot reach the cap, so one stranger cannot lock a
  student out before an exam.
- **The same for accounts that don't exist.** The key of an unknown login is the login itself,
  counted and answered like an account's, so neither the answer nor its timing tells which
  accounts exist (``accounts.authenticate`` also checks a password hash for unknown logins).

The counters live in the rate limiter's storage (Redis in production, so every web process sees
them; memory for the embedded single process). A refused try is not counted as a failure: a
stranger who keeps hammering only keeps waiting.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol


class CounterStorage(Protocol):
    """The counters of ``limits``' storages (``Limiter.storage``): Redis or memory."""

    def incr(self, key: str, expiry: int, amount: int = 1) -> int: ...

    def get(self, key: str) -> int: ...

    def get_expiry(self, key: str) -> float: ...

    def clear(self, key: str) -> None: ...


@dataclass(frozen=True)
class LoginPolicy:
    #: wrong passwords from one address for one account before it has to wait
    free_failures: int = 5
    #: the first wait (seconds); it doubles with each further wrong password
    first_wait: int = 30
    #: the longest wait (seconds)
    max_wait: int = 15 * 60
    #: wrong passwords for one account from all addresses together, per ``account_window``
    account_failures: int = 100
    account_window: int = 3600
    #: how long an address's wrong passwords for an account are remembered (seconds)
    memory: int = 24 * 3600

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> LoginPolicy:
        return cls(
            free_failures=int(config["LOGIN_MAX_FAILURES"]),
            first_wait=int(config["LOGIN_BACKOFF_SECONDS"]),
            max_wait=int(config["LOGIN_LOCK_MINUTES"]) * 60,
            account_failures=int(config["LOGIN_ACCOUNT_MAX_FAILURES"]),
        )

    def wait_after(self, failures: int) -> int:
        """Seconds an address waits after its ``failures``-th wrong password (0: none)."""
        if failures < self.free_failures:
            return 0
        doublings = min(failures - self.free_failures, 32)
        return int(min(self.max_wait, self.first_wait * 2**doublings))


def account_key(*, user_id: int | None, password_hash: str | None, login: str) -> str:
    """The throttle's name for an account, or for a login that names none (hashed: no login
    typed by a stranger is kept as such). An account's name changes with its password, so a
    reset by an admin (or a change) starts every address afresh."""
    if user_id is not None:
        generation = hashlib.sha256((password_hash or "").encode()).hexdigest()[:8]
        return f"u{user_id}.{generation}"
    return "l" + hashlib.sha256(login.strip().lower().encode()).hexdigest()[:24]


class LoginThrottle:
    def __init__(
        self,
        storage: CounterStorage,
        policy: LoginPolicy,
        *,
        prefix: str = "elearn-login",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.storage = storage
        self.policy = policy
        self.prefix = prefix
        self.clock = clock

    def _keys(self, account: str, address: str | None) -> tuple[str, str, str]:
        where = address or "-"
        return (
            f"{self.prefix}:failures:{account}:{where}",
            f"{self.prefix}:wait:{account}:{where}",
            f"{self.prefix}:account:{account}",
        )

    def wait(self, account: str, address: str | None) -> int:
        """Seconds before this address may try a password for this account (0: now)."""
        _failures, wait_key, account_key_ = self._keys(account, address)
        until = 0.0
        if self.storage.get(wait_key) > 0:
            until = self.storage.get_expiry(wait_key)
        if self.storage.get(account_key_) >= self.policy.account_failures:
            until = max(until, self.storage.get_expiry(account_key_))
        if not until:
            return 0
        # Redis keeps whole seconds: round, and a wait still running is at least a second
        return max(1, round(until - self.clock()))

    def failed(self, account: str, address: str | None) -> None:
        """Count a wrong password; past the free ones the address waits, twice as long each time."""
        failures_key, wait_key, account_key_ = self._keys(account, address)
        failures = self.storage.incr(failures_key, self.policy.memory)
        self.storage.incr(account_key_, self.policy.account_window)
        wait = self.policy.wait_after(failures)
        if wait:
            self.storage.clear(wait_key)
            self.storage.incr(wait_key, wait)

    def succeeded(self, account: str, address: str | None) -> None:
        """The right password: this address starts afresh for this account."""
        failures_key, wait_key, _account = self._keys(account, address)
        self.storage.clear(failures_key)
        self.storage.clear(wait_key)
