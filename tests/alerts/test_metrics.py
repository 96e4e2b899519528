"""AlertMetrics: names, labels, and the known label sets touched at start."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from alerts import AlertMetrics


def test_known_label_sets_start_at_zero() -> None:
    registry = CollectorRegistry()
    AlertMetrics(registry)
    value = registry.get_sample_value
    assert value("fenghuo_alerts_opened_total", {"category": "wash_trade", "severity": "low"}) == 0
    assert value("fenghuo_alerts_resolved_total", {"category": "model_drift"}) == 0
    assert value("fenghuo_alerts_deduplicated_total", {"category": "holder_limit"}) == 0


def test_each_registry_gets_its_own_counters() -> None:
    first, second = CollectorRegistry(), CollectorRegistry()
    AlertMetrics(first).resolved.labels(category="wash_trade").inc()
    AlertMetrics(second)
    assert first.get_sample_value("fenghuo_alerts_resolved_total", {"category": "wash_trade"}) == 1
    assert second.get_sample_value("fenghuo_alerts_resolved_total", {"category": "wash_trade"}) == 0
