"""``AlertMetrics(registry)``: what the alert lifecycle counts, defined once for the package."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

from models import Category, Severity


class AlertMetrics:
    """Alerts opened, resolved and deduplicated, labelled by closed sets only.

    Every known label set is touched at construction so dashboards see zeros, not gaps.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        self.opened = Counter(
            "fenghuo_alerts_opened_total",
            "Alerts opened (a new alert for a dedup key).",
            ["category", "severity"],
            registry=registry,
        )
        self.resolved = Counter(
            "fenghuo_alerts_resolved_total",
            "Alerts resolved (condition cleared or quiet period elapsed).",
            ["category"],
            registry=registry,
        )
        self.deduplicated = Counter(
            "fenghuo_alerts_deduplicated_total",
            "Findings merged into an alert already open for their dedup key.",
            ["category"],
            registry=registry,
        )
        for category in Category:
            self.resolved.labels(category=category)
            self.deduplicated.labels(category=category)
            for severity in Severity:
                self.opened.labels(category=category, severity=severity)
