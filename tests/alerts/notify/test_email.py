"""E-mail against a real local SMTP server (aiosmtpd): both languages and the evidence."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from dataclasses import replace
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from alerts.notify import DeliveryFailed, EmailSender, EmailTarget, Notification, SmtpConfig


class Inbox:
    """Keeps every message; answers ``refuse`` to DATA when set."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[Any] = []
        self.refuse: str | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse:
            return self.refuse
        self.envelopes.append(envelope)
        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, SmtpConfig]]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield inbox, SmtpConfig(host="127.0.0.1", port=controller.port, sender="fenghuo@jrb.fj")
    controller.stop()


def _event(alert_id: str, category: str, evidence: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"{alert_id}.1",
        "type": "fenghuo.alert.opened",
        "time": "2026-11-26T02:00:00+00:00",
        "data": {
            "alert_id": alert_id,
            "dedup_key": f"{category}:FJ-GU-0003:G-1",
            "category": category,
            "severity": "high",
            "entity_type": "guarantor",
            "entity_id": "FJ-GU-0003",
            "institution_id": "FJ-GU-0003",
            "region_code": "350200",
            "first_seen": "2026-11-26T02:00:00+00:00",
            "last_seen": "2026-11-26T03:00:00+00:00",
            "occurrences": 2,
            "evidence": evidence,
        },
    }


NOTIFICATION = Notification(
    key="fenghuo-outbox-42",
    receiver="eic",
    group_key="route:category=guarantee_leverage",
    events=(
        _event("a-1", "guarantee_leverage", {"leverage": 12.5, "limit": 10, "net_assets": 1.2e8}),
        _event("a-2", "guarantee_circle", {"cycle_length": 3, "members": ["x", "y", "z"]}),
    ),
    alert_url="https://fenghuo.example/v1/alerts/{alert_id}",
)
TARGET = EmailTarget(to=["jinrongban@fj.example", "eic@fj.example"])


def _send(config: SmtpConfig) -> None:
    asyncio.run(EmailSender(config).send(NOTIFICATION, TARGET))


def test_message_reaches_every_address(smtp: tuple[Inbox, SmtpConfig]) -> None:
    inbox, config = smtp
    _send(config)
    (envelope,) = inbox.envelopes
    assert envelope.mail_from == "fenghuo@jrb.fj"
    assert sorted(envelope.rcpt_tos) == ["eic@fj.example", "jinrongban@fj.example"]


def test_subject_names_the_first_alert_in_both_languages(smtp: tuple[Inbox, SmtpConfig]) -> None:
    inbox, config = smtp
    _send(config)
    subject = inbox.messages[0]["Subject"]
    assert "担保放大倍数超限" in subject and "Guarantee leverage" in subject
    assert "等2条" in subject and "and 1 more" in subject


@pytest.mark.parametrize(
    "text",
    [
        "风险类别：担保放大倍数超限（guarantee_leverage）",
        "Category: Guarantee leverage (guarantee_leverage)",
        "风险类别：担保圈/互保（guarantee_circle）",
        "Category: Guarantee circle (guarantee_circle)",
        "严重程度：高",
        "Severity: high",
        "机构：FJ-GU-0003",
        "地区：厦门（350200）",
        "Region: Xiamen (350200)",
        "leverage: 12.5",
        "limit: 10",
        "net_assets: 120,000,000.00",
        "cycle_length: 3",
        "详情：https://fenghuo.example/v1/alerts/a-1",
        "Details: https://fenghuo.example/v1/alerts/a-2",
    ],
)
def test_body_carries_the_evidence_in_chinese_and_english(
    smtp: tuple[Inbox, SmtpConfig], text: str
) -> None:
    inbox, config = smtp
    _send(config)
    body = inbox.messages[0].get_content()
    assert text in body


def test_message_id_follows_the_idempotency_key(smtp: tuple[Inbox, SmtpConfig]) -> None:
    inbox, config = smtp
    _send(config)
    _send(config)
    first, second = inbox.messages
    assert first["Message-ID"] == second["Message-ID"] == "<fenghuo-outbox-42@jrb.fj>"


def test_permanent_smtp_refusal_is_not_retried(smtp: tuple[Inbox, SmtpConfig]) -> None:
    inbox, config = smtp
    inbox.refuse = "554 Transaction failed"
    with pytest.raises(DeliveryFailed, match="554") as caught:
        _send(config)
    assert caught.value.permanent is True


def test_transient_smtp_refusal_is_retried(smtp: tuple[Inbox, SmtpConfig]) -> None:
    inbox, config = smtp
    inbox.refuse = "451 Try again later"
    with pytest.raises(DeliveryFailed, match="451") as caught:
        _send(config)
    assert caught.value.permanent is False


def test_unreachable_smtp_server_is_retried() -> None:
    config = SmtpConfig(host="127.0.0.1", port=_free_port(), timeout_seconds=2)
    with pytest.raises(DeliveryFailed, match="ConnectionRefusedError") as caught:
        _send(config)
    assert caught.value.permanent is False


def _send_reminder(config: SmtpConfig) -> None:
    events = tuple({**e, "fenghuorepeat": 1} for e in NOTIFICATION.events)
    asyncio.run(EmailSender(config).send(replace(NOTIFICATION, events=events), TARGET))


def test_reminder_subject_says_reminder_in_both_languages(smtp: tuple[Inbox, SmtpConfig]) -> None:
    inbox, config = smtp
    _send_reminder(config)
    subject = inbox.messages[0]["Subject"]
    assert subject.startswith("【重复提醒 第1次】担保放大倍数超限（高）FJ-GU-0003 等2条")
    assert "/ [Reminder #1] Guarantee leverage (high) FJ-GU-0003 and 1 more" in subject


@pytest.mark.parametrize(
    "text",
    [
        "重复提醒：预警仍为“待处理”，尚未确认；确认后不再提醒",
        "Reminder: still open, not acknowledged; acknowledging it stops these",
    ],
)
def test_reminder_body_says_how_reminders_stop(smtp: tuple[Inbox, SmtpConfig], text: str) -> None:
    inbox, config = smtp
    _send_reminder(config)
    assert inbox.messages[0].get_content().count(text) == 2  # one per alert
