"""Notices beyond the inbox: e-mail over SMTP (a real server on loopback, aiosmtpd), SMS through
the logging adapter, each person's choice per category and channel, the daily digest, safety
notices that cannot be switched off, and at most one send per notice and channel."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from email import message_from_bytes
from email.header import decode_header, make_header
from email.message import Message

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from elearn import tasks
from elearn.extensions import db
from elearn.models import NotificationDelivery
from elearn.service import delivery, notifications
from elearn.service.errors import ServiceError
from tests.conftest import free_port, post_form, user


class Inbox:
    """An SMTP server's mailbox: what it received, parsed."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"

    def subjects(self) -> list[str]:
        return [str(make_header(decode_header(m["Subject"]))) for m in self.messages]


@pytest.fixture
def smtp(app, monkeypatch) -> Iterator[Inbox]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", port)
    monkeypatch.setitem(app.config, "MAIL_FROM", "jindu@example.org")
    try:
        yield inbox
    finally:
        controller.stop()


def _deliveries(channel: str) -> list[NotificationDelivery]:
    return list(
        db.session.scalars(
            select(NotificationDelivery).where(NotificationDelivery.channel == channel)
        )
    )


def test_an_instant_choice_sends_an_email_once(ctx, smtp):
    teacher = user("teacher1")
    delivery.set_email(teacher, "teacher1@example.org")
    delivery.set_preferences(teacher, {("quiz", "email"): "instant"})
    notifications.notify([teacher.id], kind="quiz.campaign_reminder", title="期末禁毒测试提醒")
    notifications.notify([teacher.id], kind="live.lecture_reminder", title="直播课明天开始")
    db.session.flush()

    assert tasks.deliver_notifications() == 1
    assert smtp.subjects() == ["期末禁毒测试提醒"]
    assert smtp.messages[0]["To"] == "teacher1@example.org"
    assert [d.status for d in _deliveries("email")] == ["sent"]
    # a second run (beat's next tick, a retried task) sends nothing again
    assert tasks.deliver_notifications() == 0
    assert len(smtp.messages) == 1


def test_email_defaults_to_a_daily_digest_of_what_is_unread(ctx, smtp):
    parent = user("parent1")
    delivery.set_email(parent, "parent1@example.org")
    for title in ("孩子的期末测试", "家长学校开课", "已读的通知"):
        notifications.notify([parent.id], kind="quiz.x", title=title)
    db.session.flush()
    read = db.session.scalars(notifications.inbox(parent)).first()
    assert read is not None and read.title == "已读的通知"
    notifications.mark_read(parent, [read.id])

    assert tasks.deliver_notifications() == 0  # not at once: the default is the digest
    assert tasks.send_notification_digests(force=True) == 1
    (mail,) = smtp.messages
    body = mail.get_payload(decode=True).decode()
    assert "孩子的期末测试" in body and "家长学校开课" in body and "已读的通知" not in body
    assert "2" in smtp.subjects()[0]
    assert tasks.send_notification_digests(force=True) == 0


def test_sms_is_off_by_default_but_safety_notices_always_go(ctx, caplog):
    parent = user("parent1")
    phone = parent.phone
    assert phone
    notifications.notify([parent.id], kind="quiz.x", title="普通提醒")
    notifications.notify([parent.id], kind="safety.alert", title="新型毒品预警：奶茶粉")
    db.session.flush()
    with caplog.at_level(logging.INFO, logger="elearn.delivery.sms"):
        assert tasks.deliver_notifications() == 1
    sent = [r.getMessage() for r in caplog.records if r.name == "elearn.delivery.sms"]
    assert sent == [f"SMS to {phone}: 新型毒品预警：奶茶粉"]

    parent = user("parent1")
    with pytest.raises(ServiceError, match="安全|Safety"):
        delivery.set_preferences(parent, {("safety", "sms"): "off"})
    assert delivery.preferences(parent)[("safety", "email")] == "instant"


def test_a_channel_that_fails_is_recorded_and_not_sent_twice(ctx, app, monkeypatch):
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", free_port())  # nothing listens there
    teacher = user("teacher1")
    delivery.set_email(teacher, "teacher1@example.org")
    delivery.set_preferences(teacher, {("quiz", "email"): "instant"})
    notifications.notify([teacher.id], kind="quiz.x", title="提醒")
    db.session.flush()
    assert tasks.deliver_notifications() == 0
    (row,) = _deliveries("email")
    assert row.status == "failed" and "SMTP" in row.error
    assert tasks.deliver_notifications() == 0 and len(_deliveries("email")) == 1


def test_choices_and_addresses_are_checked(ctx):
    teacher = user("teacher1")
    for bad in ("not-an-address", "a@b", "<script>@x.org", "x" * 250 + "@example.org"):
        with pytest.raises(ServiceError):
            delivery.set_email(teacher, bad)
    with pytest.raises(ServiceError):
        delivery.set_preferences(teacher, {("quiz", "fax"): "instant"})
    with pytest.raises(ServiceError):
        delivery.set_preferences(teacher, {("quiz", "email"): "sometimes"})
    delivery.set_email(teacher, "")
    assert teacher.email is None


def test_the_settings_page_saves_choices_and_keeps_safety_on(signed_in):
    client = signed_in("teacher1")
    page = client.get("/notifications/settings")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "安全提醒" in html and "每日摘要" in html
    answer = post_form(
        client,
        "/notifications/settings",
        {"email": "t1@example.org", "quiz:email": "instant", "live:sms": "digest",
         "safety:sms": "off"},
    )  # fmt: skip
    assert answer.status_code == 302, answer.get_data(as_text=True)[:500]
    saved = client.get("/notifications/settings").get_data(as_text=True)
    assert 'value="t1@example.org"' in saved
    teacher = user("teacher1")
    chosen = delivery.preferences(teacher)
    assert chosen[("quiz", "email")] == "instant" and chosen[("live", "sms")] == "digest"
    assert chosen[("safety", "sms")] == "instant"  # the form's "off" for safety is ignored

    refused = post_form(client, "/notifications/settings", {"email": "nope"})
    assert refused.status_code == 400
    assert "name@example.com" in refused.get_data(as_text=True)
