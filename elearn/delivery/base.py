"""What every channel takes (an ``Outgoing`` notice) and how it says a send failed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Outgoing:
    """One message to one address: an e-mail address or a phone number."""

    to: str
    subject: str
    text: str
    #: a path inside the platform the notice links to (a push notice opens it when tapped)
    link: str | None = None


class DeliveryError(Exception):
    """The channel could not send (the provider's reason, kept on the delivery's row)."""


class Channel(Protocol):
    @property
    def name(self) -> str: ...

    def send(self, message: Outgoing) -> None:
        """Send, or raise ``DeliveryError``."""
