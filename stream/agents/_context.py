"""What every agent is handed: the engine, topics, state, registry, dead letters and metrics.

Built once by ``stream.app.create_app`` and passed to each ``register(app, ctx)``, so a test
builds a fresh app with its own context and nothing lives in module globals.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import faust

from models import FeedEvent, Institution, RiskEngine
from models.ml.drift import DriftMonitor
from stream.agents._alerting import AlertSink
from stream.codecs import RecentIds
from stream.deadletter import DeadLetterWriter
from stream.metrics import StreamMetrics
from stream.outlets import Outlets
from stream.settings import WorkerSettings
from stream.tables import StateSection, StateTables, TableRegistry, TableStateStore
from stream.topics import Topics

log = logging.getLogger(__name__)

#: How often a waiting event looks at the registry again (seconds).
REGISTRY_POLL_SECONDS = 0.05


if TYPE_CHECKING:
    from stream.agents.delivery import Delivery


@dataclass
class WorkerContext:
    app: faust.App
    settings: WorkerSettings
    engine: RiskEngine
    topics: Topics
    outlets: Outlets
    state: StateTables
    registry: TableRegistry
    dead_letters: DeadLetterWriter
    metrics: StreamMetrics
    alerts: AlertSink
    recent: RecentIds
    #: Watches the ML models' inputs and scores; None when ML is off.
    drift: DriftMonitor | None = None
    #: Drains the outbox; None when ``deliver = false``.
    delivery: Delivery | None = None
    #: Next offset to process per institutions partition, kept by ``track_institutions``.
    registry_progress: dict[int, int] = field(default_factory=dict)

    def store(self, partition: int, section: StateSection) -> TableStateStore:
        """State for events of one source partition (its changelog partition), its changed
        keys held by ``section`` until the caller's effects are queued."""
        return self.state.store(partition, section=section)

    def knows_institution(self, event: FeedEvent) -> bool:
        """True when the event needs no wait: a registry record, or a record itself."""
        return isinstance(event, Institution) or self.registry.get(event.institution_id) is not None

    async def await_institution(self, event: FeedEvent) -> None:
        """Give the registry time to learn the institution behind a business event.

        Agents run side by side, so a loan can be read before the record of its brand-new
        lender; judging it then would raise a false ``unlicensed_activity``. When the
        institution is unknown, wait until ``track_institutions`` has read everything the
        broker holds for it, at most ``input.registry_wait_seconds``.
        """
        if self.knows_institution(event):
            return
        deadline = time.monotonic() + self.settings.input.registry_wait_seconds
        try:
            ends = await self._institution_end_offsets()
        except Exception as exc:  # no consumer (test context) or broker hiccup: don't wait
            log.debug("cannot read institution end offsets: %s", exc)
            return
        while time.monotonic() < deadline:
            if self.registry.get(event.institution_id) is not None:
                return
            if all(self.registry_progress.get(p, 0) >= end for p, end in ends.items()):
                return
            await asyncio.sleep(REGISTRY_POLL_SECONDS)

    async def _institution_end_offsets(self) -> dict[int, int]:
        topic = self.topics.feeds["institutions"].get_topic_name()
        consumer = self.app.consumer
        tps = [tp for tp in consumer.assignment() if tp.topic == topic]
        ends = await consumer.highwaters(*tps) if tps else {}
        return {tp.partition: end for tp, end in ends.items()}
