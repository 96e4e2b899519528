"""relay_alert_changes: produces the alert changes the ``alerts`` topic has not acknowledged.

The alert sink produces each change right after committing it and marks it published in the
store's ``topic_outbox`` once the broker has acknowledged it. A worker killed in between (or a
broker that did not answer within the grace) leaves the row unpublished; this relay, at start
and every ``alerts.topic_outbox.relay_interval``, claims such rows past their grace (a lease,
``SKIP LOCKED`` on PostgreSQL, so several workers share the work), produces them in commit
order, marks the acknowledged ones published, and prunes published rows older than the
retention. The topic thus gets every change at least once, with the same CloudEvent id and
bytes each time.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

import faust

from alerts import TopicOutboxConfig
from stream.agents._alerting import AlertSink
from stream.agents._context import WorkerContext
from stream.metrics import StreamMetrics

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RelayPass:
    """What one pass did: rows claimed, produced and acknowledged, pruned; still pending."""

    claimed: int
    relayed: int
    pruned: int
    pending: int


@dataclass
class TopicRelay:
    """Relays unpublished ``topic_outbox`` rows through the sink's producer and store thread."""

    sink: AlertSink
    config: TopicOutboxConfig
    metrics: StreamMetrics
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def run_once(self, now: datetime | None = None) -> RelayPass:
        """One pass: relay due rows (``batch`` at a time, while whole batches come back),
        prune published rows past the retention, sample the pending gauge."""
        async with self._lock:  # the start-up pass and the timer never overlap
            outbox = await self.sink.topic_outbox()
            await self.sink.mark_published(self.sink.take_late_acks())
            claimed = relayed = 0
            while True:
                at = now or datetime.now(UTC)
                records = await self.sink.call_store(
                    lambda at=at: outbox.claim(
                        now=at, limit=self.config.batch, lease=self.config.lease
                    )
                )
                if not records:
                    break
                claimed += len(records)
                acked = await self.sink.publish(records)
                await self.sink.mark_published(acked)
                relayed += len(acked)
                self.metrics.topic_outbox_relayed.inc(len(acked))
                if len(acked) < len(records) or len(records) < self.config.batch:
                    break  # a broker problem waits for the next pass; or nothing more is due
            before = (now or datetime.now(UTC)) - self.config.retention
            pruned = await self.sink.call_store(
                lambda: outbox.prune(before=before, limit=self.config.batch)
            )
            self.metrics.topic_outbox_pruned.inc(pruned)
            pending = await self.sink.call_store(outbox.pending)
            self.metrics.topic_outbox_pending.set(pending)
        if relayed:
            log.warning(
                "relayed %d alert changes the alerts topic had not acknowledged (of %d claimed)",
                relayed,
                claimed,
            )
        return RelayPass(claimed, relayed, pruned, pending)


def register(app: faust.App, ctx: WorkerContext) -> None:
    config = ctx.settings.alerts.topic_outbox
    relay = TopicRelay(ctx.alerts, config, ctx.metrics)

    async def relay_pass(when: str) -> None:
        try:
            await relay.run_once()
        except Exception:  # the next pass tries again; the rows stay unpublished
            log.exception("alert topic relay failed (%s)", when)

    @app.task
    async def relay_alert_changes_at_start() -> None:
        await relay_pass("start")

    @app.timer(config.relay_interval.total_seconds(), name="relay_alert_changes")
    async def relay_alert_changes() -> None:
        await relay_pass("timer")
