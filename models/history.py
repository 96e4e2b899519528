"""History and label files (contracts/history-format.md): JSON lines, read and written here only.

A history line is ``{"topic", "key", "value"}``; a label line is one injected scenario. Reading
never stops at a bad line: it yields a ``BadLine`` with the reason and goes on.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from models.categories import Category, Feed
from models.contract import contract_errors
from models.errors import InvalidEvent
from models.events import FeedEvent, parse_event

FEED_TOPICS = frozenset({Feed.LOANS, Feed.GUARANTEES, Feed.TRADES, Feed.INSTITUTIONS})


@dataclass(frozen=True, slots=True)
class HistoryRecord:
    """One feed record as it would be produced to Kafka."""

    topic: str
    key: str
    value: dict[str, Any]

    def to_json(self) -> str:
        return json.dumps(
            {"topic": self.topic, "key": self.key, "value": self.value}, ensure_ascii=False
        )


@dataclass(frozen=True, slots=True)
class BadLine:
    """A history line that is bad input: not JSON, unknown topic, or breaks its contract."""

    line_no: int
    reason: str
    raw: str


@dataclass(frozen=True, slots=True)
class Label:
    """One injected risk scenario with the ids an alert about it would name."""

    scenario_id: str
    category: Category
    entity_type: str
    entity_id: str
    institution_id: str
    start: datetime
    end: datetime
    event_ids: tuple[str, ...] = field(default=())

    def to_json(self) -> str:
        doc = asdict(self)
        doc["category"] = str(self.category)
        doc["start"] = self.start.isoformat()
        doc["end"] = self.end.isoformat()
        doc["event_ids"] = list(self.event_ids)
        return json.dumps(doc, ensure_ascii=False)

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Label:
        return cls(
            scenario_id=str(doc["scenario_id"]),
            category=Category(doc["category"]),
            entity_type=str(doc.get("entity_type", "")),
            entity_id=str(doc.get("entity_id") or ""),
            institution_id=str(doc.get("institution_id") or ""),
            start=datetime.fromisoformat(doc["start"]),
            end=datetime.fromisoformat(doc["end"]),
            event_ids=tuple(doc.get("event_ids") or ()),
        )


def labels_path_for(history: Path) -> Path:
    """Where the labels of a history file live by default: ``X.jsonl`` -> ``X.labels.jsonl``."""
    name = history.name
    stem = name[: -len(".jsonl")] if name.endswith(".jsonl") else name
    return history.with_name(f"{stem}.labels.jsonl")


def parse_line(line_no: int, line: str) -> HistoryRecord | BadLine:
    """Check one history line: JSON, known topic, string key, value valid against its contract."""
    try:
        doc = json.loads(line)
    except ValueError as exc:
        return BadLine(line_no, f"not JSON: {exc}", line)
    if not isinstance(doc, dict):
        return BadLine(line_no, "not a JSON object", line)
    topic, key, value = doc.get("topic"), doc.get("key"), doc.get("value")
    if topic not in FEED_TOPICS:
        return BadLine(line_no, f"unknown topic {topic!r}", line)
    if not isinstance(key, str) or not key:
        return BadLine(line_no, "key must be a non-empty string", line)
    if not isinstance(value, dict):
        return BadLine(line_no, "value must be a JSON object", line)
    errors = contract_errors(topic, value)
    if errors:
        return BadLine(line_no, f"breaks the {topic} contract: {'; '.join(errors)}", line)
    return HistoryRecord(topic, key, value)


def read_history(path: Path | str) -> Iterator[HistoryRecord | BadLine]:
    """Yield each non-blank line of a history file as a record or a bad line."""
    with Path(path).open(encoding="utf-8", errors="replace") as fh:
        for line_no, line in enumerate(fh, start=1):
            if line.strip():
                yield parse_line(line_no, line)


def to_event(record: HistoryRecord) -> FeedEvent:
    """The typed event of a valid record; raises ``InvalidEvent`` for impossible values."""
    try:
        return parse_event(record.topic, record.value)
    except (TypeError, KeyError) as exc:
        raise InvalidEvent(f"cannot build a {record.topic} event: {exc}") from exc


def write_history(out: TextIO, records: Iterable[HistoryRecord]) -> int:
    """Write records as JSON lines; returns how many were written."""
    count = 0
    for record in records:
        out.write(record.to_json())
        out.write("\n")
        count += 1
    return count


def read_labels(path: Path | str) -> list[Label]:
    with Path(path).open(encoding="utf-8") as fh:
        return [Label.from_dict(json.loads(line)) for line in fh if line.strip()]


def write_labels(out: TextIO, labels: Iterable[Label]) -> int:
    count = 0
    for label in labels:
        out.write(label.to_json())
        out.write("\n")
        count += 1
    return count
