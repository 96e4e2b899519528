"""An ``alerts`` table row for store tests that insert below the repository (migrations, scans)."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def alert_row(alert_id: str, seen: datetime, **overrides: Any) -> dict[str, Any]:
    """An open usurious-rate alert first and last seen at ``seen``; ``overrides`` replace fields."""
    row: dict[str, Any] = {
        "alert_id": alert_id,
        "dedup_key": f"usurious_rate:FJ-1:{alert_id}",
        "category": "usurious_rate",
        "severity": "medium",
        "score": 0.5,
        "feed": "loans",
        "detector_kind": "rule",
        "detector_name": "rate_cap",
        "detector_version": "1",
        "entity_type": "loan",
        "entity_id": alert_id,
        "routes": ["eic"],
        "evidence": {},
        "explanation": [],
        "event_ids": ["e1"],
        "first_seen": seen,
        "last_seen": seen,
        "occurrences": 1,
        "status": "open",
        "revision": 1,
        "created_at": seen,
        "updated_at": seen,
    }
    return row | overrides
