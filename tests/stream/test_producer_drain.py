"""The producer buffer's flush, run before every offset commit, returns only once it is empty.

Faust's own ``ProducerBuffer.flush`` gives up after 0.1 s without a send, so offsets could be
committed while the state records of the commit hook were still waiting in the buffer.
"""

from __future__ import annotations

import asyncio
import contextlib
from types import SimpleNamespace
from typing import Any

import faust
from faust.transport.producer import ProducerBuffer

from stream.app import drain_before_commits
from tests.helpers import unique_name

#: Longer than the 0.1 s Faust's flush waits for one send.
SLOW_SEND_SECONDS = 0.15


async def flushed(*, drain: bool) -> tuple[int, list[int]]:
    """Queue three messages on a buffer whose sends are slow; flush; what is left, and sent."""
    app = faust.App(unique_name("drain-test"), broker="kafka://127.0.0.1:9")
    buffer = ProducerBuffer(loop=asyncio.get_running_loop())
    buffer.app = app
    sent: list[int] = []

    async def send_slowly(fut: Any) -> None:
        await asyncio.sleep(SLOW_SEND_SECONDS)
        sent.append(fut.n)

    buffer._send_pending = send_slowly  # type: ignore[method-assign]
    if drain:
        drain_before_commits(buffer)
    await buffer.start()
    try:
        for n in range(3):
            buffer.put(SimpleNamespace(n=n))  # type: ignore[arg-type]
        await buffer.flush()
        return buffer.size, list(sent)
    finally:
        with contextlib.suppress(RuntimeError):  # Faust's: "Cannot flush" what is left
            await buffer.stop()


def test_fausts_own_flush_returns_with_messages_still_queued() -> None:
    """The reason for the fix: without it the flush leaves messages behind."""
    left, _ = asyncio.run(flushed(drain=False))
    assert left > 0


def test_the_drained_flush_leaves_nothing_queued() -> None:
    left, sent = asyncio.run(flushed(drain=True))
    assert left == 0
    assert sent == [0, 1, 2]  # the last one too, though it had left the queue for its send
