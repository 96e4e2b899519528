"""The worker's Prometheus metrics, defined once; label values come only from closed sets."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from models import Category, Feed

FEEDS: tuple[str, ...] = (
    str(Feed.INSTITUTIONS),
    str(Feed.LOANS),
    str(Feed.GUARANTEES),
    str(Feed.TRADES),
    "findings",
)
OUTCOMES: tuple[str, ...] = ("ok", "dead_lettered", "duplicate")

#: Event ingest to alert produce spans network, state and the alert store: 5 ms … 2 min.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


#: Detector stages: the partitions of models.Partition (a closed set).
SCORING_STAGES = ("feed", "borrower", "network", "findings")
#: One detector call: tens of microseconds (rules) to tens of milliseconds (an ML batch).
SCORING_BUCKETS = (0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1)


#: Batch sizes: one message (quiet) up to the largest batch an agent takes (500).
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 500)


class StreamMetrics:
    """Events by outcome, processing time, findings, end-to-end latency, lag and table sizes."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.events = Counter(
            "fenghuo_stream_events_total",
            "Feed messages consumed, by outcome (ok, dead_lettered, duplicate).",
            ["feed", "outcome"],
            registry=registry,
        )
        self.processing_seconds = Histogram(
            "fenghuo_stream_event_processing_seconds",
            "Time to decode and score one message (a micro-batch counts per message).",
            ["feed"],
            registry=registry,
        )
        self.last_processed = Gauge(
            "fenghuo_stream_last_processed_timestamp_seconds",
            "When the stage last finished a message (Unix time): with lag, a stalled stage.",
            ["feed"],
            registry=registry,
        )
        self.scoring_seconds = Histogram(
            "fenghuo_stream_scoring_seconds",
            "Time the detectors take on one call (an event, or an ML micro-batch), by stage.",
            ["stage"],
            buckets=SCORING_BUCKETS,
            registry=registry,
        )
        for stage in SCORING_STAGES:
            self.scoring_seconds.labels(stage)
        self.findings = Counter(
            "fenghuo_stream_findings_total",
            "Findings emitted by the detectors, by category.",
            ["category"],
            registry=registry,
        )
        self.alerts = Counter(
            "fenghuo_stream_alerts_produced_total",
            "Alert CloudEvents the alert sink produced and the broker acknowledged, by change"
            " kind (the relay's: fenghuo_alerts_topic_outbox_relayed_total).",
            ["kind"],
            registry=registry,
        )
        self.store_retries = Counter(
            "fenghuo_stream_alert_store_retries_total",
            "Alert store calls retried because the store was unavailable (locked, refused).",
            registry=registry,
        )
        self.topic_outbox_pending = Gauge(
            "fenghuo_alerts_topic_outbox_pending",
            "Alert changes committed to the store but not yet acknowledged by the alerts topic"
            " (topic_outbox rows unpublished; sampled by each relay pass).",
            registry=registry,
        )
        self.topic_outbox_relayed = Counter(
            "fenghuo_alerts_topic_outbox_relayed_total",
            "Alert changes the relay produced to the alerts topic because they were still"
            " unpublished after the grace (a crash or broker failure after the commit).",
            registry=registry,
        )
        self.topic_outbox_pruned = Counter(
            "fenghuo_alerts_topic_outbox_pruned_total",
            "Published topic_outbox rows deleted after the retention.",
            registry=registry,
        )
        self.batch_size = Histogram(
            "fenghuo_stream_batch_size",
            "Messages an agent took in one batch (stream.agents._batching), by stage.",
            ["feed"],
            buckets=BATCH_BUCKETS,
            registry=registry,
        )
        self.commit_holes = Counter(
            "fenghuo_stream_commit_holes_total",
            "Partitions read again from their committed offset: offsets never acked stalled"
            " their commits (stream.agents.offsets).",
            registry=registry,
        )
        self.state_repairs = Counter(
            "fenghuo_stream_state_repairs_total",
            "Owners whose derived state (book sums) disagreed with its facts after a recovery"
            " and was rebuilt (stream.agents.recovery).",
            ["table"],
            registry=registry,
        )
        self.event_to_alert_seconds = Histogram(
            "fenghuo_stream_event_to_alert_seconds",
            "Wall time from a feed message's ingest by the worker to the broker's"
            " acknowledgement of its alert.",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.consumer_lag = Gauge(
            "fenghuo_stream_consumer_lag",
            "Messages not yet read, per consumed topic partition.",
            ["topic", "partition"],
            registry=registry,
        )
        self.table_keys = Gauge(
            "fenghuo_stream_table_keys",
            "Keys held in each state table.",
            ["table"],
            registry=registry,
        )

        self.model_info = Gauge(
            "fenghuo_ml_model_info",
            "The ML model version each ML detector serves (always 1).",
            ["model", "version"],
            registry=registry,
        )
        self.drift_psi = Gauge(
            "fenghuo_ml_drift_psi",
            "Population stability index of the last full drift window against training, "
            "per model and watched input (``score``: the model's output).",
            ["model", "input"],
            registry=registry,
        )

    def touch(self, tables: Iterable[str] = ()) -> None:
        """Create every known series at start-up, so dashboards see zeros, not gaps."""
        for feed in FEEDS:
            self.processing_seconds.labels(feed)
            for outcome in OUTCOMES:
                self.events.labels(feed, outcome)
        for category in Category:
            self.findings.labels(str(category))
        for kind in ("opened", "updated", "resolved"):
            self.alerts.labels(kind)
        for table in tables:
            self.table_keys.labels(table)
            self.state_repairs.labels(table)
