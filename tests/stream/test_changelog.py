"""The changelog queue hands records to the producer in the order they were queued, one drainer
at a time, and keeps what the producer did not take."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import pytest

from stream.changelog import ChangelogQueue, ChangelogRecord
from stream.outlets import watch_delivery


class Producer:
    """Records each ``send``; ``stall_on`` makes that key's send wait a turn (a full batch in
    aiokafka), ``fail_on`` makes it raise (a stopped producer)."""

    def __init__(self, stall_on: bytes | None = None, fail_on: bytes | None = None) -> None:
        self.sent: list[tuple[bytes, bytes | None]] = []
        self.stall_on = stall_on
        self.fail_on = fail_on

    async def send(self, topic: str, key: bytes, value: bytes | None, partition: int,
                   timestamp: Any, headers: Any) -> asyncio.Future[None]:  # fmt: skip
        if key == self.fail_on:
            raise RuntimeError("producer stopped")
        if key == self.stall_on:
            self.stall_on = None
            await asyncio.sleep(0.01)
        self.sent.append((key, value))
        delivered: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        delivered.set_result(None)
        return delivered


def record(key: str, value: bytes | None = b"1") -> ChangelogRecord:
    return ChangelogRecord("book-changelog", 0, key.encode(), value)


def test_records_go_in_queue_order_and_leave_the_queue() -> None:
    queue, producer = ChangelogQueue(), Producer()
    for key in ("a", "b", "a"):
        queue.put(record(key))
    assert asyncio.run(queue.drain(producer)) == 3
    assert [key for key, _ in producer.sent] == [b"a", b"b", b"a"]
    assert len(queue) == 0


def test_two_drainers_never_swap_two_values_of_one_key() -> None:
    """The commit's drain starting while the timer's waits on a full batch takes its turn."""
    queue, producer = ChangelogQueue(), Producer(stall_on=b"k1")

    async def both() -> None:
        queue.put(record("k1", b"old"))
        timer = asyncio.ensure_future(queue.drain(producer))
        await asyncio.sleep(0)  # the timer's drain is now waiting inside the stalled send
        queue.put(record("k2"))
        queue.put(record("k1", b"new"))
        await asyncio.gather(timer, queue.drain(producer))

    asyncio.run(both())
    assert producer.sent == [(b"k1", b"old"), (b"k2", b"1"), (b"k1", b"new")]


def test_a_record_the_producer_refused_stays_queued_with_those_after_it() -> None:
    queue, producer = ChangelogQueue(), Producer(fail_on=b"b")
    for key in ("a", "b", "c"):
        queue.put(record(key))
    with pytest.raises(RuntimeError):
        asyncio.run(queue.drain(producer))
    assert [key for key, _ in producer.sent] == [b"a"]
    assert len(queue) == 2
    producer.fail_on = None
    assert asyncio.run(queue.drain(producer)) == 2
    assert [key for key, _ in producer.sent] == [b"a", b"b", b"c"]


def test_a_record_the_broker_never_took_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    async def refused() -> None:
        sent: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        delivery = watch_delivery(sent, "book-changelog")
        sent.set_exception(RuntimeError("KafkaTimeoutError"))
        with contextlib.suppress(RuntimeError):
            await delivery

    with caplog.at_level(logging.ERROR, logger="stream.outlets"):
        asyncio.run(refused())
    assert "a record for book-changelog was not delivered" in caplog.text


class Builder:
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
    """Faust's producer with aiokafka's underneath (``_producer``): batches per partition."""

    def __init__(self, batch_size: int = 2, fail_on_batch: int | None = None) -> None:
        self._producer = self
        self.batch_size = batch_size
        self.fail_on_batch = fail_on_batch
        self.batches: list[tuple[str, int, list[bytes]]] = []

    def create_batch(self) -> Builder:
        return Builder(self.batch_size)

    async def send_batch(self, batch: Builder, topic: str, *, partition: int) -> Any:
        if len(self.batches) == self.fail_on_batch:
            raise RuntimeError("producer stopped")
        self.batches.append((topic, partition, [key for key, _ in batch.records]))
        delivered: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        delivered.set_result(None)
        return delivered


def on(partition: int, key: str) -> ChangelogRecord:
    return ChangelogRecord("book-changelog", partition, key.encode(), b"1")


def test_records_go_in_one_batch_per_partition_in_queue_order() -> None:
    queue, producer = ChangelogQueue(), BatchingProducer(batch_size=2)
    for partition, key in [(0, "a"), (1, "b"), (0, "c"), (0, "a"), (1, "d")]:
        queue.put(on(partition, key))
    assert asyncio.run(queue.drain(producer)) == 5
    assert producer.batches == [
        ("book-changelog", 0, [b"a", b"c"]),  # full: sent before the next record of partition 0
        ("book-changelog", 0, [b"a"]),
        ("book-changelog", 1, [b"b", b"d"]),
    ]
    assert len(queue) == 0


def test_records_of_a_batch_the_producer_refused_stay_queued_in_order() -> None:
    queue, producer = ChangelogQueue(), BatchingProducer(batch_size=10, fail_on_batch=1)
    for partition, key in [(0, "a"), (1, "b"), (0, "c"), (1, "d")]:
        queue.put(on(partition, key))
    with pytest.raises(RuntimeError):
        asyncio.run(queue.drain(producer))
    assert producer.batches == [("book-changelog", 0, [b"a", b"c"])]
    assert [r.key for r in queue._records] == [b"b", b"d"]
