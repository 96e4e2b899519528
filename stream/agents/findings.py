"""raise_alerts: findings -> composite detectors -> alert pipeline -> ``alerts``.

Composite detectors (institution risk escalation, regional clusters) read findings, not
events; what they find goes through the pipeline like any other finding, and once more through
the composites (a cluster of escalations), but no deeper, so a composite can never feed itself
forever. A periodic tick lets quiet alerts resolve.
"""

from __future__ import annotations

import logging
import time

import faust
import orjson
from faust.types import StreamT

from models import Finding
from stream.agents._context import WorkerContext
from stream.agents._scoring import Received, fail

log = logging.getLogger(__name__)

#: Rounds of composite detection after the original finding.
COMPOSITE_DEPTH = 2
FINDINGS = "findings"


def register(app: faust.App, ctx: WorkerContext) -> None:
    @app.agent(ctx.topics.findings, name="raise_alerts", concurrency=1)
    async def raise_alerts(stream: StreamT[bytes]) -> None:
        async for event in stream.events():
            started = time.perf_counter()
            received = Received.of(event, check_key=False)
            try:
                await alert_on(ctx, received)
            except Exception as exc:
                await fail(ctx, FINDINGS, [received], exc)
            finally:
                ctx.metrics.processing_seconds.labels(FINDINGS).observe(
                    time.perf_counter() - started
                )

    @app.timer(ctx.settings.tick_interval_seconds, name="tick_alerts")
    async def tick_alerts() -> None:
        try:
            await ctx.alerts.tick()
        except Exception:  # a failed tick is retried at the next one
            log.exception("alert tick failed")


async def alert_on(ctx: WorkerContext, received: Received) -> None:
    """Handle one finding from the ``findings`` topic and whatever composites it triggers."""
    try:
        finding = Finding.from_dict(orjson.loads(received.raw))
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        reason = f"not a finding: {type(exc).__name__}: {exc}"
        await ctx.dead_letters.send(FINDINGS, received.letter(reason))
        return
    store = ctx.store(received.origin.partition)
    wave = [finding]
    failures: list[str] = []
    for depth in range(COMPOSITE_DEPTH + 1):
        await ctx.alerts.handle(wave, ingested_at=received.ingested_at)
        if depth == COMPOSITE_DEPTH:
            break
        registry = ctx.registry.as_of(max(item.event_time for item in wave))
        with ctx.metrics.scoring_seconds.labels("findings").time():
            outcome = ctx.engine.process_findings(wave, store=store, registry=registry)
        failures += [failure.reason for failure in outcome.failures]
        for found in outcome.findings:
            ctx.metrics.findings.labels(str(found.category)).inc()
        wave = outcome.findings
        if not wave:
            break
    if failures:
        await ctx.dead_letters.send(FINDINGS, received.letter("; ".join(failures)))
    else:
        ctx.metrics.events.labels(FINDINGS, "ok").inc()
