from __future__ import annotations

import asyncio
from typing import Any

import faust
import pytest

from stream.agents._batching import arrived


def run(max_events: int, values: list[bytes]) -> tuple[list[list[bytes]], list[Any], list[bool]]:
    """Batches an agent saw, its events, and whether each was acked while the agent held it."""
    app = faust.App("test-batching", value_serializer="raw", autodiscover=False)
    topic = app.topic("batching-source", value_serializer="raw")
    batches: list[list[bytes]] = []
    held: list[Any] = []
    acked_while_held: list[bool] = []

    @app.agent(topic)
    async def take(stream: Any) -> None:
        async for batch in arrived(stream, max_events):
            batches.append([event.value for event in batch])
            held.extend(batch)
            acked_while_held.extend(event.message.acked for event in batch)

    async def main() -> None:
        async with take.test_context() as agent:
            for value in values:
                await agent.put(value)
            for _ in range(200):
                if sum(map(len, batches)) == len(values):
                    break
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.05)  # the last batch is acked when the agent asks for more

    asyncio.run(main())
    return batches, held, acked_while_held


def test_every_message_arrives_once_in_order_in_batches_no_larger_than_the_maximum() -> None:
    values = [str(n).encode() for n in range(7)]

    batches, _, _ = run(2, values)

    assert [value for batch in batches for value in batch] == values
    assert max(map(len, batches)) <= 2


def test_events_are_acked_only_after_the_agent_is_done_with_their_batch() -> None:
    _, held, acked_while_held = run(3, [b"a", b"b", b"c", b"d"])

    assert acked_while_held == [False] * 4
    assert [event.message.acked for event in held] == [True] * 4


def test_a_batch_of_nothing_is_refused() -> None:
    async def take() -> None:
        async for _ in arrived(object(), 0):  # type: ignore[arg-type]
            pass

    with pytest.raises(ValueError, match="at least 1"):
        asyncio.run(take())
