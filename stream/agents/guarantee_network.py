"""watch_guarantee_network: circles and contagion over the whole guarantee graph.

``guarantee-network`` has one partition, so one agent instance sees every edge.
"""

from __future__ import annotations

import faust
from faust.types import StreamT

from models import Feed, Partition
from stream.agents._batching import arrived
from stream.agents._context import WorkerContext
from stream.agents._scoring import score_many


def register(app: faust.App, ctx: WorkerContext) -> None:
    @app.agent(ctx.topics.guarantee_network, name="watch_guarantee_network", concurrency=1)
    async def watch_guarantee_network(stream: StreamT[bytes]) -> None:
        async for batch in arrived(stream):
            await score_many(ctx, Feed.GUARANTEES, Partition.NETWORK, batch, check_key=False)
