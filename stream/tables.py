"""Detector state and the institution registry, held in Faust tables.

Each detector namespace gets one ``app.Table`` (JSON keys and values, changelog topic
``<app id>-state-<namespace>-changelog``) so its state survives restarts and rebalances.

Writes are applied at once and reach the changelog write-behind: a key changed many times
within a second is logged once, with its latest value, by the ``flush_state`` timer; what is
still unlogged when an offset commit starts is queued then (``ChangelogFlush``), and Faust
flushes the producer before it commits, so a committed offset never runs ahead of the state it
produced. That keeps the changelog to one record per hot key per commit instead of one per
event. Keyed detectors (a lender's book, the guarantee graph) write small sub-keys, so only
the keys an event touched are logged, never a whole book; a deleted key is logged as a
tombstone (a null value, which compaction removes and recovery deletes). Each key goes to the
changelog partition of the message that changed it, set explicitly: micro-batches mix
partitions, and Faust's implicit "current event" would put them all on the last one's.
The registry is a ``GlobalTable``: every worker sees every institution, whichever partition of
``institutions`` it consumes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import faust
from faust.types import TableT

from models import Institution, InvalidEvent, parse_event
from models.events import parse_time
from models.state import SEP

REGISTRY_TABLE = "institution-registry"
#: Serializer that leaves a None value as a Kafka null: the changelog tombstone of a deleted key.
TOMBSTONE = "raw"


def state_table_name(namespace: str) -> str:
    return f"state-{namespace}"


def declare_state_tables(app: faust.App, partitions: Mapping[str, int]) -> dict[str, TableT]:
    """One table per namespace, with the partition count of the topic whose agent writes it."""
    return {
        ns: app.Table(state_table_name(ns), key_type=str, partitions=n, help=f"{ns} state")
        for ns, n in sorted(partitions.items())
    }


def declare_registry_table(app: faust.App) -> TableT:
    """One partition and a recovery buffer of one, as Faust advises for global tables."""
    return app.GlobalTable(
        REGISTRY_TABLE,
        key_type=str,
        partitions=1,
        recovery_buffer_size=1,
        help="latest record per institution",
    )


def _write(table: TableT, partition: int, key: str, value: Any) -> None:
    table.data[key] = value
    table.send_changelog(partition, key, value)


class StateTables:
    """The detector state tables of one app, with the keys changed since the last flush.

    Parameters
    ----------
    tables : mapping of namespace to table
    """

    def __init__(self, tables: Mapping[str, TableT]) -> None:
        self.tables = dict(tables)
        self._dirty: dict[tuple[str, str], int] = {}

    def store(
        self, partition: int, key_partitions: Mapping[str, int] | None = None
    ) -> TableStateStore:
        """The ``StateStore`` for events read from source partition ``partition``.

        ``key_partitions`` overrides it per state key, for a batch mixing partitions whose
        state keys are the message keys (borrowers).
        """
        return TableStateStore(self, partition, key_partitions)

    def mark(self, namespace: str, key: str, partition: int) -> None:
        self._dirty[(namespace, key)] = partition

    @property
    def pending(self) -> int:
        return len(self._dirty)

    def pending_keys(self) -> dict[tuple[str, str], int]:
        """The keys waiting for the changelog, (namespace, key) -> changelog partition."""
        return dict(self._dirty)

    def flush(self) -> int:
        """Queue the latest value of every changed key on its changelog; returns how many.

        Synchronous (Faust's ``send_soon`` only buffers), so it can run in a commit hook.
        """
        dirty, self._dirty = self._dirty, {}
        for (namespace, key), partition in dirty.items():
            table = self.tables[namespace]
            value = table.data.get(key)
            if value is None:
                table.send_changelog(partition, key, None, value_serializer=TOMBSTONE)
            else:
                table.send_changelog(partition, key, value)
        return len(dirty)

    async def flush_async(self) -> int:
        """Produce the changed keys straight to the producer (batched, no buffer hand-off).

        Run often by a timer, so the commit hook finds little left; keys changed meanwhile
        are simply marked again.
        """
        dirty, self._dirty = self._dirty, {}
        for (namespace, key), partition in dirty.items():
            table = self.tables[namespace]
            value = table.data.get(key)
            await table.changelog_topic.send(
                key=key,
                value=value,
                partition=partition,
                value_serializer=TOMBSTONE if value is None else None,
                force=True,
            )
        return len(dirty)


class TableStateStore:
    """``models.state.StateStore`` over the state tables, for one source partition."""

    def __init__(
        self,
        state: StateTables,
        partition: int,
        key_partitions: Mapping[str, int] | None = None,
    ) -> None:
        self.state = state
        self.partition = partition
        self.key_partitions = key_partitions or {}

    def get(self, namespace: str, key: str) -> Any | None:
        return self.state.tables[namespace].data.get(key)

    def set(self, namespace: str, key: str, value: Any) -> None:
        self.state.tables[namespace].data[key] = value
        self.state.mark(namespace, key, self._partition_of(key))

    def delete(self, namespace: str, key: str) -> None:
        data = self.state.tables[namespace].data
        if key in data:
            del data[key]
            self.state.mark(namespace, key, self._partition_of(key))

    def _partition_of(self, key: str) -> int:
        """The key's own partition, or its owner's for a sub-key (``owner|...``)."""
        if not self.key_partitions:
            return self.partition
        found = self.key_partitions.get(key)
        if found is None and SEP in key:
            found = self.key_partitions.get(key.split(SEP, 1)[0])
        return found if found is not None else self.partition


class ChangelogFlush(faust.Sensor):
    """Flushes the changed state keys when an offset commit starts (see the module docstring)."""

    def __init__(self, state_tables: StateTables) -> None:
        super().__init__()
        self.state_tables = state_tables

    def on_commit_initiated(self, consumer: Any) -> Any:
        self.state_tables.flush()
        return super().on_commit_initiated(consumer)


class TableRegistry:
    """``models.state.InstitutionRegistry`` over the registry ``GlobalTable``, time-aware.

    Feeds are consumed side by side, so the institutions feed can run ahead of the loans: a
    suspension stamped 14:00 may already be read when a loan of 11:00 is scored. Limits and
    licences must use the record in force at the event's time (domain.md), so the table keeps
    the last ``HISTORY`` records of each institution (contract documents, oldest first) and
    ``as_of(moment)`` gives the registry as it stood then. ``get`` answers with the latest
    record. Parsed records are cached by event id.
    """

    #: Records kept per institution.
    HISTORY = 8

    def __init__(self, table: TableT) -> None:
        self.table = table
        self._parsed: dict[str, Institution] = {}

    def _versions(self, institution_id: str) -> list[Institution]:
        entry = self.table.data.get(institution_id)
        if not entry:
            return []
        return [r for r in (self._parse(doc) for doc in entry.get("versions", ())) if r]

    def _parse(self, doc: dict[str, Any]) -> Institution | None:
        event_id = doc.get("event_id")
        cached = self._parsed.get(event_id) if isinstance(event_id, str) else None
        if cached is not None:
            return cached
        try:
            record = parse_event("institutions", doc)
        except (InvalidEvent, TypeError, KeyError, ValueError):
            return None
        assert isinstance(record, Institution)
        self._parsed[record.event_id] = record
        return record

    def get(self, institution_id: str) -> Institution | None:
        """The latest record of the institution, whatever its time."""
        versions = self._versions(institution_id)
        return versions[-1] if versions else None

    def get_as_of(self, institution_id: str, moment: datetime) -> Institution | None:
        """The latest record with an event time at or before ``moment``."""
        found = None
        for record in self._versions(institution_id):
            if record.event_time > moment:
                break
            found = record
        return found

    def as_of(self, moment: datetime) -> RegistryAsOf:
        return RegistryAsOf(self, moment)

    def put(self, record: Institution, doc: dict[str, Any]) -> bool:
        """Add a record in event-time order; False if it was already there."""
        entry = self.table.data.get(record.institution_id) or {}
        docs = list(entry.get("versions", ()))
        if any(d.get("event_id") == record.event_id for d in docs):
            return False
        docs.append(doc)
        docs.sort(key=lambda d: parse_time(d["event_time"]))
        _write(self.table, 0, record.institution_id, {"versions": docs[-self.HISTORY :]})
        self._parsed[record.event_id] = record
        return True

    def __len__(self) -> int:
        return len(self.table.data)

    def ids(self) -> Iterable[str]:
        return list(self.table.data.keys())


class RegistryAsOf:
    """The registry as it stood at one moment: what a detector judging an event must see."""

    def __init__(self, registry: TableRegistry, moment: datetime) -> None:
        self.registry = registry
        self.moment = moment

    def get(self, institution_id: str) -> Institution | None:
        return self.registry.get_as_of(institution_id, self.moment)
