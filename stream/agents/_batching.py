"""Batches of events as they arrive: what an agent takes instead of one event at a time.

Faust's ``take_events(n, within)`` yields when ``n`` events are buffered or ``within`` seconds have
passed since the last batch: at low load a lone event waits out the timer (the borrower stage's was
0.5 s). ``arrived`` waits for the first event without a timer and then gives the messages already on
their way a window of ``GATHER_SECONDS`` (10 ms) to join it; a full batch goes at once. Only when
the broker holds enough unread messages to fill the batch (a backlog) does it wait longer, up to
``fill_seconds``: small batches cost the ML scorers dearly, and under a backlog the wait costs no
latency that the queue does not already. The stream keeps filling the next batch while the agent
works on one, so batches grow with the load (up to ``max_events``) and shrink to one event when it
is quiet.

At-least-once: the events of a batch are acked after the agent's body has finished with the batch
(its findings, re-keyed events and alerts produced or queued); a batch the agent was stopped in is
left unacked, so it is read again. Faust commits an offset only up to the first unacked event, so an
event held and never acked would stall its partition's commits for good.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Any

from faust.types import EventT, StreamT

#: Most events in one batch: large enough to amortise per-batch costs (one store transaction,
#: one produce round), small enough that one batch never holds the loop for long.
MAX_EVENTS = 500
#: After the first event of a batch, how long the others already on their way may take to
#: join it. Under load the batch fills before; when quiet, a lone event waits this long.
GATHER_SECONDS = 0.01
#: Under load (enough unread messages to fill the batch), how long the batch may take to fill.
FILL_SECONDS = 0.25


def backlog(consumer: Any, last_offsets: Mapping[Any, int]) -> int:
    """Messages the broker holds past the last one buffered, over the partitions read."""
    behind = 0
    for tp, offset in last_offsets.items():
        try:
            highwater = consumer.highwater(tp)
        except Exception:  # no consumer (test context) or partition no longer assigned
            continue
        if highwater:
            behind += max(0, highwater - offset - 1)
    return behind


async def arrived(
    stream: StreamT[Any],
    max_events: int = MAX_EVENTS,
    *,
    gather_seconds: float = GATHER_SECONDS,
    fill_seconds: float = FILL_SECONDS,
) -> AsyncIterator[list[EventT[Any]]]:
    """Yield lists of buffered events (1 to ``max_events``), acking them after each batch.

    The agent waits for the first event with no timeout, then at most ``gather_seconds`` for
    more, or ``fill_seconds`` when the broker holds enough unread messages of the partitions
    read to fill the batch (less when ``max_events`` arrive sooner).
    """
    if max_events < 1:
        raise ValueError(f"max_events must be at least 1, got {max_events}")
    s: Any = stream  # Faust's buffering hooks are not part of StreamT
    events: list[EventT[Any]] = []
    ready = asyncio.Event()
    last_offsets: dict[Any, int] = {}
    full = asyncio.Event()
    room = asyncio.Event()
    room.set()

    async def add_to_buffer(value: Any) -> Any:
        # Runs in the stream's passive reader while the agent works on the previous batch.
        while len(events) >= max_events:
            room.clear()
            await s.wait(room)
            if s.should_stop:
                return value
        event = s.current_event
        if event is None:
            raise RuntimeError("batch buffer found no current event")
        events.append(event)
        message = event.message
        last_offsets[message.tp] = message.offset
        ready.set()
        if len(events) >= max_events:
            full.set()
        return value

    acks_before = s.enable_acks
    s.enable_acks = False  # acked here, after the agent's body, not when read
    s.add_processor(add_to_buffer)
    s._enable_passive(aiter(s.channel))
    try:
        while not s.should_stop:
            await s.wait_for_stopped(ready)
            missing = max_events - len(events)
            if missing > 0 and not s.should_stop:
                # Messages reach the buffer one turn of the loop at a time: give the ones that
                # are already on their way a short window, opened by the first, to join it; a
                # longer one when the broker holds enough unread messages to fill the batch.
                behind = backlog(s.app.consumer, last_offsets)
                window = fill_seconds if behind >= missing else gather_seconds
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(full.wait(), window)
            if not events:
                continue
            batch = list(events)
            try:
                yield batch
            except BaseException:
                # The agent was stopped (or crashed) inside the batch: leave it unacked, so it
                # is not committed and is read again after the restart or rebalance.
                del events[:]
                raise
            del events[: len(batch)]
            for event in batch:
                await s.ack(event)
            ready.clear()
            full.clear()
            if events:
                ready.set()
            if len(events) >= max_events:
                full.set()
            room.set()
    finally:
        s.enable_acks = acks_before
        s._processors.remove(add_to_buffer)
