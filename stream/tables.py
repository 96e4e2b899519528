"""Detector state and the institution registry, held in Faust tables.

Each detector namespace gets one ``app.Table`` (JSON keys and values, changelog topic
``<app id>-state-<namespace>-changelog``) so its state survives restarts and rebalances.

Writes are applied at once and reach the changelog write-behind: a key changed many times within a
second is logged once, with its latest value, by the ``flush_state`` timer; what is still unlogged
when an offset commit starts is queued then (``ChangelogFlush``), and the commit drains that queue
and flushes the producer before it commits (``stream.changelog``), so a committed offset never runs
ahead of the state it produced. That keeps the changelog to one record per hot key per commit
instead of one per event. Keyed detectors (a lender's book, the guarantee graph) write small
sub-keys, so only the keys an event touched are logged, never a whole book; a deleted key is logged
as a tombstone (a null value, which compaction removes and recovery deletes). Each key goes to the
changelog partition of the message that changed it, set explicitly: micro-batches mix partitions,
and Faust's implicit "current event" would put them all on the last one's.
The registry is a ``GlobalTable``: every worker sees every institution, whichever partition of
``institutions`` it consumes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

import faust
import orjson
from faust.types import TableT

from models import Institution, InvalidEvent, parse_event
from models.events import parse_time
from models.state import SEP, StateRepair
from stream.changelog import ChangelogQueue, ChangelogRecord

REGISTRY_TABLE = "institution-registry"
#: A key the changelog is owed: (namespace, partition, key, value, value already encoded).
Owed = tuple[str, int, str, Any, bool]
#: Rebuilds a namespace's derived keys from its facts (``models.detector.Detector.repair``).
Repair = Callable[[Iterable[tuple[str, Any]]], list[StateRepair]]


def state_table_name(namespace: str) -> str:
    return f"state-{namespace}"


def declare_state_tables(
    app: faust.App, partitions: Mapping[str, int]
) -> dict[str, TableT[str, Any]]:
    """One table per namespace, with the partition count of the topic whose agent writes it."""
    return {
        ns: app.Table(state_table_name(ns), key_type=str, partitions=n, help=f"{ns} state")
        for ns, n in sorted(partitions.items())
    }


def declare_registry_table(app: faust.App) -> TableT[str, Any]:
    """One partition and a recovery buffer of one, as Faust advises for global tables."""
    return app.GlobalTable(
        REGISTRY_TABLE,
        key_type=str,
        partitions=1,
        recovery_buffer_size=1,
        help="latest record per institution",
    )


def changelog_key(key: str) -> bytes:
    """A state key as Faust writes it to a changelog (its JSON string, by orjson as Faust's
    ``json`` codec does), so records written here and by Faust compact and recover alike."""
    return orjson.dumps(key)


def _write(table: TableT[str, Any], partition: int, key: str, value: Any) -> None:
    table.data[key] = value
    table.send_changelog(partition, key, value)


class StateSection:
    """The keys one agent changed whose effects (findings, alerts) are not handed on yet.

    A changed key must not reach its changelog before the findings its change caused: after a
    crash the replayed event would find its state already changed and raise nothing. An agent
    scores a batch under a section and calls ``release`` once the batch's effects are queued on
    the producer (or committed to the alert store); only then is the key's value, as it stands
    at that moment, handed to the flush.
    """

    def __init__(self, state: StateTables) -> None:
        self.state = state
        self.keys: dict[tuple[str, str], int] = {}

    def mark(self, namespace: str, key: str, partition: int) -> None:
        self.keys[(namespace, key)] = partition

    def release(self) -> None:
        """The effects of these changes are queued: their values may now be logged."""
        keys, self.keys = self.keys, {}
        self.state.release(keys)


class StateTables:
    """The detector state tables of one app, with the keys changed since the last flush.

    Keys changed under a ``StateSection`` are held until it is released and then logged with
    their value at release (encoded then, so later changes held by a newer section stay out);
    keys changed without a section are logged with their value at flush.

    Parameters
    ----------
    tables : mapping of namespace to table
    """

    def __init__(
        self, tables: Mapping[str, TableT[str, Any]], changelog: ChangelogQueue | None = None
    ) -> None:
        self.tables = dict(tables)
        #: Records taken for the changelogs, until a flush or a commit hands them on.
        self.changelog = changelog if changelog is not None else ChangelogQueue()
        self._topics = {ns: t.changelog_topic.get_topic_name() for ns, t in self.tables.items()}
        self._dirty: dict[tuple[str, str], int] = {}
        self._released: dict[tuple[str, str], tuple[int, bytes | None]] = {}

    def store(
        self,
        partition: int,
        key_partitions: Mapping[str, int] | None = None,
        section: StateSection | None = None,
    ) -> TableStateStore:
        """The ``StateStore`` for events read from source partition ``partition``.

        ``key_partitions`` overrides it per state key, for a batch mixing partitions whose
        state keys are the message keys (borrowers); ``section`` holds the changed keys until
        the caller's effects are queued.
        """
        return TableStateStore(self, partition, key_partitions, section)

    def section(self) -> StateSection:
        return StateSection(self)

    def mark(self, namespace: str, key: str, partition: int) -> None:
        self._dirty[(namespace, key)] = partition

    def release(self, keys: Mapping[tuple[str, str], int]) -> None:
        """Snapshot the values of released keys for the next flush."""
        for (namespace, key), partition in keys.items():
            value = self.tables[namespace].data.get(key)
            encoded = None if value is None else orjson.dumps(value)
            self._released[(namespace, key)] = (partition, encoded)
            self._dirty.pop((namespace, key), None)

    @property
    def pending(self) -> int:
        return len(self._dirty) + len(self._released)

    def pending_keys(self) -> dict[tuple[str, str], int]:
        """The keys waiting for the changelog, (namespace, key) -> changelog partition."""
        found = {k: partition for k, (partition, _) in self._released.items()}
        return found | self._dirty

    def _take(self) -> list[Owed]:
        """What the changelog is owed: (namespace, partition, key, value, encoded) per key."""
        released = [self._pop_released(key) for key in list(self._released)]
        return released + self._take_dirty()

    def _pop_released(self, key: tuple[str, str]) -> Owed:
        partition, encoded = self._released.pop(key)
        return (key[0], partition, key[1], encoded, True)

    def _take_dirty(self) -> list[Owed]:
        dirty, self._dirty = self._dirty, {}
        return [
            (ns, partition, key, self.tables[ns].data.get(key), False)
            for (ns, key), partition in dirty.items()
        ]

    def repair(self, namespace: str, repair: Repair) -> list[StateRepair]:
        """Rewrite the derived keys of a recovered namespace that disagree with its facts.

        Each owner's changes are logged to the changelog partition its ``witness`` key was
        recovered from; an owner with no recovered key was never read from the changelog (its
        keys are all this worker's own, written together) and is left alone.
        """
        table = self.tables[namespace]
        recovered: Mapping[str, int] = getattr(table.data, "_key_partition", {})
        done = []
        for fix in repair(table.data.items()):
            partition = recovered.get(fix.witness)
            if partition is None:
                continue
            for key, value in fix.changes.items():
                if value is None:
                    table.data.pop(key, None)
                else:
                    table.data[key] = value
                encoded = None if value is None else orjson.dumps(value)
                self._released[(namespace, key)] = (partition, encoded)
                self._dirty.pop((namespace, key), None)
            done.append(fix)
        return done

    def _queue(self, owed: list[Owed]) -> int:
        """Queue the owed records on ``changelog`` (no await), keys and values encoded."""
        for namespace, partition, key, value, encoded in owed:
            if value is not None and not encoded:
                value = orjson.dumps(value)
            record = ChangelogRecord(self._topics[namespace], partition, changelog_key(key), value)
            self.changelog.put(record)
        return len(owed)

    def flush(self) -> int:
        """Queue every owed key for its changelog; returns how many.

        Synchronous, so it can run in a commit hook: the commit drains the queue and flushes
        the producer (``stream.app.drain_before_commits``) before it commits the offsets.
        """
        return self._queue(self._take())

    async def flush_async(self, producer: Any) -> int:
        """Log the owed keys through ``producer``; run often by a timer, so the commit hook
        finds little left. Returns how many were queued.

        What the producer already holds (the findings of the released changes) is delivered
        first, and only snapshots released before that and not released again since are
        logged now; newer ones wait for the next flush. Keys are queued with no await between
        taking and queueing them, so a commit starting meanwhile never finds a key taken but
        not queued (it would commit offsets ahead of their state).
        """
        if self._released:
            ready = dict(self._released)
            await producer.flush()
            owed = [
                self._pop_released(k) for k, snap in ready.items() if self._released.get(k) is snap
            ]
            queued = self._queue(owed + self._take_dirty())
        else:
            queued = self.flush()
        await self.changelog.drain(producer)
        return queued


class TableStateStore:
    """``models.state.StateStore`` over the state tables, for one source partition."""

    def __init__(
        self,
        state: StateTables,
        partition: int,
        key_partitions: Mapping[str, int] | None = None,
        section: StateSection | None = None,
    ) -> None:
        self.state = state
        self.partition = partition
        self.key_partitions = key_partitions or {}
        self.marker: StateTables | StateSection = section if section is not None else state

    def get(self, namespace: str, key: str) -> Any | None:
        return self.state.tables[namespace].data.get(key)

    def set(self, namespace: str, key: str, value: Any) -> None:
        self.state.tables[namespace].data[key] = value
        self.marker.mark(namespace, key, self._partition_of(key))

    def delete(self, namespace: str, key: str) -> None:
        data = self.state.tables[namespace].data
        if key in data:
            del data[key]
            self.marker.mark(namespace, key, self._partition_of(key))

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

    def __init__(self, table: TableT[str, Any]) -> None:
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
