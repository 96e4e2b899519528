"""Where detector state lives, and what a detector may read besides its own state.

Detectors keep no state on ``self``: the runner passes in the state for the event's key and
stores what comes back. The live worker backs ``StateStore`` with Faust tables, a backtest with
plain dicts, so both run the same detector code.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from models.events import Institution


class StateStore(Protocol):
    """Key-value state by namespace. Values must be JSON-able (dicts, lists, str, numbers)."""

    def get(self, namespace: str, key: str) -> Any | None: ...

    def set(self, namespace: str, key: str, value: Any) -> None: ...


class InstitutionRegistry(Protocol):
    """The latest record per institution, as the ``institutions`` feed last reported it."""

    def get(self, institution_id: str) -> Institution | None: ...


@dataclass
class DictStore:
    """In-memory ``StateStore`` for backtests, training and unit tests."""

    data: dict[str, dict[str, Any]] = field(default_factory=dict)

    def get(self, namespace: str, key: str) -> Any | None:
        return self.data.get(namespace, {}).get(key)

    def set(self, namespace: str, key: str, value: Any) -> None:
        self.data.setdefault(namespace, {})[key] = value

    def size(self, namespace: str) -> int:
        return len(self.data.get(namespace, {}))


@dataclass
class DictRegistry:
    """In-memory ``InstitutionRegistry``: the newest record by event time wins."""

    records: dict[str, Institution] = field(default_factory=dict)

    def get(self, institution_id: str) -> Institution | None:
        return self.records.get(institution_id)

    def put(self, record: Institution) -> None:
        current = self.records.get(record.institution_id)
        if current is None or record.event_time >= current.event_time:
            self.records[record.institution_id] = record

    def __iter__(self) -> Iterator[Institution]:
        return iter(self.records.values())

    def __len__(self) -> int:
        return len(self.records)
