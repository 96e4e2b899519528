"""score_guarantees: runs the guarantor-side detectors and feeds the guarantee network.

Leverage and concentration are judged per guarantor (the feed's key); circles and contagion
need the whole graph, so every valid guarantee also goes to ``guarantee-network``.
"""

from __future__ import annotations

import faust
from faust.types import StreamT

from models import Feed, FeedEvent, Guarantee, Partition
from stream.agents._batching import arrived
from stream.agents._context import WorkerContext
from stream.agents._scoring import Received, score_many


def register(app: faust.App, ctx: WorkerContext) -> None:
    async def forward(event: FeedEvent, received: Received) -> None:
        assert isinstance(event, Guarantee)
        await ctx.outlets.guarantee_network.send(
            key=event.guarantor_id.encode("utf-8"),
            value=received.raw,
            headers=received.headers(),
        )

    @app.agent(ctx.topics.feeds[str(Feed.GUARANTEES)], name="score_guarantees", concurrency=1)
    async def score_guarantees(stream: StreamT[bytes]) -> None:
        async for batch in arrived(stream):
            await score_many(
                ctx, Feed.GUARANTEES, Partition.FEED, batch, check_key=True, forward=forward
            )
