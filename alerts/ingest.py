"""Loading alert CloudEvents (a backtest's output, a migrated history) into a store.

Each line goes through the same lifecycle as a live finding, so the store ends up as the live
pipeline would have left it, and ingesting a file twice changes nothing: opened/updated lines
carry their event ids, and a resolved line carries ``resolved:<source alert id>``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from alerts.alert import AlertChange
from alerts.pipeline import AlertPipeline
from models import Category, DetectorKind, DetectorRef, EntityType, Feed, Finding, Severity
from models.contract import contract_errors

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BadAlertLine:
    line_no: int
    reason: str


@dataclass
class IngestReport:
    """What an ingest did: lines read, changes made, and the lines it skipped and why."""

    lines: int = 0
    opened: int = 0
    updated: int = 0
    resolved: int = 0
    bad: list[BadAlertLine] = field(default_factory=list)

    def count(self, changes: Iterable[AlertChange]) -> None:
        for change in changes:
            setattr(self, change.kind, getattr(self, change.kind) + 1)


def finding_from_cloudevent(doc: dict[str, Any]) -> Finding:
    """The finding an alert CloudEvent stands for (a resolved one becomes a cleared finding)."""
    data = doc["data"]
    resolved = doc["type"] == "fenghuo.alert.resolved"
    det = data["detector"]
    return Finding(
        category=Category(data["category"]),
        severity=Severity(data["severity"]),
        score=float(data["score"]),
        feed=Feed(data["feed"]),
        entity_type=EntityType(data["entity_type"]),
        entity_id=data["entity_id"],
        institution_id=data.get("institution_id"),
        event_time=datetime.fromisoformat(doc["time"] if resolved else data["last_seen"]),
        detector=DetectorRef(DetectorKind(det["kind"]), det["name"], det["version"]),
        evidence=dict(data.get("evidence") or {}),
        event_ids=(f"resolved:{data['alert_id']}",) if resolved else tuple(data["event_ids"]),
        explanation=tuple(data.get("explanation") or ()),
        institution_type=data.get("institution_type"),
        region_code=data.get("region_code"),
        cleared=resolved,
    )


def parse_line(line: str) -> Finding:
    """One CloudEvents line -> Finding; ``ValueError`` with the reason when it is bad."""
    try:
        doc = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc.msg}") from exc
    errors = contract_errors("alert", doc)
    if errors:
        raise ValueError("breaks alert.schema.json: " + "; ".join(errors))
    return finding_from_cloudevent(doc)


def ingest(pipeline: AlertPipeline, lines: Iterable[str], *, batch_size: int = 500) -> IngestReport:
    """Put every good line through ``pipeline``; bad lines are reported and skipped."""
    report = IngestReport()
    batch: list[Finding] = []

    def flush() -> None:
        report.count(pipeline.handle_batch(batch))
        report.count(pipeline.tick())
        batch.clear()

    for line_no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        report.lines += 1
        try:
            batch.append(parse_line(line))
        except ValueError as exc:
            report.bad.append(BadAlertLine(line_no, str(exc)))
            continue
        if len(batch) >= batch_size:
            flush()
    flush()
    if report.bad:
        log.warning("skipped %d bad alert lines", len(report.bad))
    return report
