"""Alerts, audit lines and silences as the API shows them (plain dicts for the schemas)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from alerts import Alert, HistoryEntry, Silence


def alert_out(alert: Alert) -> dict[str, Any]:
    return {
        "alert_id": alert.alert_id,
        "dedup_key": alert.dedup_key,
        "category": alert.category,
        "severity": alert.severity,
        "score": alert.score,
        "feed": alert.feed,
        "detector": {
            "kind": str(alert.detector.kind),
            "name": alert.detector.name,
            "version": alert.detector.version,
        },
        "entity_type": str(alert.entity_type),
        "entity_id": alert.entity_id,
        "institution_id": alert.institution_id,
        "institution_type": alert.institution_type,
        "region_code": alert.region_code,
        "routes": list(alert.routes),
        "first_seen": alert.first_seen,
        "last_seen": alert.last_seen,
        "occurrences": alert.occurrences,
        "status": alert.status,
        "revision": alert.revision,
        "resolved_at": alert.resolved_at,
        "assignee": alert.assignee,
        "escalation_level": alert.escalation_level,
        "false_positive": alert.false_positive,
        "acknowledged_at": alert.acknowledged_at,
    }


def history_out(entry: HistoryEntry) -> dict[str, Any]:
    return {
        "at": entry.at,
        "actor": entry.actor,
        "action": entry.action,
        "from_status": entry.from_status,
        "to_status": entry.to_status,
        "revision": entry.revision,
        "detail": entry.detail,
    }


def alert_detail(
    alert: Alert, *, event_ids: list[str], history: list[HistoryEntry]
) -> dict[str, Any]:
    return {
        **alert_out(alert),
        "evidence": alert.evidence,
        "explanation": list(alert.explanation),
        "event_ids": event_ids or list(alert.event_ids),
        "history": [history_out(h) for h in history],
    }


def silence_out(silence: Silence, *, now: datetime) -> dict[str, Any]:
    return {
        "silence_id": silence.silence_id,
        "matchers": list(silence.matchers),
        "starts_at": silence.starts_at,
        "ends_at": silence.ends_at,
        "created_by": silence.created_by,
        "comment": silence.comment,
        "created_at": silence.created_at,
        "expired_by": silence.expired_by,
        "active": silence.active(now),
    }
