"""Push to an Alertmanager-compatible v2 API (``POST /api/v2/alerts``), for sites running one.

Labels come from bounded alert fields plus ``alert_id``, which keeps one Fenghuo alert one
Alertmanager alert (same labels on every push, so the resolved notice ends exactly it).
Active alerts are pushed with ``endsAt`` = now + ``active_for``; the resolved notice sets
``endsAt`` to the resolution time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from alerts.notify.config import AlertmanagerTarget, Target
from alerts.notify.notification import DeliveryFailed, Notification, repeat_of
from alerts.notify.templates import evidence_lines, headline, kind_of
from alerts.notify.webhook import RETRYABLE_4XX

API_PATH = "/api/v2/alerts"


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def postable_alert(
    event: Mapping[str, Any],
    *,
    receiver: str,
    now: datetime,
    active_for: timedelta,
    link: str | None,
) -> dict[str, Any]:
    """One element of the v2 ``PostableAlerts`` list for an alert CloudEvent."""
    data = event["data"]
    labels = {
        "alertname": data["category"],
        "severity": data["severity"],
        "receiver": receiver,
        "alert_id": data["alert_id"],
    }
    for name in ("institution_id", "region_code"):
        if data.get(name):
            labels[name] = data[name]
    zh, en = headline(event)
    annotations = {
        "summary": f"{zh} / {en}",
        "description": "\n".join(evidence_lines(data.get("evidence", {}))),
        "dedup_key": data["dedup_key"],
        "entity": f"{data['entity_type']}:{data['entity_id']}",
        "occurrences": str(data["occurrences"]),
        "cloudevent_id": event["id"],
    }
    if repeat_of(event):
        annotations["repeat"] = str(repeat_of(event))
    if kind_of(event) == "resolved":
        ends = datetime.fromisoformat(event["time"])
    else:
        ends = now + active_for
    alert: dict[str, Any] = {
        "labels": labels,
        "annotations": annotations,
        "startsAt": _rfc3339(datetime.fromisoformat(data["first_seen"])),
        "endsAt": _rfc3339(ends),
    }
    if link:
        alert["generatorURL"] = link
    return alert


class AlertmanagerSender:
    """POSTs every alert of a notification in one v2 request."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._client = httpx.AsyncClient(follow_redirects=False)

    async def send(self, notification: Notification, target: Target) -> None:
        assert isinstance(target, AlertmanagerTarget)
        now = datetime.fromtimestamp(self._clock(), UTC)
        alerts = [
            postable_alert(
                event,
                receiver=notification.receiver,
                now=now,
                active_for=target.active_for,
                link=notification.link(event["data"]["alert_id"]),
            )
            for event in notification.events
        ]
        url = target.url.rstrip("/") + API_PATH
        try:
            response = await self._client.post(url, json=alerts, timeout=target.timeout_seconds)
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"POST {url}: {type(exc).__name__}: {exc}") from exc
        status = response.status_code
        if 200 <= status < 300:
            return
        permanent = 400 <= status < 500 and status not in RETRYABLE_4XX
        raise DeliveryFailed(
            f"POST {url}: HTTP {status} {response.text[:200]!r}", permanent=permanent
        )

    async def aclose(self) -> None:
        await self._client.aclose()
