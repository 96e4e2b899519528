"""The worker's agents; each module exposes ``register(app, ctx)`` so every app is built fresh."""

from stream.agents import (
    borrowers,
    delivery,
    drift,
    findings,
    gauges,
    guarantee_network,
    guarantees,
    institutions,
    loans,
    offsets,
    recovery,
    rules,
    state,
    topic_relay,
    trades,
)
from stream.agents._alerting import AlertSink
from stream.agents._context import WorkerContext

#: Registered in this order: the registry first, then the feeds, then the alert stage.
MODULES = (
    institutions,
    loans,
    borrowers,
    guarantees,
    guarantee_network,
    trades,
    findings,
    delivery,
    drift,
    rules,
    state,
    gauges,
    offsets,
    recovery,
    topic_relay,
)

__all__ = ["MODULES", "AlertSink", "WorkerContext"]
