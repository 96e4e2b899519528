"""``AlertMetrics(registry)``: what the alert lifecycle counts, defined once for the package."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, and_, func, select
from sqlalchemy.exc import SQLAlchemyError

from alerts.store.tables import ACTIVE, alert_routes, alerts, outbox
from models import Category, Severity
from models.categories import FUJIAN_PREFECTURES

log = logging.getLogger(__name__)

#: Fujian's prefecture codes (domain.md): the only ``region`` label values besides these two.
REGIONS: tuple[str, ...] = FUJIAN_PREFECTURES
NO_REGION, OTHER_REGION = "none", "other"


def region_label(region_code: str | None) -> str:
    """A closed label value: the prefecture code, ``none`` when unknown, ``other`` outside."""
    if not region_code:
        return NO_REGION
    return region_code if region_code in REGIONS else OTHER_REGION


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
        self.opened_by_region = Counter(
            "fenghuo_alerts_opened_by_region_total",
            "Alerts opened, by category and prefecture (region_code; none, other).",
            ["category", "region"],
            registry=registry,
        )
        self.routed = Counter(
            "fenghuo_alerts_routed_total",
            "Alerts opened, by receiver (agency or division) the routing tree chose.",
            ["receiver", "severity"],
            registry=registry,
        )
        for category in Category:
            self.resolved.labels(category=category)
            self.deduplicated.labels(category=category)
            for severity in Severity:
                self.opened.labels(category=category, severity=severity)
            for region in (*REGIONS, NO_REGION, OTHER_REGION):
                self.opened_by_region.labels(category=category, region=region)


class AlertStoreCollector(Collector):
    """Gauges read from the alert store at scrape time: open alerts and the outbox.

    The store is the truth shared by every worker and API replica, so these are right after a
    restart, where counters would start again from zero. ``receivers`` (the routing tree's) are
    always exported, at zero when they have nothing, so dashboards see zeros, not gaps.
    """

    def __init__(self, engine: Engine, receivers: Iterable[str] = ()) -> None:
        self.engine = engine
        self.receivers = sorted(receivers)

    def collect(self) -> Iterator[Metric]:
        try:
            return iter(self._read())
        except SQLAlchemyError as exc:  # a scrape must not fail because the store is away
            log.warning("alert store metrics not read: %s", exc)
            return iter(())

    def _read(self) -> list[Metric]:
        open_by = GaugeMetricFamily(
            "fenghuo_alerts_open",
            "Open (not resolved) alerts, by category, severity and prefecture.",
            labels=["category", "severity", "region"],
        )
        open_routed = GaugeMetricFamily(
            "fenghuo_alerts_open_by_receiver",
            "Open (not resolved) alerts, by receiver (agency or division) and severity.",
            labels=["receiver", "severity"],
        )
        pending = GaugeMetricFamily(
            "fenghuo_alerts_outbox_pending",
            "Notifications in the outbox still to deliver (not delivered, not dead), by receiver.",
            labels=["receiver"],
        )
        dead = GaugeMetricFamily(
            "fenghuo_alerts_outbox_dead",
            "Notifications given up on (permanent refusal or too many attempts), by receiver.",
            labels=["receiver"],
        )
        failing = GaugeMetricFamily(
            "fenghuo_alerts_outbox_failing",
            "Undelivered notifications whose last attempt failed, by receiver.",
            labels=["receiver"],
        )
        oldest = GaugeMetricFamily(
            "fenghuo_alerts_outbox_oldest_pending_timestamp_seconds",
            "Creation time (Unix seconds) of the oldest undelivered notification, by receiver.",
            labels=["receiver"],
        )
        delivered = CounterMetricFamily(
            "fenghuo_alerts_outbox_delivered",
            "Notifications delivered (outbox rows marked delivered), by receiver.",
            labels=["receiver"],
        )
        with self.engine.connect() as conn:
            regions: dict[tuple[str, str, str], int] = {}
            for category, severity, region_code, count in conn.execute(
                select(alerts.c.category, alerts.c.severity, alerts.c.region_code, func.count())
                .where(ACTIVE)
                .group_by(alerts.c.category, alerts.c.severity, alerts.c.region_code)
            ):
                key = (category, severity, region_label(region_code))
                regions[key] = regions.get(key, 0) + count
            for labels, count in sorted(regions.items()):
                open_by.add_metric(list(labels), count)
            routed = {(r, str(s)): 0 for r in self.receivers for s in Severity}
            for receiver, severity, count in conn.execute(
                select(alert_routes.c.receiver, alerts.c.severity, func.count())
                .join(alerts, alerts.c.alert_id == alert_routes.c.alert_id)
                .where(ACTIVE)
                .group_by(alert_routes.c.receiver, alerts.c.severity)
            ):
                routed[(receiver, severity)] = count
            for (receiver, severity), count in sorted(routed.items()):
                open_routed.add_metric([receiver, severity], count)
            undelivered = and_(outbox.c.delivered_at.is_(None), outbox.c.dead_at.is_(None))
            rows = conn.execute(
                select(
                    outbox.c.receiver,
                    func.count().filter(undelivered),
                    func.count().filter(undelivered, outbox.c.attempts > 0),
                    func.min(outbox.c.created_at).filter(undelivered),
                    func.count().filter(outbox.c.delivered_at.is_not(None)),
                    func.count().filter(outbox.c.dead_at.is_not(None)),
                ).group_by(outbox.c.receiver)
            ).all()
        by_receiver = {r: (0, 0, None, 0, 0) for r in self.receivers}
        by_receiver.update({row[0]: tuple(row[1:]) for row in rows})
        for receiver, (waiting, failed, first, done, gone) in sorted(by_receiver.items()):
            pending.add_metric([receiver], waiting)
            failing.add_metric([receiver], failed)
            delivered.add_metric([receiver], done)
            dead.add_metric([receiver], gone)
            if first is not None:
                oldest.add_metric([receiver], first.timestamp())
        return [open_by, open_routed, pending, failing, oldest, delivered, dead]
