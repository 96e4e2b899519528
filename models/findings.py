"""What a detector says about one event: a Finding, not yet an alert.

Alerts (dedup, routing, lifecycle) are built from findings in ``alerts``; detectors never make
alerts themselves, so the same detector serves the live worker, backtests and training.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from models.categories import Category, DetectorKind, EntityType, Feed, Severity


@dataclass(frozen=True, slots=True)
class DetectorRef:
    """Which detector and which version of its rules produced a finding."""

    kind: DetectorKind
    name: str
    version: str


@dataclass(frozen=True, slots=True)
class Finding:
    """One detector hit.

    ``event_time`` is the event time of the triggering event: it becomes the alert's
    ``first_seen``/``last_seen``. ``cleared=True`` says the condition no longer holds, so an open
    alert with the same identity may resolve.
    """

    category: Category
    severity: Severity
    score: float
    feed: Feed
    entity_type: EntityType
    entity_id: str
    institution_id: str | None
    event_time: datetime
    detector: DetectorRef
    evidence: dict[str, Any] = field(default_factory=dict)
    event_ids: tuple[str, ...] = ()
    explanation: tuple[dict[str, Any], ...] = ()
    institution_type: str | None = None
    region_code: str | None = None
    cleared: bool = False

    def __post_init__(self) -> None:
        if not 0.0 <= self.score <= 1.0:
            raise ValueError(f"score must be in [0, 1], got {self.score}")
        if not self.entity_id:
            raise ValueError("entity_id must not be empty")

    def with_context(self, *, institution_type: str | None, region_code: str | None) -> Finding:
        """Fill in the institution's type and region when the detector did not know them."""
        return replace(
            self,
            institution_type=self.institution_type or institution_type,
            region_code=self.region_code or region_code,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form, used on the ``findings`` topic and in backtests."""
        return {
            "category": str(self.category),
            "severity": str(self.severity),
            "score": self.score,
            "feed": str(self.feed),
            "entity_type": str(self.entity_type),
            "entity_id": self.entity_id,
            "institution_id": self.institution_id,
            "event_time": self.event_time.isoformat(),
            "detector": {
                "kind": str(self.detector.kind),
                "name": self.detector.name,
                "version": self.detector.version,
            },
            "evidence": self.evidence,
            "event_ids": list(self.event_ids),
            "explanation": list(self.explanation),
            "institution_type": self.institution_type,
            "region_code": self.region_code,
            "cleared": self.cleared,
        }

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Finding:
        det = doc["detector"]
        return cls(
            category=Category(doc["category"]),
            severity=Severity(doc["severity"]),
            score=float(doc["score"]),
            feed=Feed(doc["feed"]),
            entity_type=EntityType(doc["entity_type"]),
            entity_id=doc["entity_id"],
            institution_id=doc.get("institution_id"),
            event_time=datetime.fromisoformat(doc["event_time"]),
            detector=DetectorRef(DetectorKind(det["kind"]), det["name"], det["version"]),
            evidence=dict(doc.get("evidence") or {}),
            event_ids=tuple(doc.get("event_ids") or ()),
            explanation=tuple(doc.get("explanation") or ()),
            institution_type=doc.get("institution_type"),
            region_code=doc.get("region_code"),
            cleared=bool(doc.get("cleared", False)),
        )
