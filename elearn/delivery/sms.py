"""SMS through a provider adapter.

A provider is a class built from the app's config with one method, ``send(phone, text)``, that
raises ``DeliveryError`` when the vendor refuses. ``log`` (the default) writes each message to the
log instead of sending it: development and the embedded demo. A vendor's adapter (Aliyun,
Tencent Cloud…) is added to ``SMS_PROVIDERS`` and chosen with ``ELEARN_SMS_PROVIDER``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from elearn.delivery.base import Outgoing

log = logging.getLogger(__name__)

#: an SMS is cut to this many characters (a long one costs several messages)
SMS_CHARS = 200


class SmsProvider(Protocol):
    def send(self, phone: str, text: str) -> None: ...


class LoggingSms:
    """Writes each SMS to the log (logger ``elearn.delivery.sms``) instead of sending it."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config

    def send(self, phone: str, text: str) -> None:
        log.info("SMS to %s: %s", phone, text)


SMS_PROVIDERS: dict[str, Callable[[Mapping[str, Any]], SmsProvider]] = {"log": LoggingSms}


@dataclass(frozen=True)
class SmsChannel:
    provider: SmsProvider
    name: str = "sms"

    def send(self, message: Outgoing) -> None:
        text = " ".join(part for part in (message.subject, message.text) if part)
        if len(text) > SMS_CHARS:
            text = text[: SMS_CHARS - 1] + "…"
        self.provider.send(message.to, text)
