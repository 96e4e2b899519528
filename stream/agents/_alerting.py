"""Findings -> ``alerts.AlertPipeline`` -> CloudEvents on ``alerts``, keyed by dedup key.

The pipeline is synchronous (SQLAlchemy) and not thread-safe, so every call runs on one
dedicated thread, in order: the event loop keeps consuming while the store writes, and a tick
never interleaves with a finding.

The pipeline commits each change with its CloudEvent in the store's ``topic_outbox``; the
sink produces it at once (latency) and marks it published once the broker has acknowledged
it. What a crash or a broker failure leaves unpublished, the relay (``topic_relay``) produces
later: the topic gets every change at least once, with the same bytes each time.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, OperationalError

from alerts import AlertChange, AlertMetrics, AlertPipeline, AlertsConfig
from alerts.store import TopicOutbox, TopicRecord
from models import Finding
from stream.metrics import StreamMetrics
from stream.outlets import Outlet

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Back-off while the alert store is away: 0.5 s, doubled up to 30 s, for as long as it takes.
STORE_RETRY_FIRST_SECONDS = 0.5
STORE_RETRY_MAX_SECONDS = 30.0


class AlertSink:
    """Owns the alert pipeline and produces each change it reports.

    Parameters
    ----------
    config : AlertsConfig
        The pipeline is built from it on first use (it opens and migrates the alert store).
    topic : Faust topic
        ``alerts``: raw bytes, key = dedup key, value = CloudEvent JSON.
    metrics : StreamMetrics
    alert_metrics : AlertMetrics or None
        Handed to the pipeline (alerts opened, deduplicated, resolved).
    """

    def __init__(
        self,
        config: AlertsConfig,
        topic: Outlet,
        metrics: StreamMetrics,
        alert_metrics: AlertMetrics | None = None,
    ) -> None:
        self.config = config
        self.topic = topic
        self.metrics = metrics
        self.alert_metrics = alert_metrics
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="alert-pipeline")
        self._pipeline: AlertPipeline | None = None
        self._outbox: TopicOutbox | None = None
        #: Sends not yet settled, and acknowledgements nobody was waiting for any more, by
        #: (alert_id, revision).
        self._in_flight: dict[tuple[str, int], asyncio.Future[Any]] = {}
        self._late: dict[tuple[str, int], TopicRecord] = {}

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._thread, fn, *args)

    def _open(self) -> AlertPipeline:
        return AlertPipeline.from_config(self.config, metrics=self.alert_metrics, topic_outbox=True)

    async def _ensure_pipeline(self) -> AlertPipeline:
        if self._pipeline is None:
            self._pipeline = await self._call_store(self._open)
            log.info("alert pipeline ready")
        return self._pipeline

    async def topic_outbox(self) -> TopicOutbox:
        """The store's ``topic_outbox``, once the pipeline has opened and migrated the store."""
        if self._outbox is None:
            self._outbox = TopicOutbox(await self.store_engine())
        return self._outbox

    async def call_store(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a store call on the pipeline's thread, waiting out an outage (below)."""
        return await self._call_store(fn, *args)

    async def _call_store(self, fn: Callable[..., T], *args: Any) -> T:
        """Call the store, waiting out an outage (locked, refused, dropped connection).

        Dead-lettering a finding because the store is away would lose its alert; waiting holds
        the partition instead (its offset is not committed), and the transaction that failed
        was rolled back, so trying again is safe.
        """
        delay = STORE_RETRY_FIRST_SECONDS
        while True:
            try:
                return await self._call(fn, *args)
            except (OperationalError, InterfaceError) as exc:
                log.warning(
                    "alert store unavailable (%s); retrying in %.1f s", type(exc).__name__, delay
                )
                self.metrics.store_retries.inc()
                await asyncio.sleep(delay)
                delay = min(delay * 2, STORE_RETRY_MAX_SECONDS)

    async def store_engine(self) -> Engine:
        """The alert store's engine, once the pipeline has opened and migrated it."""
        return (await self._ensure_pipeline()).engine

    async def handle(self, findings: Sequence[Finding], *, ingested_at: float | None) -> int:
        """Turn findings into alert changes (one transaction) and produce them."""
        pipeline = await self._ensure_pipeline()
        changes = await self._call_store(pipeline.handle_batch, list(findings))
        await self._produce(changes, ingested_at)
        return len(changes)

    async def tick(self, now: datetime | None = None) -> int:
        """Let the pipeline resolve quiet alerts; produce what changed."""
        pipeline = await self._ensure_pipeline()
        changes = await self._call_store(pipeline.tick, now or datetime.now(UTC))
        await self._produce(changes, None)
        return len(changes)

    async def _produce(self, changes: Sequence[AlertChange], ingested_at: float | None) -> None:
        """Produce the committed changes; mark the acknowledged ones published.

        A change whose produce fails or is not acknowledged within the grace stays
        unpublished for the relay: it is committed already, so the findings are not failed.
        """
        if not changes:
            return
        acked = await self.publish([TopicRecord.of(change) for change in changes])
        for record in acked:
            self.metrics.alerts.labels(record.kind).inc()
            if ingested_at is not None:
                self.metrics.event_to_alert_seconds.observe(max(0.0, time.time() - ingested_at))
        await self.mark_published(acked)

    async def mark_published(self, records: Sequence[TopicRecord]) -> None:
        if records:
            outbox = await self.topic_outbox()
            now = datetime.now(UTC)
            await self._call_store(lambda: outbox.mark_published(records, now=now))

    async def publish(self, records: Sequence[TopicRecord]) -> list[TopicRecord]:
        """Produce ``records`` in order; those the broker acknowledged within the grace.

        The sends are queued first and their acknowledgements awaited together, so a batch
        costs one round trip, not one per record. A record whose send is still in flight in
        this process (the broker slow or away) is not sent again: its pending send is awaited
        instead, so a relay pass during an outage adds no copy; an acknowledgement that comes
        after everyone stopped waiting is kept for ``take_late_acks``.
        """
        waiting: list[tuple[TopicRecord, asyncio.Future[Any]]] = []
        for record in records:
            ident = (record.alert_id, record.revision)
            ack = self._in_flight.get(ident)
            if ack is None:
                try:
                    sent = await self.topic.send(
                        key=record.key.encode("utf-8"),
                        value=record.value.encode("utf-8"),
                    )
                except Exception as exc:  # the rest waits for the relay, in order
                    log.warning(
                        "producing %s failed (%s); left to the relay", record.cloudevent_id, exc
                    )
                    break
                ack = asyncio.ensure_future(sent)
                self._in_flight[ident] = ack
                ack.add_done_callback(functools.partial(self._settled, record))
            waiting.append((record, ack))
        if not waiting:
            return []
        # asyncio.wait cancels nothing: a send outliving the grace stays in flight.
        grace = self.config.topic_outbox.grace.total_seconds()
        await asyncio.wait([ack for _, ack in waiting], timeout=grace)
        acked: list[TopicRecord] = []
        for record, ack in waiting:
            if _acknowledged(ack):
                acked.append(record)
                self._late.pop((record.alert_id, record.revision), None)
            else:
                failure = ack.exception() if ack.done() and not ack.cancelled() else "timeout"
                log.warning(
                    "%s not acknowledged (%s); left to the relay", record.cloudevent_id, failure
                )
        return acked

    def take_late_acks(self) -> list[TopicRecord]:
        """Records acknowledged after their sender stopped waiting: still to mark published."""
        late = list(self._late.values())
        self._late.clear()
        return late

    def _settled(self, record: TopicRecord, ack: asyncio.Future[Any]) -> None:
        ident = (record.alert_id, record.revision)
        if self._in_flight.get(ident) is ack:
            del self._in_flight[ident]
        if _acknowledged(ack):
            self._late[ident] = record

    def close(self) -> None:
        """Close the store and the pipeline thread (at worker shutdown)."""
        if self._pipeline is not None:
            self._thread.submit(self._pipeline.close).result()
        self._thread.shutdown(wait=True)


def _acknowledged(ack: asyncio.Future[Any]) -> bool:
    return ack.done() and not ack.cancelled() and ack.exception() is None
