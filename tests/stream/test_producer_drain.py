"""The producer's flush, run before every offset commit, returns only once the changelog queue
and the producer buffer are both empty.

Faust's own ``ProducerBuffer.flush`` gives up after 0.1 s without a send, so offsets could be
committed while records queued by the commit hook were still waiting in the buffer.
"""

from __future__ import annotations

import asyncio
import contextlib
from types import SimpleNamespace
from typing import Any

import faust
from faust.transport.producer import ProducerBuffer

from stream.app import drain_before_commits
from stream.changelog import ChangelogQueue, ChangelogRecord
from tests.helpers import unique_name
from tests.helpers.producer import BatchingProducer

#: Longer than the 0.1 s Faust's flush waits for one send.
SLOW_SEND_SECONDS = 0.15


async def flushed(
    *, drain: bool, changelog: ChangelogQueue | None = None
) -> tuple[int, list[int], BatchingProducer]:
    """Queue three messages on a buffer whose sends are slow; flush; what is left, and sent."""
    app = faust.App(unique_name("drain-test"), broker="kafka://127.0.0.1:9")
    buffer = ProducerBuffer(loop=asyncio.get_running_loop())
    buffer.app = app
    producer = BatchingProducer(buffer)
    sent: list[int] = []

    async def send_slowly(fut: Any) -> None:
        await asyncio.sleep(SLOW_SEND_SECONDS)
        sent.append(fut.n)

    buffer._send_pending = send_slowly  # type: ignore[method-assign]
    if drain:
        drain_before_commits(producer, changelog or ChangelogQueue())
    await buffer.start()
    try:
        for n in range(3):
            buffer.put(SimpleNamespace(n=n))  # type: ignore[arg-type]
        await buffer.flush()
        return buffer.size, list(sent), producer
    finally:
        with contextlib.suppress(RuntimeError):  # Faust's: "Cannot flush" what is left
            await buffer.stop()


def test_fausts_own_flush_returns_with_messages_still_queued() -> None:
    """The reason for the fix: without it the flush leaves messages behind."""
    left, _, _ = asyncio.run(flushed(drain=False))
    assert left > 0


def test_the_drained_flush_leaves_nothing_queued() -> None:
    left, sent, _ = asyncio.run(flushed(drain=True))
    assert left == 0
    assert sent == [0, 1, 2]  # the last one too, though it had left the queue for its send


def test_the_flush_hands_on_the_queued_state_records_in_order_first() -> None:
    changelog = ChangelogQueue()
    for n in range(3):
        changelog.put(ChangelogRecord("book-changelog", n % 2, f"k{n}".encode(), b"1"))
    left, sent, producer = asyncio.run(flushed(drain=True, changelog=changelog))
    assert (left, len(changelog), sent) == (0, 0, [0, 1, 2])
    assert producer.keys() == [(0, [b"k0", b"k2"]), (1, [b"k1"])]
