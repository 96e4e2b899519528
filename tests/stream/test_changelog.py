"""The changelog queue hands records to the producer as one batch per partition, in the order
they were queued, one drainer at a time, and keeps what the producer did not take."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import pytest

from stream.changelog import ChangelogQueue, ChangelogRecord
from stream.outlets import watch_delivery
from tests.helpers.producer import BatchingProducer


def on(partition: int, key: str, value: bytes | None = b"1") -> ChangelogRecord:
    return ChangelogRecord("book-changelog", partition, key.encode(), value)


def test_records_go_in_one_batch_per_partition_in_queue_order() -> None:
    queue, producer = ChangelogQueue(), BatchingProducer(batch_size=2)
    for partition, key in [(0, "a"), (1, "b"), (0, "c"), (0, "a"), (1, "d")]:
        queue.put(on(partition, key))
    assert asyncio.run(queue.drain(producer)) == 5
    assert producer.keys() == [
        (0, [b"a", b"c"]),  # full: sent before the next record of partition 0
        (0, [b"a"]),
        (1, [b"b", b"d"]),
    ]
    assert len(queue) == 0


def test_two_drainers_never_swap_two_values_of_one_key() -> None:
    """The commit's drain starting while the timer's waits on a full batch takes its turn."""
    queue, producer = ChangelogQueue(), BatchingProducer(stall_first=True)

    async def both() -> None:
        queue.put(on(0, "k1", b"old"))
        timer = asyncio.ensure_future(queue.drain(producer))
        await asyncio.sleep(0)  # the timer's drain now waits inside the stalled send
        queue.put(on(0, "k2"))
        queue.put(on(0, "k1", b"new"))
        await asyncio.gather(timer, queue.drain(producer))

    asyncio.run(both())
    sent = [record for _, _, records in producer.batches for record in records]
    assert sent == [(b"k1", b"old"), (b"k2", b"1"), (b"k1", b"new")]


def test_records_of_a_batch_the_producer_refused_stay_queued_in_order() -> None:
    queue, producer = ChangelogQueue(), BatchingProducer(fail_on_batch=1)
    for partition, key in [(0, "a"), (1, "b"), (0, "c"), (1, "d")]:
        queue.put(on(partition, key))
    with pytest.raises(RuntimeError):
        asyncio.run(queue.drain(producer))
    assert producer.keys() == [(0, [b"a", b"c"])]
    assert len(queue) == 2
    producer.fail_on_batch = None
    assert asyncio.run(queue.drain(producer)) == 2
    assert producer.keys() == [(0, [b"a", b"c"]), (1, [b"b", b"d"])]


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
