"""score_loans: runs the lender-side loan detectors and re-keys loans by borrower.

Lender-side state (books, baselines, chains) lives with the lender's partition; borrower-side
detectors (many lenders, ML) need all loans of a borrower together, hence the forward to
``loans-by-borrower``.
"""

from __future__ import annotations

import faust
from faust.types import StreamT

from models import Feed, FeedEvent, Loan, Partition
from stream.agents._batching import arrived
from stream.agents._context import WorkerContext
from stream.agents._scoring import Received, score_many


def register(app: faust.App, ctx: WorkerContext) -> None:
    async def forward(event: FeedEvent, received: Received) -> None:
        assert isinstance(event, Loan)
        await ctx.outlets.loans_by_borrower.send(
            key=event.borrower_id.encode("utf-8"),
            value=received.raw,
            headers=received.headers(),
        )

    @app.agent(ctx.topics.feeds[str(Feed.LOANS)], name="score_loans", concurrency=1)
    async def score_loans(stream: StreamT[bytes]) -> None:
        async for batch in arrived(stream):
            await score_many(
                ctx, Feed.LOANS, Partition.FEED, batch, check_key=True, forward=forward
            )
