"""track_institutions: keeps the institution registry (a GlobalTable) current.

Limits are judged against an institution's latest record, and licensing checks need to know
every institution, so this runs before any score matters; other agents wait for it to catch
up when they meet an institution it has not seen yet (``WorkerContext.await_institution``).
"""

from __future__ import annotations

import time

import faust
import orjson
from faust.types import StreamT

from models import Feed, Institution, Partition
from stream.agents._context import WorkerContext
from stream.agents._scoring import Received, accept, emit, fail
from stream.codecs import DeadLetter


def register(app: faust.App, ctx: WorkerContext) -> None:
    @app.agent(ctx.topics.feeds[str(Feed.INSTITUTIONS)], name="track_institutions", concurrency=1)
    async def track_institutions(stream: StreamT[bytes]) -> None:
        async for event in stream.events():
            started = time.perf_counter()
            received = Received.of(event, check_key=True)
            try:
                record = accept(ctx, Feed.INSTITUTIONS, received, count=True)
                if isinstance(record, DeadLetter):
                    await ctx.dead_letters.send(str(Feed.INSTITUTIONS), record)
                elif isinstance(record, Institution):
                    await _track(ctx, record, received)
            except Exception as exc:
                await fail(ctx, Feed.INSTITUTIONS, [received], exc)
            finally:
                origin = received.origin
                ctx.registry_progress[origin.partition] = origin.offset + 1
                ctx.metrics.processing_seconds.labels(str(Feed.INSTITUTIONS)).observe(
                    time.perf_counter() - started
                )
                ctx.metrics.last_processed.labels(str(Feed.INSTITUTIONS)).set(time.time())


async def _track(ctx: WorkerContext, record: Institution, received: Received) -> None:
    ctx.registry.put(record, _doc(received))
    section = ctx.state.section()
    try:
        outcome = ctx.engine.process(
            record,
            store=ctx.store(received.origin.partition, section),
            registry=ctx.registry.as_of(record.event_time),
            partition=Partition.FEED,
        )
        failed = await emit(ctx, Feed.INSTITUTIONS, outcome, {record.event_id: received})
    finally:
        section.release()
    if not failed:
        ctx.metrics.events.labels(str(Feed.INSTITUTIONS), "ok").inc()


def _doc(received: Received) -> dict[str, object]:
    doc: dict[str, object] = orjson.loads(received.raw)
    return doc
