"""Alert identity and the pure lifecycle steps: open, merge a repeat, resolve.

One active alert per dedup key (docs/architecture.md). A repeat raises ``occurrences`` once per
finding that brings at least one new event id; the pipeline drops findings whose event ids it
has all seen, so a replayed stream changes nothing.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from alerts.alert import Alert, AlertStatus, utc
from models import Finding

#: Namespace of the deterministic alert ids (uuid5), so replays and re-ingests agree on ids.
_ALERT_ID_NAMESPACE = uuid.UUID("5d0f3c1e-6f0b-4a51-9b8e-4a0e8f3c2b17")


def dedup_key(category: str, institution_id: str | None, entity_id: str) -> str:
    return f"{category}:{institution_id or '-'}:{entity_id}"


def finding_key(finding: Finding) -> str:
    return dedup_key(str(finding.category), finding.institution_id, finding.entity_id)


def finding_event_ids(finding: Finding) -> tuple[str, ...]:
    """The finding's event ids, or one derived from detector and event time when it has none.

    Composite findings (regional clusters, drift) may name no source event; the derived id keeps
    them idempotent under replay all the same.
    """
    if finding.event_ids:
        return tuple(dict.fromkeys(finding.event_ids))
    return (f"{finding.detector.name}@{utc(finding.event_time).isoformat()}",)


def new_alert_id(key: str, first_event_id: str) -> str:
    """Deterministic: the same first occurrence of the same key always gets the same id."""
    return "al-" + uuid.uuid5(_ALERT_ID_NAMESPACE, f"{key}\x00{first_event_id}").hex


def sample_event_ids(current: tuple[str, ...], new: tuple[str, ...], limit: int) -> tuple[str, ...]:
    """A bounded sample: the first ``limit // 2`` ids ever seen, then the most recent ones."""
    merged = tuple(dict.fromkeys(current + new))
    if len(merged) <= limit:
        return merged
    head = limit // 2
    return merged[:head] + merged[len(merged) - (limit - head) :]


def jsonable(value: Any) -> Any:
    """Evidence as plain JSON (dates and other values become strings), as the store keeps it."""
    return json.loads(json.dumps(value, default=str, ensure_ascii=False))


def open_alert(
    finding: Finding,
    *,
    event_ids: tuple[str, ...],
    max_event_ids: int,
    now: datetime,
) -> Alert:
    """A new alert from its first finding; routes are filled in by the router."""
    key = finding_key(finding)
    at = utc(finding.event_time)
    return Alert(
        alert_id=new_alert_id(key, event_ids[0]),
        dedup_key=key,
        category=finding.category,
        severity=finding.severity,
        score=finding.score,
        feed=finding.feed,
        detector=finding.detector,
        entity_type=finding.entity_type,
        entity_id=finding.entity_id,
        institution_id=finding.institution_id,
        institution_type=finding.institution_type,
        region_code=finding.region_code,
        routes=(),
        first_seen=at,
        last_seen=at,
        event_ids=sample_event_ids((), event_ids, max_event_ids),
        evidence=jsonable(finding.evidence),
        explanation=tuple(jsonable(list(finding.explanation))),
        occurrences=1,
        status=AlertStatus.OPEN,
        revision=1,
        created_at=utc(now),
        updated_at=utc(now),
    )


def merge(
    alert: Alert,
    finding: Finding,
    *,
    event_ids: tuple[str, ...],
    max_event_ids: int,
    now: datetime,
) -> Alert:
    """A repeat: one more occurrence, the widest time span, the highest severity and score.

    Evidence and explanation follow the latest finding by event time (the current figures).
    """
    at = utc(finding.event_time)
    latest = at >= alert.last_seen
    severity = finding.severity if finding.severity.rank > alert.severity.rank else alert.severity
    return replace(
        alert,
        severity=severity,
        score=max(alert.score, finding.score),
        first_seen=min(alert.first_seen, at),
        last_seen=max(alert.last_seen, at),
        event_ids=sample_event_ids(alert.event_ids, event_ids, max_event_ids),
        evidence=jsonable(finding.evidence) if latest else alert.evidence,
        explanation=tuple(jsonable(list(finding.explanation))) if latest else alert.explanation,
        institution_type=alert.institution_type or finding.institution_type,
        region_code=alert.region_code or finding.region_code,
        occurrences=alert.occurrences + 1,
        revision=alert.revision + 1,
        updated_at=utc(now),
    )


def resolve(alert: Alert, *, at: datetime, now: datetime) -> Alert:
    """Resolved at ``at`` (event time of the clearing finding, or end of the quiet period)."""
    return replace(
        alert,
        status=AlertStatus.RESOLVED,
        resolved_at=max(utc(at), alert.last_seen),
        revision=alert.revision + 1,
        updated_at=utc(now),
    )


def quiet_expired(alert: Alert, *, clock: datetime, quiet_period: timedelta) -> bool:
    """True when nothing was seen for longer than the quiet period (exactly at it: still open)."""
    return alert.active and utc(clock) - alert.last_seen > quiet_period
