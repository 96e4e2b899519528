"""sample_gauges: a timer that refreshes consumer lag and table sizes for Prometheus."""

from __future__ import annotations

import logging

import faust

from stream.agents._context import WorkerContext
from stream.tables import REGISTRY_TABLE

log = logging.getLogger(__name__)


def register(app: faust.App, ctx: WorkerContext) -> None:
    @app.timer(ctx.settings.metrics.interval_seconds, name="sample_gauges")
    async def sample_gauges() -> None:
        for namespace, table in ctx.state.tables.items():
            ctx.metrics.table_keys.labels(namespace).set(len(table.data))
        ctx.metrics.table_keys.labels(REGISTRY_TABLE).set(len(ctx.registry))
        try:
            await _sample_lag(app, ctx)
        except Exception as exc:  # lag is best effort; the next tick tries again
            log.debug("consumer lag not sampled: %s", exc)


async def _sample_lag(app: faust.App, ctx: WorkerContext) -> None:
    consumer = app.consumer
    topics = ctx.topics
    consumed = {
        t.get_topic_name()
        for t in (
            *topics.feeds.values(),
            topics.loans_by_borrower,
            topics.guarantee_network,
            topics.findings,
        )
    }
    # Changelog partitions are read only to recover state, so their "lag" is meaningless.
    tps = sorted(tp for tp in consumer.assignment() if tp.topic in consumed)
    if not tps:
        return
    ends = await consumer.highwaters(*tps)
    for tp in tps:
        position = await consumer.position(tp)
        if position is None or tp not in ends:
            continue
        lag = max(0, ends[tp] - position)
        ctx.metrics.consumer_lag.labels(tp.topic, str(tp.partition)).set(lag)
