"""raise_alerts: findings -> composite detectors -> alert pipeline -> ``alerts``.

Composite detectors (institution risk escalation, regional clusters) read findings, not
events; what they find goes through the pipeline like any other finding, and once more through
the composites (a cluster of escalations), but no deeper, so a composite can never feed itself
forever. A periodic tick lets quiet alerts resolve.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

import faust
import orjson
from faust.types import StreamT

from models import Finding
from stream.agents._batching import arrived
from stream.agents._context import WorkerContext
from stream.agents._scoring import Received, fail, observe_batch
from stream.tables import StateSection

log = logging.getLogger(__name__)

#: Rounds of composite detection after the original finding.
COMPOSITE_DEPTH = 2
FINDINGS = "findings"


def register(app: faust.App, ctx: WorkerContext) -> None:
    @app.agent(ctx.topics.findings, name="raise_alerts", concurrency=1)
    async def raise_alerts(stream: StreamT[bytes]) -> None:
        async for batch in arrived(stream):
            started = time.perf_counter()
            received = [Received.of(event, check_key=False) for event in batch]
            try:
                await alert_on(ctx, received)
            except Exception as exc:
                await fail(ctx, FINDINGS, received, exc)
            finally:
                observe_batch(ctx, FINDINGS, len(batch), started)

    @app.timer(ctx.settings.tick_interval_seconds, name="tick_alerts")
    async def tick_alerts() -> None:
        try:
            await ctx.alerts.tick()
        except Exception:  # a failed tick is retried at the next one
            log.exception("alert tick failed")


async def alert_on(ctx: WorkerContext, messages: Sequence[Received]) -> None:
    """Handle findings from the ``findings`` topic and whatever composites they trigger.

    Each wave (the findings read, then the composites they caused, then theirs) goes to the
    alert store in one transaction; composites are run finding by finding, so a composite
    detector that fails dead-letters the message whose finding it was judging.
    """
    wave: list[tuple[Finding, Received]] = []
    for received in messages:
        try:
            wave.append((Finding.from_dict(orjson.loads(received.raw)), received))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            reason = f"not a finding: {type(exc).__name__}: {exc}"
            await ctx.dead_letters.send(FINDINGS, received.letter(reason))
    decoded = len(wave)
    section = ctx.state.section()
    try:
        failures = await _waves(ctx, wave, section)
    except Exception:
        section.release()  # the caller dead-letters the messages: their state may be logged
        raise
    # Released once the waves' alerts are in the store; not when the agent is cancelled
    # mid-wave (the messages are read again, and their state must not be logged first).
    section.release()
    for received, reasons in failures.values():
        await ctx.dead_letters.send(FINDINGS, received.letter("; ".join(reasons)))
    ok = decoded - len(failures)
    if ok > 0:
        ctx.metrics.events.labels(FINDINGS, "ok").inc(ok)


async def _waves(
    ctx: WorkerContext, wave: list[tuple[Finding, Received]], section: StateSection
) -> dict[int, tuple[Received, list[str]]]:
    """Store each wave and run the composites on it; the reasons of failed composites."""
    failures: dict[int, tuple[Received, list[str]]] = {}
    for depth in range(COMPOSITE_DEPTH + 1):
        if not wave:
            break
        oldest = min(received.ingested_at for _, received in wave)
        await ctx.alerts.handle([finding for finding, _ in wave], ingested_at=oldest)
        if depth == COMPOSITE_DEPTH:
            break
        found: list[tuple[Finding, Received]] = []
        for finding, received in wave:
            registry = ctx.registry.as_of(finding.event_time)
            with ctx.metrics.scoring_seconds.labels("findings").time():
                store = ctx.store(received.origin.partition, section)
                outcome = ctx.engine.process_findings([finding], store=store, registry=registry)
            if outcome.failures:
                _, reasons = failures.setdefault(id(received), (received, []))
                reasons.extend(failure.reason for failure in outcome.failures)
            for composite in outcome.findings:
                ctx.metrics.findings.labels(str(composite.category)).inc()
                found.append((composite, received))
        wave = found
    return failures
