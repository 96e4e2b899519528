"""Batches of events as they arrive: what an agent takes instead of one event at a time.

Faust's ``take_events(n, within)`` yields when ``n`` events are buffered or ``within`` seconds
have passed since the last batch: a lone event at low load waits out the timer. ``arrived``
yields as soon as anything is buffered. While the agent works on one batch the stream keeps
filling the next, so batches grow with the load (up to ``max_events``) and shrink to one event
when it is quiet: the wait is bounded by the batch arriving, not by a timer.

At-least-once: the events of a batch are acked after the agent's body has finished with the
batch (its findings, re-keyed events and alerts produced or queued); a batch the agent was
stopped in is left unacked, so it is read again. Faust commits an offset only up to the first
unacked event, so an event held and never acked would stall its partition's commits for good.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from faust.types import EventT, StreamT

#: Most events in one batch: large enough to amortise per-batch costs (one store transaction,
#: one produce round), small enough that one batch never holds the loop for long.
MAX_EVENTS = 500


async def arrived(
    stream: StreamT[Any], max_events: int = MAX_EVENTS
) -> AsyncIterator[list[EventT[Any]]]:
    """Yield lists of the events buffered so far (1 to ``max_events``), acking each after use."""
    if max_events < 1:
        raise ValueError(f"max_events must be at least 1, got {max_events}")
    s: Any = stream  # Faust's buffering hooks are not part of StreamT
    events: list[EventT[Any]] = []
    ready = asyncio.Event()
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
        ready.set()
        return value

    acks_before = s.enable_acks
    s.enable_acks = False  # acked here, after the agent's body, not when read
    s.add_processor(add_to_buffer)
    s._enable_passive(aiter(s.channel))
    try:
        while not s.should_stop:
            await s.wait_for_stopped(ready)
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
            if events:
                ready.set()
            room.set()
    finally:
        s.enable_acks = acks_before
        s._processors.remove(add_to_buffer)
