"""score_trades: venue rules, wash trades and price/volume baselines, per product."""

from __future__ import annotations

import faust
from faust.types import StreamT

from models import Feed, Partition
from stream.agents._batching import arrived
from stream.agents._context import WorkerContext
from stream.agents._scoring import score_many


def register(app: faust.App, ctx: WorkerContext) -> None:
    @app.agent(ctx.topics.feeds[str(Feed.TRADES)], name="score_trades", concurrency=1)
    async def score_trades(stream: StreamT[bytes]) -> None:
        async for batch in arrived(stream):
            await score_many(ctx, Feed.TRADES, Partition.FEED, batch, check_key=True)
