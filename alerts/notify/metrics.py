"""``DeliveryMetrics(registry)``: notifications sent per receiver and channel, and the backlog."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge

CHANNELS = ("webhook", "email", "alertmanager")
#: delivered; failed (will be retried); dead (given up: permanent refusal or too many attempts).
OUTCOMES = ("delivered", "failed", "dead")


class DeliveryMetrics:
    """Counts per notification and channel; labels are closed sets (receiver ids, channels)."""

    def __init__(self, registry: CollectorRegistry, receivers: Iterable[str] = ()) -> None:
        self.deliveries = Counter(
            "fenghuo_alerts_deliveries_total",
            "Notifications handed to a channel, by receiver, channel and outcome.",
            ["receiver", "channel", "outcome"],
            registry=registry,
        )
        self.backlog = Gauge(
            "fenghuo_alerts_outbox_backlog",
            "Outbox rows of the configured receivers still to deliver (not delivered, not dead).",
            registry=registry,
        )
        for receiver in receivers:
            for channel in CHANNELS:
                for outcome in OUTCOMES:
                    self.deliveries.labels(receiver, channel, outcome)
