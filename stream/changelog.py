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

        A record leaves the queue only once the producer took it: if ``send`` raises (the
        producer stopped), it and those after it stay for the next drain.
        """
        if self._draining is None:
            self._draining = asyncio.Lock()
        sent = 0
        async with self._draining:
            while self._records:
                record = self._records[0]
                delivery = await producer.send(
                    record.topic, record.key, record.value, record.partition, None, None
                )
                watch_delivery(delivery, record.topic)
                self._records.popleft()
                sent += 1
        return sent
