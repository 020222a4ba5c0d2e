"""E-mail over SMTP (``smtplib``), with STARTTLS and a login when configured."""

from __future__ import annotations

import smtplib
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from elearn.delivery.base import DeliveryError, Outgoing

TIMEOUT_SECONDS = 20


@dataclass(frozen=True)
class SmtpChannel:
    host: str
    port: int
    sender: str
    user: str | None = None
    password: str | None = None
    starttls: bool = False
    name: str = "email"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SmtpChannel:
        return cls(
            host=config["SMTP_HOST"],
            port=int(config["SMTP_PORT"]),
            sender=config["MAIL_FROM"],
            user=config.get("SMTP_USER") or None,
            password=config.get("SMTP_PASSWORD") or None,
            starttls=bool(config.get("SMTP_STARTTLS")),
        )

    def send(self, message: Outgoing) -> None:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.to
        mail["Subject"] = message.subject
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        mail.set_content(message.text or message.subject)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=TIMEOUT_SECONDS) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.user:
                    smtp.login(self.user, self.password or "")
                smtp.send_message(mail)
        except (OSError, smtplib.SMTPException) as error:
            raise DeliveryError(f"SMTP {self.host}:{self.port}: {error}") from error
