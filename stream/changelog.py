"""State records on their way to the changelog: queued in order, handed to the producer in order.

The worker logs one record per changed state key: about three records per event, most of what
it produces. Faust's ``Table.send_changelog`` wraps each in a ``FutureMessage`` on the producer
buffer, runs the send sensors and a callback that records the offset for RocksDB (the worker's
tables are ``memory://``, so the callback does nothing for us): about twice the CPU of the
producer's own ``send`` (docs/benchmarks.md). ``ChangelogQueue`` keeps what matters of that path
and drops the rest:

* queueing is synchronous, so the commit hook (``ChangelogFlush``) can queue what is owed the
  moment a commit starts, with no await between taking the keys and queueing them;
* one drainer at a time hands the records to the producer in the order they were queued, so two
  values of one key reach the changelog in the order they were taken;
* the commit waits for the queue to drain (``stream.app.drain_before_commits``) before Faust
  flushes the producer itself, so a committed offset never runs ahead of its state.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
from typing import Any

from stream.outlets import watch_delivery


@dataclass(frozen=True, slots=True)
class ChangelogRecord:
    """One key's value for its changelog partition; ``value`` None is a tombstone."""

    topic: str
    partition: int
    key: bytes
    value: bytes | None


class ChangelogQueue:
    """Changelog records waiting for the producer, in the order they were queued."""

    def __init__(self) -> None:
        self._records: deque[ChangelogRecord] = deque()
        self._draining: asyncio.Lock | None = None

    def __len__(self) -> int:
        return len(self._records)

    def put(self, record: ChangelogRecord) -> None:
        self._records.append(record)

    async def drain(self, producer: Any) -> int:
        """Hand every queued record to ``producer`` (Faust's transport producer); how many.

        Records go as one batch per changelog partition (``create_batch``/``send_batch`` of
        the aiokafka producer under Faust's: one metadata check and one delivery future a
        batch, not a record), in queue order within each partition, which is all a key's
        order needs (a key always goes to one partition). A record leaves the queue only once
        the producer took its batch: if a send raises (the producer stopped), the records not
        yet taken stay queued, in order, for the next drain.
        """
        if self._draining is None:
            self._draining = asyncio.Lock()
        sent = 0
        async with self._draining:
            while self._records:
                records = list(self._records)
                taken: set[int] = set()
                try:
                    await _send(producer, records, taken)
                finally:
                    for _ in records:
                        self._records.popleft()
                    left = [r for i, r in enumerate(records) if i not in taken]
                    self._records.extendleft(reversed(left))
                sent += len(records)
        return sent


async def _send(producer: Any, records: list[ChangelogRecord], taken: set[int]) -> None:
    """Send ``records`` in batches per (topic, partition); ``taken`` gets the indexes sent."""
    client = producer._ensure_producer()  # aiokafka's under Faust's; raises before it started
    open_batches: dict[tuple[str, int], tuple[Any, list[int]]] = {}
    for i, r in enumerate(records):
        where = (r.topic, r.partition)
        batch = open_batches.get(where)
        if batch is None or batch[0].append(key=r.key, value=r.value, timestamp=None) is None:
            if batch is not None:  # full: send it, start the next one
                await _send_batch(client, where, batch, taken)
            batch = open_batches[where] = (client.create_batch(), [])
            batch[0].append(key=r.key, value=r.value, timestamp=None)  # a first always fits
        batch[1].append(i)
    for where, batch in open_batches.items():
        await _send_batch(client, where, batch, taken)


async def _send_batch(
    client: Any, where: tuple[str, int], batch: tuple[Any, list[int]], taken: set[int]
) -> None:
    builder, indexes = batch
    topic, partition = where
    delivery = await client.send_batch(builder, topic, partition=partition)
    watch_delivery(delivery, topic)
    taken.update(indexes)
