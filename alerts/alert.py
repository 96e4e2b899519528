"""The Alert: the stored state of one risk that people act on, and its CloudEvents form.

``first_seen``/``last_seen`` are event times taken from findings (a replayed history runs faster
than real time); ``created_at``/``updated_at`` are wall-clock times of the store writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from models import Category, DetectorRef, EntityType, Feed, Severity

ChangeKind = Literal["opened", "updated", "resolved"]


class AlertStatus(StrEnum):
    """The case workflow: open -> acknowledged -> escalated -> resolved (or suppressed)."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    ESCALATED = "escalated"
    RESOLVED = "resolved"
    SUPPRESSED = "suppressed"

    @property
    def active(self) -> bool:
        """Every status but ``resolved`` holds the dedup key: repeats merge into it."""
        return self is not AlertStatus.RESOLVED


ACTIVE_STATUSES = tuple(s for s in AlertStatus if s.active)


def utc(moment: datetime) -> datetime:
    """The same instant in UTC; naive datetimes are taken as UTC (the store keeps UTC)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def rfc3339(moment: datetime) -> str:
    return utc(moment).isoformat()


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert; immutable, changed with ``dataclasses.replace`` by the lifecycle functions."""

    alert_id: str
    dedup_key: str
    category: Category
    severity: Severity
    score: float
    feed: Feed
    detector: DetectorRef
    entity_type: EntityType
    entity_id: str
    institution_id: str | None
    institution_type: str | None
    region_code: str | None
    routes: tuple[str, ...]
    first_seen: datetime
    last_seen: datetime
    event_ids: tuple[str, ...]
    evidence: dict[str, Any] = field(default_factory=dict)
    explanation: tuple[dict[str, Any], ...] = ()
    occurrences: int = 1
    status: AlertStatus = AlertStatus.OPEN
    revision: int = 1
    resolved_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    assignee: str | None = None
    escalation_level: int = 0
    false_positive: bool = False
    acknowledged_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.status.active

    def data(self) -> dict[str, Any]:
        """The ``data`` member of the CloudEvent (alert.schema.json); absent optionals omitted."""
        doc: dict[str, Any] = {
            "alert_id": self.alert_id,
            "dedup_key": self.dedup_key,
            "category": str(self.category),
            "severity": str(self.severity),
            "score": self.score,
            "feed": str(self.feed),
            "detector": {
                "kind": str(self.detector.kind),
                "name": self.detector.name,
                "version": self.detector.version,
            },
            "entity_type": str(self.entity_type),
            "entity_id": self.entity_id,
            "routes": list(self.routes),
            "evidence": self.evidence,
            "explanation": list(self.explanation),
            "event_ids": list(self.event_ids),
            "first_seen": rfc3339(self.first_seen),
            "last_seen": rfc3339(self.last_seen),
            "occurrences": self.occurrences,
            "status": str(self.status),
        }
        for name in ("institution_id", "institution_type", "region_code"):
            value = getattr(self, name)
            if value is not None:
                doc[name] = value
        return doc

    def to_cloudevent(self, kind: ChangeKind) -> dict[str, Any]:
        """CloudEvents 1.0 structured JSON, valid against ``alert.schema.json``.

        The id is ``<alert_id>.<revision>``: unique per emitted change, and the same when a
        change is delivered again, so consumers can drop redeliveries.
        """
        when = self.resolved_at if kind == "resolved" and self.resolved_at else self.last_seen
        return {
            "specversion": "1.0",
            "id": f"{self.alert_id}.{self.revision}",
            "source": f"/fenghuo/stream/{self.feed}",
            "type": f"fenghuo.alert.{kind}",
            "time": rfc3339(when),
            "subject": self.entity_id,
            "datacontenttype": "application/json",
            "data": self.data(),
        }


@dataclass(frozen=True, slots=True)
class AlertChange:
    """What one finding (or one tick) did to one alert: the stored state after the change."""

    kind: ChangeKind
    alert: Alert
    #: The CloudEvent already encoded as JSON (the bytes its ``topic_outbox`` row holds), so
    #: the produce right after the commit sends those bytes without encoding them again.
    encoded: str | None = field(default=None, compare=False, repr=False)

    @property
    def dedup_key(self) -> str:
        return self.alert.dedup_key

    def cloudevent(self) -> dict[str, Any]:
        return self.alert.to_cloudevent(self.kind)
