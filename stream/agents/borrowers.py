"""score_borrowers: borrower-side detectors (many lenders, ML risk scores) in micro-batches.

Loans arrive re-keyed by borrower_id. ML detectors score a batch at once (``detect_batch``), so the
stream is taken in batches of whatever has arrived, at most ``ml.batch_size`` loans: a lone loan at
low load is scored within 10 ms, not held for a timer; only under a backlog does a batch wait (at
most ``ml.batch_within_seconds``) to fill up. Each state change lands on the changelog partition of
the loan that caused it.
"""

from __future__ import annotations

import time
from typing import Any

import faust
from faust.types import EventT, StreamT

from models import Feed, FeedEvent, Loan, Partition
from stream.agents._batching import arrived
from stream.agents._context import WorkerContext
from stream.agents._scoring import Received, accept, emit, fail, observe_batch
from stream.codecs import DeadLetter


def register(app: faust.App, ctx: WorkerContext) -> None:
    ml = ctx.settings.ml

    @app.agent(ctx.topics.loans_by_borrower, name="score_borrowers", concurrency=1)
    async def score_borrowers(stream: StreamT[bytes]) -> None:
        async for batch in arrived(stream, ml.batch_size, fill_seconds=ml.batch_within_seconds):
            await score_batch(ctx, batch)


async def score_batch(ctx: WorkerContext, batch: list[EventT[Any]]) -> None:
    """Score one micro-batch; bad or failing messages are dead-lettered, never dropped.

    ML detectors score the whole batch in one call (per-loan calls cost 20 times more); state
    keys are borrower ids, the message keys, so each goes to its message's partition.
    """
    started = time.perf_counter()
    items: list[tuple[FeedEvent, Received]] = []
    for event in batch:
        received = Received.of(event, check_key=False)
        try:
            accepted = accept(ctx, Feed.LOANS, received, count=False)
            if isinstance(accepted, DeadLetter):
                await ctx.dead_letters.send(str(Feed.LOANS), accepted)
            elif accepted is not None:
                items.append((accepted, received))
        except Exception as exc:
            await fail(ctx, Feed.LOANS, [received], exc)
    if items:
        section = ctx.state.section()
        try:
            events = [event for event, _ in items]
            key_partitions = {
                event.borrower_id: received.origin.partition
                for event, received in items
                if isinstance(event, Loan)
            }
            with ctx.metrics.scoring_seconds.labels(str(Partition.BORROWER)).time():
                outcome = ctx.engine.process_batch(
                    events,
                    store=ctx.state.store(
                        items[0][1].origin.partition, key_partitions, section=section
                    ),
                    registry=ctx.registry.as_of(max(event.event_time for event in events)),
                    partition=Partition.BORROWER,
                )
            await emit(ctx, Feed.LOANS, outcome, {e.event_id: r for e, r in items})
        except Exception as exc:
            await fail(ctx, Feed.LOANS, [r for _, r in items], exc)
        section.release()
    observe_batch(ctx, str(Feed.LOANS), len(batch), started)
