"""Web Push (RFC 8030) to a browser's subscription: the payload encrypted for it (RFC 8291)
and signed for the push service with the installation's VAPID key (RFC 8292), by pywebpush.

An ``Outgoing``'s ``to`` is the subscription as the browser gave it (JSON: ``endpoint`` and
``keys``); the payload is JSON ``{"title", "body", "link"}``, shown by ``static/sw.js``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid
from pywebpush import WebPushException, webpush

from elearn.delivery.base import DeliveryError, Outgoing

TIMEOUT_SECONDS = 20
#: how long a push service keeps a notice for a browser that is offline
TTL_SECONDS = 24 * 3600


class SubscriptionGone(DeliveryError):
    """The push service no longer knows the subscription (404/410): it is to be forgotten."""

    def __init__(self, endpoint: str, message: str) -> None:
        super().__init__(message)
        self.endpoint = endpoint


def public_key(private_key: str) -> str:
    """The browser's ``applicationServerKey``: the VAPID public key, base64url, uncompressed."""
    raw = Vapid.from_string(private_key=private_key).public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass(frozen=True)
class PushChannel:
    private_key: str
    subject: str
    name: str = "push"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> PushChannel:
        return cls(private_key=config["VAPID_PRIVATE_KEY"], subject=config["VAPID_SUBJECT"])

    def send(self, message: Outgoing) -> None:
        subscription = json.loads(message.to)
        payload = json.dumps(
            {"title": message.subject, "body": message.text, "link": message.link},
            ensure_ascii=False,
        )
        try:
            webpush(
                subscription,
                data=payload,
                vapid_private_key=self.private_key,
                vapid_claims={"sub": self.subject},
                ttl=TTL_SECONDS,
                timeout=TIMEOUT_SECONDS,
            )
        except WebPushException as error:
            status = getattr(error.response, "status_code", None)
            if status in (404, 410):
                raise SubscriptionGone(subscription["endpoint"], str(error)) from error
            raise DeliveryError(f"push {status or ''}: {error}".strip()) from error
        except OSError as error:  # requests' connection errors are OSErrors
            raise DeliveryError(f"push: {error}") from error
