"""The Faust app: ``create_app(settings)`` wires topics, tables and agents into a fresh app.

``faust -A stream.app worker`` needs a module-level ``app``; it is built on first access (from
``WorkerSettings()``), so importing this module opens nothing and tests build their own apps.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from typing import Any

import faust
from prometheus_client import CollectorRegistry

from alerts import AlertMetrics
from models import DetectorParams, Feed, Partition, RiskEngine
from models.catalogue import build_engine
from models.detector import Detector
from models.ml.drift import DriftMonitor
from models.ml.serving import build_drift_monitor, build_ml_detectors, load_configured_bundle
from models.rules_file import load_rules
from stream.agents import MODULES, AlertSink, WorkerContext
from stream.changelog import ChangelogQueue
from stream.codecs import RecentIds
from stream.deadletter import DeadLetterWriter
from stream.metrics import StreamMetrics
from stream.outlets import Outlets
from stream.settings import WorkerSettings, resolve
from stream.tables import (
    ChangelogFlush,
    StateTables,
    TableRegistry,
    declare_registry_table,
    declare_state_tables,
)
from stream.topics import Topics, declare_topics

log = logging.getLogger(__name__)

PRODUCER_BATCH_BYTES = 512 * 1024
PRODUCER_LINGER_SECONDS = 0.005
PRODUCER_BUFFER_MESSAGES = 20_000

#: Which topic feeds the agent that runs the detectors of (feed, partition).
_SOURCE_TOPIC: dict[Partition, str] = {
    Partition.BORROWER: "loans_by_borrower",
    Partition.NETWORK: "guarantee_network",
    Partition.FINDINGS: "findings",
}


def load_params(settings: WorkerSettings) -> DetectorParams:
    """Detector parameters from the rules file; the shipped defaults when there is none.

    A file that exists but is invalid stops start-up with each bad key and its line.
    """
    return load_rules(resolve(settings.rules.path), missing_ok=True)


def load_ml(
    settings: WorkerSettings, params: DetectorParams
) -> tuple[list[Detector], DriftMonitor | None]:
    """The ML detectors and their drift monitor, or none when ML is off or has no model."""
    if not settings.ml.enabled:
        return [], None
    try:
        bundle = load_configured_bundle(settings.ml)
    except Exception as exc:  # a missing model must not stop the rules from running
        log.warning("ML detectors off: cannot load model %s: %s", settings.ml.version, exc)
        return [], None
    monitor = build_drift_monitor(bundle, config=settings.ml, params=params)
    detectors = build_ml_detectors(
        bundle, config=settings.ml, params=params, observer=monitor.observe
    )
    log.info("ML detectors serving model version %s", bundle.version)
    return detectors, monitor


def build_worker_engine(settings: WorkerSettings) -> tuple[RiskEngine, DriftMonitor | None]:
    params = load_params(settings)
    ml, monitor = load_ml(settings, params)
    return build_engine(params, extra=ml), monitor


def table_partitions(engine: RiskEngine, settings: WorkerSettings) -> dict[str, int]:
    """Partitions of each namespace's table: those of the topic its detectors consume."""
    topics = settings.kafka.topics
    found: dict[str, int] = defaultdict(int)
    for det in engine.detectors:
        if det.namespace is None:
            continue
        source = _SOURCE_TOPIC.get(det.partition, str(det.feed))
        if det.partition is Partition.FEED and det.feed is Feed.SYSTEM:
            continue
        found[det.namespace] = max(found[det.namespace], getattr(topics, source).partitions)
    return dict(found)


