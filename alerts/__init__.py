"""Findings -> alerts: dedup, routing, lifecycle, durable store (SQLAlchemy), metrics.

pipeline = AlertPipeline.from_config(AlertsConfig())
for change in pipeline.handle(finding):
    publish(change.dedup_key, change.cloudevent())
"""

from alerts.alert import ACTIVE_STATUSES, Alert, AlertChange, AlertStatus, ChangeKind
from alerts.cases import CaseWorkflow
from alerts.config import AlertsConfig, EscalationLevel, StoreConfig, TopicOutboxConfig
from alerts.dedup import dedup_key, finding_key
from alerts.errors import (
    AlertNotFound,
    AlertsError,
    InvalidCursor,
    InvalidSilence,
    InvalidTransition,
    RoutingConfigError,
    SilenceNotFound,
    StaleAlert,
    StoreConflict,
)
from alerts.metrics import AlertMetrics, AlertStoreCollector
from alerts.pipeline import AlertPipeline
from alerts.routing import RouteMatch, RoutingTree, routing_labels
from alerts.silences import Silence, Silences
from alerts.store import (
    AlertFilter,
    AlertRepository,
    HistoryEntry,
    OutboxItem,
    Page,
    make_engine,
    migrate,
    writer,
)

__all__ = [
    "ACTIVE_STATUSES",
    "Alert",
    "AlertChange",
    "AlertFilter",
    "AlertMetrics",
    "AlertNotFound",
    "AlertPipeline",
    "AlertRepository",
    "AlertStatus",
    "AlertStoreCollector",
    "AlertsConfig",
    "AlertsError",
    "CaseWorkflow",
    "ChangeKind",
    "EscalationLevel",
    "HistoryEntry",
    "InvalidCursor",
    "InvalidSilence",
    "InvalidTransition",
    "OutboxItem",
    "Page",
    "RouteMatch",
    "RoutingConfigError",
    "RoutingTree",
    "Silence",
    "SilenceNotFound",
    "Silences",
    "StaleAlert",
    "StoreConfig",
    "StoreConflict",
    "TopicOutboxConfig",
    "dedup_key",
    "finding_key",
    "make_engine",
    "migrate",
    "routing_labels",
    "writer",
]
