"""score_borrowers: borrower-side detectors (many lenders, ML risk scores) in micro-batches.

Loans arrive re-keyed by borrower_id. ML detectors score a batch at once (``detect_batch``),
so the stream is taken ``ml.batch_size`` messages at a time, or whatever came within
``ml.batch_within_seconds``. A batch is scored per source partition, so state changes land on
the changelog partition of the loans that caused them.
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

import faust
from faust.types import EventT, StreamT

from models import Feed, FeedEvent, Partition
from stream.agents._context import WorkerContext
from stream.agents._scoring import Received, accept, emit, fail
from stream.codecs import DeadLetter


def register(app: faust.App, ctx: WorkerContext) -> None:
    ml = ctx.settings.ml

    @app.agent(ctx.topics.loans_by_borrower, name="score_borrowers", concurrency=1)
    async def score_borrowers(stream: StreamT[bytes]) -> None:
        async for batch in stream.take_events(ml.batch_size, within=ml.batch_within_seconds):
            await score_batch(ctx, batch)


async def score_batch(ctx: WorkerContext, batch: list[EventT[Any]]) -> None:
    """Score one micro-batch; bad or failing messages are dead-lettered, never dropped."""
    started = time.perf_counter()
    by_partition: dict[int, list[tuple[FeedEvent, Received]]] = defaultdict(list)
    for event in batch:
        received = Received.of(event, check_key=False)
        try:
            accepted = accept(ctx, Feed.LOANS, received, count=False)
            if isinstance(accepted, DeadLetter):
                await ctx.dead_letters.send(str(Feed.LOANS), accepted)
            elif accepted is not None:
                by_partition[received.origin.partition].append((accepted, received))
        except Exception as exc:
            await fail(ctx, Feed.LOANS, [received], exc)
    for partition, items in sorted(by_partition.items()):
        try:
            outcome = ctx.engine.process_batch(
                [event for event, _ in items],
                store=ctx.store(partition),
                registry=ctx.registry.as_of(max(e.event_time for e, _ in items)),
                partition=Partition.BORROWER,
            )
            await emit(ctx, Feed.LOANS, outcome, {e.event_id: r for e, r in items})
        except Exception as exc:
            await fail(ctx, Feed.LOANS, [r for _, r in items], exc)
    if batch:
        per_message = (time.perf_counter() - started) / len(batch)
        for _ in batch:
            ctx.metrics.processing_seconds.labels(str(Feed.LOANS)).observe(per_message)
