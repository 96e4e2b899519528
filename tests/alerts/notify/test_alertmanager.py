"""The Alertmanager v2 push against a real local HTTP server."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from alerts.notify import AlertmanagerSender, AlertmanagerTarget, DeliveryFailed, Notification
from tests.alerts.notify.conftest import Receiver

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def _event(kind: str, **data: Any) -> dict[str, Any]:
    doc = {
        "alert_id": "a-1",
        "dedup_key": "wash_trade:FJ-TV-0001:P-9",
        "category": "wash_trade",
        "severity": "high",
        "entity_type": "product",
        "entity_id": "P-9",
        "institution_id": "FJ-TV-0001",
        "region_code": "350100",
        "first_seen": "2026-11-26T02:00:00+00:00",
        "last_seen": "2026-11-26T03:00:00+00:00",
        "occurrences": 4,
        "evidence": {"trades": 6, "owner": "O-1"},
    }
    doc.update(data)
    return {
        "id": "a-1.3",
        "type": f"fenghuo.alert.{kind}",
        "time": "2026-11-26T05:00:00+00:00",
        "data": doc,
    }


def _push(receiver: Receiver, *events: dict[str, Any], url: str | None = None) -> Any:
    note = Notification("fenghuo-outbox-9", "office.capital_markets", "g", events, url)

    async def go() -> None:
        sender = AlertmanagerSender(clock=NOW.timestamp)
        try:
            await sender.send(
                note, AlertmanagerTarget(url=receiver.url + "/", active_for=timedelta(hours=6))
            )
        finally:
            await sender.aclose()

    asyncio.run(go())
    (request,) = receiver.requests
    assert request.path == "/api/v2/alerts"
    return request.json()


def test_push_is_a_list_of_postable_alerts(receiver: Receiver) -> None:
    (alert,) = _push(receiver, _event("opened"))
    assert set(alert) == {"labels", "annotations", "startsAt", "endsAt"}
    assert alert["labels"] == {
        "alertname": "wash_trade",
        "severity": "high",
        "receiver": "office.capital_markets",
        "alert_id": "a-1",
        "institution_id": "FJ-TV-0001",
        "region_code": "350100",
    }
    assert alert["startsAt"] == "2026-11-26T02:00:00Z"


def test_active_alert_ends_active_for_after_the_push(receiver: Receiver) -> None:
    (alert,) = _push(receiver, _event("updated"))
    assert alert["endsAt"] == "2026-11-27T14:00:00Z"


def test_resolved_alert_ends_at_its_resolution(receiver: Receiver) -> None:
    (alert,) = _push(receiver, _event("resolved", status="resolved"))
    assert alert["endsAt"] == "2026-11-26T05:00:00Z"


def test_annotations_carry_both_languages_and_evidence(receiver: Receiver) -> None:
    (alert,) = _push(receiver, _event("opened"))
    notes = alert["annotations"]
    assert "对倒/自买自卖" in notes["summary"] and "Wash trade" in notes["summary"]
    assert notes["description"] == "trades: 6\nowner: O-1"
    assert notes["cloudevent_id"] == "a-1.3"


def test_generator_url_links_the_api_when_configured(receiver: Receiver) -> None:
    (alert,) = _push(receiver, _event("opened"), url="https://fh.example/v1/alerts/{alert_id}")
    assert alert["generatorURL"] == "https://fh.example/v1/alerts/a-1"


def test_alert_without_institution_or_region_has_no_such_labels(receiver: Receiver) -> None:
    event = _event("opened")
    del event["data"]["institution_id"], event["data"]["region_code"]
    (alert,) = _push(receiver, event)
    assert "institution_id" not in alert["labels"] and "region_code" not in alert["labels"]


def test_bad_request_is_permanent(receiver: Receiver) -> None:
    receiver.fail_first, receiver.fail_status = 1, 400
    with pytest.raises(DeliveryFailed, match="HTTP 400") as caught:
        _push(receiver, _event("opened"))
    assert caught.value.permanent is True


def test_reminder_is_the_same_alertmanager_alert_with_its_number(receiver: Receiver) -> None:
    (alert,) = _push(receiver, {**_event("opened"), "fenghuorepeat": 2})
    assert alert["labels"]["alert_id"] == "a-1" and "repeat" not in alert["labels"]
    assert alert["annotations"]["repeat"] == "2"
    assert "重复提醒 第2次" in alert["annotations"]["summary"]
    assert alert["endsAt"] == "2026-11-27T14:00:00Z"  # pushed again: active for longer


def test_change_has_no_repeat_annotation(receiver: Receiver) -> None:
    (alert,) = _push(receiver, _event("opened"))
    assert "repeat" not in alert["annotations"]