def create_app(
    settings: WorkerSettings,
    *,
    metrics_registry: CollectorRegistry | None = None,
    engine: RiskEngine | None = None,
) -> faust.App:
    """A Faust app running the whole catalogue on the configured topics.

    ``engine`` replaces the configured catalogue (tests inject detectors); metrics go to
    ``metrics_registry`` (a fresh one when omitted). The app's ``WorkerContext`` is
    ``app.fenghuo``.
    """
    monitor: DriftMonitor | None = None
    if engine is None:
        engine, monitor = build_worker_engine(settings)
    datadir = resolve(settings.data_dir) / settings.kafka.app_id
    # Faust creates the folder itself but not its parents (a fresh checkout has no var/worker).
    datadir.parent.mkdir(parents=True, exist_ok=True)
    app = new_faust_app(settings, settings.kafka.app_id, datadir=str(datadir))
    # Faust holds back all consumption while more than 100 records wait in its producer buffer.
    # The worker's own records bypass it (``stream.outlets``, ``stream.changelog``); what still
    # goes through it (the registry's changelog) must not stall the stream either.
    app.producer.buffer.max_messages = PRODUCER_BUFFER_MESSAGES
    topics = declare_topics(app, settings)
    outlets = Outlets.of(topics)
    registry = metrics_registry or CollectorRegistry()
    metrics = StreamMetrics(registry)
    state = StateTables(declare_state_tables(app, table_partitions(engine, settings)))
    drain_before_commits(app.producer, state.changelog)
    app.sensors.add(ChangelogFlush(state))
    ctx = WorkerContext(
        app=app,
        settings=settings,
        engine=engine,
        topics=topics,
        state=state,
        registry=TableRegistry(declare_registry_table(app)),
        outlets=outlets,
        dead_letters=DeadLetterWriter(outlets.dead_letters, metrics),
        metrics=metrics,
        alerts=AlertSink(settings.alerts, outlets.alerts, metrics, AlertMetrics(registry)),
        recent=RecentIds(settings.input.recent_ids_per_partition),
        drift=monitor,
    )
    metrics.touch(state.tables)
    for module in MODULES:
        module.register(app, ctx)

    @app.on_rebalance_complete.connect  # type: ignore[arg-type]  # faust types it as sync
    async def announce_ready(sender: faust.App, **_: Any) -> None:
        log.info("worker ready: %d partitions assigned", len(sender.consumer.assignment()))

    app.fenghuo = ctx  # type: ignore[attr-defined]
    return app


def new_faust_app(settings: WorkerSettings, app_id: str, *, datadir: str) -> faust.App:
    """A bare Faust app with the worker's transport and processing settings, no agents.

    The worker builds on it (``create_app``), and so does the benchmark's framework floor, so
    both read the broker the same way.
    """
    kafka = settings.kafka
    return faust.App(
        app_id,
        broker=";".join(f"kafka://{host.strip()}" for host in kafka.bootstrap.split(",")),
        broker_credentials=_credentials(settings),
        datadir=datadir,
        key_serializer="raw",
        value_serializer="raw",
        store="memory://",
        web_enabled=False,
        autodiscover=False,
        topic_partitions=kafka.topics.loans.partitions,
        topic_replication_factor=kafka.replication_factor,
        consumer_auto_offset_reset="earliest",
        processing_guarantee="at_least_once",
        table_standby_replicas=0,
        # State and re-keyed events are many small-to-large records: batch them per request
        # instead of paying a broker round trip for each (the default 16 KiB batch holds one
        # lender book).
        producer_max_batch_size=PRODUCER_BATCH_BYTES,
        producer_linger=PRODUCER_LINGER_SECONDS,
        consumer_max_fetch_size=kafka.fetch_bytes_per_partition,
    )


def drain_before_commits(producer: Any, changelog: ChangelogQueue) -> None:
    """Make the producer's ``flush`` first hand on every queued state record and message.

    Faust flushes the producer before committing offsets: its buffer, then aiokafka. The state
    records the commit hook just queued (``ChangelogFlush``) wait in ``changelog``: they are
    drained first. And the buffer's own flush returns as soon as 0.1 s pass without a send,
    its size leaving out the message being sent: it now waits for both, or under load a
    ``kill -9`` lost state the committed offsets stood for. Call before the app starts (the
    buffer's sender task binds its send once).
    """
    buffer = producer.buffer
    flush_atmost, send_pending = buffer.flush_atmost, buffer._send_pending
    sending = 0
    idle = asyncio.Event()

    async def send_counted(fut: Any) -> None:
        nonlocal sending
        sending += 1
        try:
            await send_pending(fut)
        finally:
            sending -= 1
            idle.set()

    async def flush() -> None:
        await changelog.drain(producer)
        while buffer.size or sending:
            if buffer.size:
                await flush_atmost(None)
            else:
                idle.clear()
                await idle.wait()

    buffer._send_pending = send_counted
    buffer.flush = flush


def _credentials(settings: WorkerSettings) -> Any:
    """TLS/SASL of the ``[kafka]`` section (``stream.security``); None for PLAINTEXT."""
    from stream.security import faust_credentials

    return faust_credentials(settings.kafka)


#: Built by ``__getattr__`` on first access (declared, not assigned, so the lookup reaches it).
app: faust.App


def __getattr__(name: str) -> Any:
    """The module-level ``app`` that ``faust -A stream.app`` looks up, built once on demand."""
    if name != "app":
        raise AttributeError(name)
    global app
    app = create_app(WorkerSettings())
    return app


__all__ = ["Topics", "create_app", "load_params"]
