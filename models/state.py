"""Where detector state lives, and what a detector may read besides its own state.

Detectors keep no state on ``self``: the runner passes in the state for the event's key and
stores what comes back. The live worker backs ``StateStore`` with Faust tables, a backtest with
plain dicts, so both run the same detector code.

A detector whose state would grow with a lender's book or with the guarantee network
(``Detector.keyed``) is handed a ``KeyedState`` instead: the whole namespace, read and written
one small sub-key at a time (a key per position, per counterparty, per graph node), so no single
value, and no changelog record, grows with the book or the graph.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from models.events import Institution

#: Separates the parts of a sub-key (``lender|p|loan_id``); contract ids never contain it.
SEP = "|"


class StateStore(Protocol):
    """Key-value state by namespace. Values must be JSON-able (dicts, lists, str, numbers)."""

    def get(self, namespace: str, key: str) -> Any | None: ...

    def set(self, namespace: str, key: str, value: Any) -> None: ...

    def delete(self, namespace: str, key: str) -> None:
        """Forget a key (a no-op when absent); the worker logs a tombstone for it."""
        ...


class InstitutionRegistry(Protocol):
    """The latest record per institution, as the ``institutions`` feed last reported it."""

    def get(self, institution_id: str) -> Institution | None: ...


def sub_key(*parts: str) -> str:
    """A key made of parts, e.g. ``sub_key(lender, "p", loan_id)`` -> ``"lender|p|loan_id"``."""
    return SEP.join(parts)


class StateRepair(NamedTuple):
    """Keys of one owner's keyed state to rewrite after a recovery (``Detector.repair``).

    ``changes`` maps key to new value (None deletes it); ``witness`` is a key of the owner that
    was there before, so the worker logs the changes to the changelog partition it came from.
    """

    owner: str
    witness: str
    changes: dict[str, Any]


class KeyedState:
    """One namespace of a ``StateStore``, handed to a keyed detector as its state.

    Values read are the store's own objects: a detector that changes one in place must still
    ``set`` it, so the worker knows to log it.
    """

    __slots__ = ("namespace", "store")

    def __init__(self, store: StateStore, namespace: str) -> None:
        self.store = store
        self.namespace = namespace

    def get(self, key: str) -> Any | None:
        return self.store.get(self.namespace, key)

    def set(self, key: str, value: Any) -> None:
        self.store.set(self.namespace, key, value)

    def delete(self, key: str) -> None:
        self.store.delete(self.namespace, key)


@dataclass
class DictStore:
    """In-memory ``StateStore`` for backtests, training and unit tests."""

    data: dict[str, dict[str, Any]] = field(default_factory=dict)

    def get(self, namespace: str, key: str) -> Any | None:
        return self.data.get(namespace, {}).get(key)

    def set(self, namespace: str, key: str, value: Any) -> None:
        self.data.setdefault(namespace, {})[key] = value

    def delete(self, namespace: str, key: str) -> None:
        self.data.get(namespace, {}).pop(key, None)

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
