"""Event-to-alert latency: from the moment a feed event was handed to the producer to the
moment the worker produced the alert it opened (the alert record's Kafka timestamp, which the
worker's producer stamps with its wall clock; both processes share this machine's clock).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from kafka import KafkaConsumer


@dataclass
class AlertTap:
    """Reads the ``alerts`` topic in a thread: (record timestamp s, CloudEvent) pairs."""

    bootstrap: str
    topic: str
    records: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="alert-tap", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        consumer = KafkaConsumer(
            self.topic,
            bootstrap_servers=self.bootstrap,
            group_id=None,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        try:
            while not self._stop.is_set():
                for batch in consumer.poll(timeout_ms=200).values():
                    for record in batch:
                        self.records.append((record.timestamp / 1000, orjson.loads(record.value)))
        finally:
            consumer.close()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)


def opened_latencies(
    alerts: Sequence[tuple[float, dict[str, Any]]], sent_at: Mapping[str, float]
) -> list[float]:
    """Seconds from the triggering event's send to each opened alert's produce.

    The triggering event is the latest sent of the alert's event ids that was sent before the
    alert; only ``opened`` changes count, since an update's event-id sample may omit the event
    that caused it.
    """
    found = []
    for produced, event in alerts:
        if not str(event.get("type", "")).endswith(".opened"):
            continue
        times = [sent_at[i] for i in event["data"].get("event_ids", ()) if i in sent_at]
        before = [t for t in times if t <= produced + 0.001]
        if before:
            found.append(max(0.0, produced - max(before)))
    return found


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile (0..1) by the nearest-rank method; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


def histogram_quantile(buckets: Mapping[float, float], q: float) -> float | None:
    """Prometheus-style quantile of a cumulative histogram (linear within a bucket)."""
    edges = sorted(buckets)
    if not edges or buckets[edges[-1]] <= 0:
        return None
    target = q * buckets[edges[-1]]
    lower, below = 0.0, 0.0
    for edge in edges:
        count = buckets[edge]
        if count >= target:
            if math.isinf(edge):
                return lower
            share = (target - below) / (count - below) if count > below else 0.0
            return lower + (edge - lower) * share
        lower, below = edge, count
    return lower
