"""A stand-in for Faust's transport producer and the aiokafka producer under it, for tests of
what the worker hands the producer (``stream.changelog``, ``stream.app.drain_before_commits``):
it records each batch sent instead of reaching a broker."""

from __future__ import annotations

import asyncio
from typing import Any


class Batch:
    """Stands for aiokafka's ``BatchBuilder``: holds ``size`` records, then is full."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.records: list[tuple[bytes, bytes | None]] = []

    def append(self, *, key: bytes, value: bytes | None, timestamp: Any) -> object | None:
        if len(self.records) >= self.size:
            return None
        self.records.append((key, value))
        return object()


class BatchingProducer:
    """Faust's producer with aiokafka's underneath (``_ensure_producer``); ``buffer`` is Faust's.

    ``stall_first`` makes the first ``send_batch`` wait a turn (a full accumulator in aiokafka);
    ``fail_on_batch`` makes the send of that batch (by index) raise, as a stopped producer does.
    """

    def __init__(
        self,
        buffer: Any = None,
        *,
        batch_size: int = 10,
        stall_first: bool = False,
        fail_on_batch: int | None = None,
    ) -> None:
        self.buffer = buffer
        self.batch_size = batch_size
        self.stall_first = stall_first
        self.fail_on_batch = fail_on_batch
        #: (topic, partition, [(key, value), ...]) per batch sent, in order.
        self.batches: list[tuple[str, int, list[tuple[bytes, bytes | None]]]] = []

    def _ensure_producer(self) -> BatchingProducer:
        return self

    def create_batch(self) -> Batch:
        return Batch(self.batch_size)

    async def send_batch(self, batch: Batch, topic: str, *, partition: int) -> Any:
        if len(self.batches) == self.fail_on_batch:
            raise RuntimeError("producer stopped")
        if self.stall_first:
            self.stall_first = False
            await asyncio.sleep(0.01)
        self.batches.append((topic, partition, batch.records))
        delivered: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        delivered.set_result(None)
        return delivered

    def keys(self) -> list[tuple[int, list[bytes]]]:
        """(partition, keys) per batch sent."""
        return [(partition, [key for key, _ in records]) for _, partition, records in self.batches]
