"""AlertMetrics: names, labels, and the known label sets touched at start."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine, create_engine

from alerts import AlertMetrics, AlertPipeline, AlertStoreCollector, RoutingTree
from alerts.metrics import region_label
from tests.alerts.conftest import FindingFactory


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


@pytest.mark.parametrize(
    ("region_code", "label"),
    [("350500", "350500"), ("350128", "350128"), ("110000", "other"), (None, "none"), ("", "none")],
)
def test_region_label_is_a_prefecture_code_or_a_closed_fallback(
    region_code: str | None, label: str
) -> None:
    assert region_label(region_code) == label


def test_an_opened_alert_counts_by_region_and_by_each_receiver(
    engine: Engine, routing: RoutingTree, finding: FindingFactory
) -> None:
    registry = CollectorRegistry()
    pipeline = AlertPipeline(engine=engine, routing=routing, metrics=AlertMetrics(registry))

    [change] = pipeline.handle(finding())

    value = registry.get_sample_value
    labels = {"category": "usurious_rate", "region": "350500"}
    assert value("fenghuo_alerts_opened_by_region_total", labels) == 1
    assert change.alert.routes
    for receiver in change.alert.routes:
        assert (
            value("fenghuo_alerts_routed_total", {"receiver": receiver, "severity": "medium"}) == 1
        )


def test_store_collector_reads_open_alerts_and_the_outbox(
    engine: Engine, routing: RoutingTree, finding: FindingFactory
) -> None:
    [change] = AlertPipeline(engine=engine, routing=routing).handle(finding())
    registry = CollectorRegistry()
    registry.register(AlertStoreCollector(engine, routing.receivers))
    routed = set(change.alert.routes)
    quiet = sorted(set(routing.receivers) - routed)[0]

    value = registry.get_sample_value
    labels = {"category": "usurious_rate", "severity": "medium", "region": "350500"}
    assert value("fenghuo_alerts_open", labels) == 1
    for receiver in routed:
        assert value(
            "fenghuo_alerts_open_by_receiver", {"receiver": receiver, "severity": "medium"}
        )
        assert value("fenghuo_alerts_outbox_pending", {"receiver": receiver}) == 1
    assert value("fenghuo_alerts_open_by_receiver", {"receiver": quiet, "severity": "medium"}) == 0
    assert value("fenghuo_alerts_outbox_pending", {"receiver": quiet}) == 0
    assert value("fenghuo_alerts_outbox_delivered_total", {"receiver": quiet}) == 0


def test_store_collector_yields_nothing_when_the_store_is_unreachable(tmp_path: Path) -> None:
    gone = create_engine(f"sqlite:///{tmp_path / 'missing' / 'alerts.db'}")
    registry = CollectorRegistry()
    registry.register(AlertStoreCollector(gone, ["coordination"]))

    assert (
        registry.get_sample_value("fenghuo_alerts_outbox_pending", {"receiver": "coordination"})
        is None
    )
