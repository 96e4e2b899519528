"""The worker's consumer hands a message to the streams in place when nothing waits, and through
Faust's race (which a rebalance can interrupt) when it must wait."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from stream.app import create_app, new_faust_app
from stream.consumer import DeliveringConsumer
from stream.settings import WorkerSettings


class Streams:
    """A stand-in for Faust's conductor: records each hand-over, waits when told to."""

    def __init__(self) -> None:
        self.started: list[Any] = []
        self.finished: list[Any] = []
        self.cancelled: list[Any] = []
        self.room = asyncio.Event()
        self.room.set()
        self.fail: Exception | None = None

    async def __call__(self, message: Any) -> str:
        self.started.append(message)
        try:
            await self.room.wait()
        except asyncio.CancelledError:
            self.cancelled.append(message)
            raise
        if self.fail is not None:
            raise self.fail
        self.finished.append(message)
        return f"delivered {message}"


def consumer(tmp_path: Path) -> tuple[DeliveringConsumer, Streams]:
    """A worker-configured consumer (not started) handing over to ``Streams``.

    Built inside the running loop: a service binds the loop it was made in.
    """
    app = new_faust_app(WorkerSettings(), "fenghuo-consumer-test", datadir=str(tmp_path))
    streams = Streams()
    made = app.transport.create_consumer(
        callback=streams, on_partitions_revoked=None, on_partitions_assigned=None
    )
    assert isinstance(made, DeliveringConsumer)
    return made, streams


def deliver(made: DeliveringConsumer, message: str) -> Any:
    """What Faust's consumer loop hands ``wait_first`` for a message."""
    callback: Any = made.callback
    return callback(message)


async def hand_over_without_room(
    made: DeliveringConsumer, streams: Streams, message: str
) -> asyncio.Future[Any]:
    """A hand-over started while the streams have no room: begun, waiting."""
    streams.room.clear()
    waiting = asyncio.ensure_future(
        made.wait_first(deliver(made, message), made.suspend_flow.wait())
    )
    await asyncio.sleep(0.05)
    assert streams.started == [message] and not waiting.done()
    return waiting


def tasks_created(loop: asyncio.AbstractEventLoop) -> list[int]:
    """A counter of the tasks the loop creates from now on."""
    created = [0]
    factory = loop.get_task_factory()

    def counting(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> Any:
        created[0] += 1
        if factory is not None:
            return factory(loop, coro, **kwargs)
        return asyncio.Task(coro, loop=loop, **kwargs)

    loop.set_task_factory(counting)
    return created


def test_a_hand_over_with_room_runs_in_place_without_tasks(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        made, streams = consumer(tmp_path)
        created = tasks_created(asyncio.get_running_loop())
        suspended: Any = made.suspend_flow.wait()

        result = await made.wait_first(deliver(made, "m1"), suspended)

        assert streams.finished == ["m1"]
        assert result.results == ["delivered m1"] and not result.stopped
        assert created == [0]
        assert suspended.cr_frame is None  # closed: it will never be awaited

    asyncio.run(scenario())


def test_a_hand_over_that_must_wait_finishes_once_when_there_is_room(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        made, streams = consumer(tmp_path)
        waiting = await hand_over_without_room(made, streams, "m2")

        streams.room.set()
        result = await asyncio.wait_for(waiting, 5)

        assert streams.started == ["m2"] and streams.finished == ["m2"]
        assert result.results == ["delivered m2"]

    asyncio.run(scenario())


def test_a_waiting_hand_over_is_interrupted_when_the_flow_is_suspended(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        made, streams = consumer(tmp_path)
        waiting = await hand_over_without_room(made, streams, "m3")

        made.suspend_flow.set()
        await asyncio.wait_for(waiting, 5)
        await asyncio.sleep(0)

        assert streams.finished == [] and streams.cancelled == ["m3"]

    asyncio.run(scenario())


@pytest.mark.parametrize("must_wait", [False, True])
def test_a_failing_hand_over_raises_to_the_consumer_loop(tmp_path: Path, must_wait: bool) -> None:
    async def scenario() -> None:
        made, streams = consumer(tmp_path)
        streams.fail = RuntimeError("stream gone")
        if must_wait:
            streams.room.clear()
            asyncio.get_running_loop().call_later(0.05, streams.room.set)

        with pytest.raises(RuntimeError, match="stream gone"):
            await made.wait_first(deliver(made, "m4"), made.suspend_flow.wait())

    asyncio.run(scenario())


def test_while_the_flow_is_suspended_the_hand_over_races_as_in_faust(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        made, _streams = consumer(tmp_path)
        made.suspend_flow.set()
        created = tasks_created(asyncio.get_running_loop())

        await made.wait_first(deliver(made, "m5"), made.suspend_flow.wait())

        assert created[0] >= 2  # Faust's race: a task for each side

    asyncio.run(scenario())


def test_the_worker_app_consumes_with_the_delivering_consumer() -> None:
    app = create_app(WorkerSettings(kafka={"app_id": "fenghuo-consumer-app"}))
    assert isinstance(app.consumer, DeliveringConsumer)
