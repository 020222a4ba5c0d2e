"""Channels beyond the inbox: each sends one outgoing notice to one address (``base.Channel``).

E-mail goes over SMTP (``email``); SMS through a provider adapter (``sms``: a logging adapter for
development, and the place a vendor's adapter plugs in). Which channels exist is decided by the
configuration (``channels``): e-mail once ``ELEARN_SMTP_HOST`` is set, Web Push once a VAPID key
is (``push``), SMS always (its default provider only logs). Who gets what on which channel is ``elearn.service.delivery``'s business.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from elearn.delivery.base import Channel, DeliveryError, Outgoing
from elearn.delivery.email import SmtpChannel
from elearn.delivery.push import PushChannel, SubscriptionGone
from elearn.delivery.sms import SMS_PROVIDERS, SmsChannel

__all__ = ["Channel", "DeliveryError", "Outgoing", "SubscriptionGone", "channels"]


def channels(config: Mapping[str, Any]) -> dict[str, Channel]:
    """The configured channels by name (``email``, ``sms``, ``push``)."""
    found: dict[str, Channel] = {}
    if config.get("SMTP_HOST"):
        found["email"] = SmtpChannel.from_config(config)
    if config.get("VAPID_PRIVATE_KEY"):
        found["push"] = PushChannel.from_config(config)
    found["sms"] = SmsChannel(SMS_PROVIDERS[config.get("SMS_PROVIDER") or "log"](config))
    return found
