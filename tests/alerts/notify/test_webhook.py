"""Webhook signatures and the webhook channel against a real local HTTP server."""

from __future__ import annotations

import asyncio
import json
import socket
from dataclasses import replace

import pytest
from pydantic import SecretStr

from alerts.notify import (
    DeliveryFailed,
    InvalidSignature,
    Notification,
    WebhookSender,
    WebhookTarget,
    sign,
    verify_signature,
    webhook_body,
)
from tests.alerts.notify.conftest import Receiver

SECRET = "s3cret-of-eic"
BODY = b'{"events":[{"id":"a.1"}]}'
T = 1_790_000_000


def _notification() -> Notification:
    event = {
        "id": "alert-1.1",
        "type": "fenghuo.alert.opened",
        "time": "2026-11-26T02:00:00+00:00",
        "data": {
            "alert_id": "alert-1",
            "dedup_key": "usurious_rate:FJ-MC-0007:L-0001",
            "category": "usurious_rate",
            "severity": "medium",
            "entity_type": "loan",
            "entity_id": "L-0001",
            "institution_id": "FJ-MC-0007",
            "first_seen": "2026-11-26T02:00:00+00:00",
            "last_seen": "2026-11-26T02:00:00+00:00",
            "occurrences": 1,
            "evidence": {"rate": 0.15, "cap": 0.12},
        },
    }
    return Notification("fenghuo-outbox-7", "eic", "route:category=usurious_rate", (event,))


def test_valid_signature_verifies() -> None:
    header = sign(SECRET, BODY, T)
    assert verify_signature(SECRET, header, BODY, 300, now=T + 10) == T


def test_tampered_body_is_refused() -> None:
    header = sign(SECRET, BODY, T)
    with pytest.raises(InvalidSignature, match="does not match"):
        verify_signature(SECRET, header, BODY.replace(b"a.1", b"a.2"), 300, now=T)


def test_wrong_secret_is_refused() -> None:
    header = sign("another", BODY, T)
    with pytest.raises(InvalidSignature, match="does not match"):
        verify_signature(SECRET, header, BODY, 300, now=T)


@pytest.mark.parametrize("age", [301, -301])
def test_timestamp_outside_tolerance_is_refused(age: int) -> None:
    header = sign(SECRET, BODY, T)
    with pytest.raises(InvalidSignature, match="old"):
        verify_signature(SECRET, header, BODY, 300, now=T + age)


def test_timestamp_exactly_at_tolerance_is_accepted() -> None:
    assert verify_signature(SECRET, sign(SECRET, BODY, T), BODY, 300, now=T + 300) == T


def test_changed_timestamp_breaks_the_signature() -> None:
    forged = sign(SECRET, BODY, T).replace(f"t={T}", f"t={T + 60}")
    with pytest.raises(InvalidSignature, match="does not match"):
        verify_signature(SECRET, forged, BODY, 300, now=T + 60)


@pytest.mark.parametrize("header", ["", "v1=abc", "t=soon,v1=abc"])
def test_malformed_header_is_refused(header: str) -> None:
    with pytest.raises(InvalidSignature, match="timestamp"):
        verify_signature(SECRET, header, BODY, 300, now=T)


def test_any_of_several_v1_signatures_may_match() -> None:
    """During a secret rotation the sender may sign with both secrets."""
    header = sign("old", BODY, T) + ",v1=" + sign(SECRET, BODY, T).split("v1=")[1]
    assert verify_signature(SECRET, header, BODY, 300, now=T) == T


def _send(receiver: Receiver, timeout: float = 10.0) -> None:
    target = WebhookTarget(
        url=receiver.url + "/hook", secret=SecretStr(SECRET), timeout_seconds=timeout
    )

    async def go() -> None:
        sender = WebhookSender()
        try:
            await sender.send(_notification(), target)
        finally:
            await sender.aclose()

    asyncio.run(go())


def test_receiver_gets_signed_cloudevents_with_idempotency_key(receiver: Receiver) -> None:
    _send(receiver)
    (got,) = receiver.requests
    verify_signature(SECRET, got.headers["fenghuo-signature"], got.body, 300)
    assert got.headers["fenghuo-idempotency-key"] == "fenghuo-outbox-7"
    doc = json.loads(got.body)
    assert [e["id"] for e in doc["events"]] == ["alert-1.1"]
    assert "高利放贷" in doc["summary"] and "Usurious lending rate" in doc["summary"]


def test_secret_is_not_in_the_request(receiver: Receiver) -> None:
    _send(receiver)
    (got,) = receiver.requests
    assert SECRET.encode() not in got.body
    assert all(SECRET not in value for value in got.headers.values())


@pytest.mark.parametrize(
    ("status", "permanent"), [(400, True), (404, True), (408, False), (429, False), (500, False)]
)
def test_refusals_are_permanent_except_timeouts_and_rate_limits(
    receiver: Receiver, status: int, permanent: bool
) -> None:
    receiver.fail_first, receiver.fail_status = 1, status
    with pytest.raises(DeliveryFailed, match=f"HTTP {status}") as caught:
        _send(receiver)
    assert caught.value.permanent is permanent


def test_unreachable_receiver_is_retried() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    closed = Receiver(url=f"http://127.0.0.1:{port}")
    with pytest.raises(DeliveryFailed, match="ConnectError") as caught:
        _send(closed, timeout=2)
    assert caught.value.permanent is False


def test_body_of_changes_says_repeat_zero() -> None:
    doc = json.loads(webhook_body(_notification()))
    assert doc["repeat"] == 0
    assert "fenghuorepeat" not in doc["events"][0]


def test_body_marks_each_reminder_and_its_highest_number() -> None:
    note = _notification()
    change = note.events[0]
    reminder = {**change, "id": "alert-2.4", "fenghuorepeat": 2}
    doc = json.loads(webhook_body(replace(note, events=(change, reminder))))
    assert doc["repeat"] == 2
    assert [e.get("fenghuorepeat", 0) for e in doc["events"]] == [0, 2]
    assert "[Reminder #2] Usurious lending rate" in doc["summary"]
