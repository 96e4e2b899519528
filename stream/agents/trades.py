"""score_trades: venue rules, wash trades and price/volume baselines, per product."""

from __future__ import annotations

import faust
from faust.types import StreamT

from models import Feed, Partition
from stream.agents._context import WorkerContext
from stream.agents._scoring import score_one


def register(app: faust.App, ctx: WorkerContext) -> None:
    @app.agent(ctx.topics.feeds[str(Feed.TRADES)], name="score_trades", concurrency=1)
    async def score_trades(stream: StreamT[bytes]) -> None:
        async for event in stream.events():
            await score_one(ctx, Feed.TRADES, Partition.FEED, event, check_key=True)
