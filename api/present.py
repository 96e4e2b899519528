"""Alerts, audit lines, silences and rule sets as the API shows them (plain dicts)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from alerts import Alert, HistoryEntry, Silence
from alerts.store import RuleSet, RuleSetChange
from models import DetectorParams
from models.rules_file import RulesFileError


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


def rules_summary(params: DetectorParams) -> dict[str, Any]:
    """The version findings carry and every setting that differs from domain.md's default."""
    defaults = _flatten(DetectorParams().model_dump(mode="json"))
    values = _flatten(params.model_dump(mode="json"))
    overrides = {
        key: value
        for key, value in values.items()
        if key != "version" and defaults.get(key, _MISSING) != value
    }
    return {"version": params.version, "overrides": overrides}


_MISSING = object()


def _flatten(doc: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(doc, dict) and doc:
        flat: dict[str, Any] = {}
        for key, value in doc.items():
            flat.update(_flatten(value, f"{prefix}{key}."))
        return flat
    return {prefix.rstrip("."): doc}


def rule_set_out(rule_set: RuleSet) -> dict[str, Any]:
    return {
        "version_id": rule_set.version_id,
        "version": rule_set.stamp,
        "declared_version": rule_set.declared_version,
        "sha256": rule_set.sha256,
        "created_by": rule_set.created_by,
        "comment": rule_set.comment,
        "created_at": rule_set.created_at,
        "active": rule_set.active,
        "activated_at": rule_set.activated_at,
        "activated_by": rule_set.activated_by,
    }


def rule_set_detail(rule_set: RuleSet, history: list[RuleSetChange]) -> dict[str, Any]:
    return {
        **rule_set_out(rule_set),
        "yaml": rule_set.yaml,
        "summary": rules_summary(rule_set.params()),
        "history": [
            {
                "at": c.at,
                "actor": c.actor,
                "action": c.action,
                "version_id": c.version_id,
                "detail": c.detail,
            }
            for c in history
        ],
    }


def rule_errors(exc: RulesFileError) -> list[dict[str, Any]]:
    """Each bad key with its line; messages are cut short (they quote the rejected value)."""
    return [
        {"location": e.key, "key": e.key, "line": e.line, "message": e.message[:MAX_MESSAGE]}
        for e in exc.errors
    ]


#: Characters of one rule error message in an answer.
MAX_MESSAGE = 300
