"""Faust's Kafka consumer, handing each message to the streams in place when nothing waits.

Faust's consumer loop hands every message to the streams with ``wait_first(deliver, suspended)``
so a rebalance can interrupt a hand-over stuck on a full stream buffer. That race costs four
new tasks, their cancellations and several loop turns a message (43 µs alone with uvloop here;
without it the benchmark's framework floor went from 5,187 to 15,152 events/s on one core, and
every message pays it, a hostile record as much as a good one). Almost always
the hand-over finishes at once: the buffer has room. ``DeliveringConsumer`` first runs it in
place up to its first wait; only a hand-over that must wait (a full buffer, a contended lock)
goes on, already started, into Faust's race, which can still interrupt it. When the consumer
is stopping, crashed or its flow suspended, the race runs as before.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import Any

import faust
from faust.transport.drivers.aiokafka import Consumer
from faust.types import Message
from mode.services import WaitArgT, WaitResults
from mode.utils.times import Seconds


class Delivery:
    """One message's hand-over to the streams (the coroutine Faust's callback returned)."""

    __slots__ = ("coro",)

    def __init__(self, coro: Coroutine[Any, Any, Any]) -> None:
        self.coro = coro

    def __await__(self) -> Generator[Any, Any, Any]:
        return self.coro.__await__()


class Resumed:
    """A coroutine already run up to its first wait, awaitable from there on."""

    __slots__ = ("coro", "pending")

    def __init__(self, coro: Coroutine[Any, Any, Any], pending: Any) -> None:
        self.coro = coro
        self.pending = pending

    def __await__(self) -> Generator[Any, Any, Any]:
        coro, pending = self.coro, self.pending
        while True:
            try:
                sent = yield pending
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:  # a cancellation goes on into the coroutine
                try:
                    pending = coro.throw(exc)
                except StopIteration as stop:
                    return stop.value
            else:
                try:
                    pending = coro.send(sent)
                except StopIteration as stop:
                    return stop.value


class Deliver:
    """Wraps the consumer's callback so the consumer knows its hand-overs (``Delivery``)."""

    __slots__ = ("callback",)

    def __init__(self, callback: Callable[[Message], Awaitable[Any]]) -> None:
        self.callback = callback

    def __call__(self, message: Message) -> Delivery:
        return Delivery(self.callback(message))  # type: ignore[arg-type]


class DeliveringConsumer(Consumer):
    """Faust's aiokafka consumer whose message hand-overs run in place (module docstring)."""

    def __init__(self, *args: Any, callback: Any, **kwargs: Any) -> None:
        super().__init__(*args, callback=Deliver(callback), **kwargs)

    async def wait_first(self, *coros: WaitArgT, timeout: Seconds | None = None) -> WaitResults:
        if timeout is not None:
            return await super().wait_first(*coros, timeout=timeout)
        first = coros[0] if coros else None
        if not isinstance(first, Delivery) or self._must_race():
            return await super().wait_first(*coros)
        try:
            pending = first.coro.send(None)
        except StopIteration as done:
            _discard(coros[1:])
            return WaitResults([first], [done.value], False)
        except BaseException:
            _discard(coros[1:])
            raise
        return await super().wait_first(Resumed(first.coro, pending), *coros[1:])

    def _must_race(self) -> bool:
        return self.suspend_flow.is_set() or self._stopped.is_set() or self._crashed.is_set()


def _discard(waitables: tuple[WaitArgT, ...]) -> None:
    """Close the coroutines that will not be awaited (no "never awaited" warning)."""
    for waitable in waitables:
        close = getattr(waitable, "close", None)
        if callable(close):
            close()


def use_delivering_consumer(app: faust.App) -> None:
    """Make ``app`` build its consumer as a ``DeliveringConsumer``; call before it starts.

    Only for Faust's aiokafka transport (the one ``kafka://`` brokers use), which it extends.
    """
    transport = app.transport
    if transport.Consumer is Consumer:
        transport.Consumer = DeliveringConsumer  # type: ignore[misc]
