"""Scores alerts against a labels file (contracts/history-format.md): recall, precision, delay.

An alert matches a scenario when the categories are equal, an id of one (entity or institution)
equals an id of the other or their event ids overlap, and the alert's ``first_seen`` lies within
[start, end + grace]. ``model_drift`` matches on category and window alone. Empty ids never match.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from models import Category
from models.history import Label

DEFAULT_GRACE = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class ScoredAlert:
    """The fields of an alert that evaluation needs, from its CloudEvent ``data``."""

    alert_id: str
    category: str
    entity_id: str
    institution_id: str
    event_ids: frozenset[str]
    first_seen: datetime

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> ScoredAlert:
        return cls(
            alert_id=str(data["alert_id"]),
            category=str(data["category"]),
            entity_id=str(data.get("entity_id") or ""),
            institution_id=str(data.get("institution_id") or ""),
            event_ids=frozenset(data.get("event_ids") or ()),
            first_seen=datetime.fromisoformat(data["first_seen"]),
        )


@dataclass(frozen=True, slots=True)
class CategoryScore:
    category: str
    scenarios: int
    alerts: int
    matched_scenarios: int
    matched_alerts: int
    recall: float | None
    precision: float | None
    median_delay_seconds: float | None


def unique_alerts(cloudevents: Iterable[Mapping[str, Any]]) -> list[ScoredAlert]:
    """One entry per alert id from a stream of opened/updated/resolved CloudEvents (or data)."""
    seen: dict[str, ScoredAlert] = {}
    for doc in cloudevents:
        data = doc.get("data", doc)
        alert = ScoredAlert.from_data(data)
        seen.setdefault(alert.alert_id, alert)
    return list(seen.values())


def matches(alert: ScoredAlert, label: Label, grace: timedelta = DEFAULT_GRACE) -> bool:
    if alert.category != label.category:
        return False
    if not label.start <= alert.first_seen <= label.end + grace:
        return False
    if label.category == Category.MODEL_DRIFT:
        return True
    alert_ids = {i for i in (alert.entity_id, alert.institution_id) if i}
    label_ids = {i for i in (label.entity_id, label.institution_id) if i}
    return bool(alert_ids & label_ids) or bool(alert.event_ids & set(label.event_ids))


def evaluate(
    alerts: Iterable[ScoredAlert], labels: Iterable[Label], *, grace: timedelta = DEFAULT_GRACE
) -> list[CategoryScore]:
    """Per-category recall, precision and median detection delay, sorted by category."""
    by_cat_alerts: dict[str, list[ScoredAlert]] = {}
    for alert in alerts:
        by_cat_alerts.setdefault(alert.category, []).append(alert)
    by_cat_labels: dict[str, list[Label]] = {}
    for label in labels:
        by_cat_labels.setdefault(str(label.category), []).append(label)
    return [
        _score(cat, by_cat_alerts.get(cat, []), by_cat_labels.get(cat, []), grace)
        for cat in sorted(set(by_cat_alerts) | set(by_cat_labels))
    ]


def _score(
    category: str, alerts: list[ScoredAlert], labels: list[Label], grace: timedelta
) -> CategoryScore:
    matched_alert_ids: set[str] = set()
    delays: list[float] = []
    for label in labels:
        hits = [a for a in alerts if matches(a, label, grace)]
        if hits:
            matched_alert_ids.update(a.alert_id for a in hits)
            first = min(a.first_seen for a in hits)
            delays.append(max(0.0, (first - label.start).total_seconds()))
    return CategoryScore(
        category=category,
        scenarios=len(labels),
        alerts=len(alerts),
        matched_scenarios=len(delays),
        matched_alerts=len(matched_alert_ids),
        recall=len(delays) / len(labels) if labels else None,
        precision=len(matched_alert_ids) / len(alerts) if alerts else None,
        median_delay_seconds=statistics.median(delays) if delays else None,
    )


def as_json(scores: Iterable[CategoryScore]) -> list[dict[str, Any]]:
    return [asdict(s) for s in scores]


def format_table(scores: Iterable[CategoryScore]) -> str:
    """A fixed-width table for terminals and docs (Markdown-compatible)."""
    rows = [
        "| category | scenarios | alerts | recall | precision | median delay |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for s in scores:
        rows.append(
            f"| {s.category} | {s.scenarios} | {s.alerts} | {_ratio(s.recall)} "
            f"| {_ratio(s.precision)} | {_delay(s.median_delay_seconds)} |"
        )
    return "\n".join(rows)


def _ratio(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _delay(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"
